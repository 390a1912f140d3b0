"""Who a counter concerns: the clients, services, brokers and links behind one node, link or total."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engines.explain.model import Fault, RunFacts


@dataclass
class Scope:
    """The parts of the topology one counter of one subject counts over."""

    facts: RunFacts
    scope: str
    subject: str
    clients: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    brokers: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    def node(self, name: str) -> dict[str, Any]:
        return dict(self.facts.nodes.get(name, {}))

    def transport(self, client: str) -> str:
        return str(self.node(client).get("transport", ""))

    def style(self, client: str) -> str:
        return str(self.node(client).get("style", ""))

    def faults_of(self, names: list[str], *whats: str) -> list[Fault]:
        out = [f for name in names for f in self.facts.of(name, *whats)]
        return sorted(out, key=lambda f: f.t)

    def link_faults(self) -> list[Fault]:
        return self.faults_of(self.links, "cut", "heal", "lossy", "delay")

    def all_faults(self) -> list[Fault]:
        names = self.clients + self.services + self.brokers
        return sorted(self.faults_of(names) + self.link_faults(), key=lambda f: f.t)

    def queue_link(self, service: str) -> dict[str, Any]:
        """The broker->service link's settings (its queue), or {}."""
        for b in self.facts.upstream(service):
            if self.facts.kind(b) == "broker":
                return dict(self.facts.links.get(f"{b}->{service}", {}))
        return {}

    def brokered(self, service: str) -> bool:
        return any(self.facts.kind(b) == "broker" for b in self.facts.upstream(service))


def _brokers_between(f: RunFacts, clients: list[str], services: list[str]) -> list[str]:
    out = {b for s in services for b in f.upstream(s) if f.kind(b) == "broker"}
    out |= {b for c in clients for b in f.downstream(c) if f.kind(b) == "broker"}
    return sorted(out)


def _path_links(f: RunFacts, names: set[str]) -> list[str]:
    return sorted(k for k, s in f.links.items() if s.get("from") in names and s.get("to") in names)


def scope_of(f: RunFacts, scope: str, subject: str) -> Scope:
    """The clients, services, brokers and links that one node's, link's or the total's counter covers."""
    clients: list[str] = []
    services: list[str] = []
    if scope == "total":
        clients = sorted(k for k in f.nodes if f.kind(k) == "client")
        services = sorted(k for k in f.nodes if f.kind(k) == "service")
    elif scope == "node":
        kind = f.kind(subject)
        if kind == "client":
            clients, services = [subject], f.services_of(subject)
        elif kind == "service":  # a chain's upstream service is found by the dual-write and outbox rules
            clients, services = f.clients_of(subject), [subject]
        elif kind == "broker":
            clients = [c for c in f.upstream(subject) if f.kind(c) == "client"]
            services = [s for s in f.downstream(subject) if f.kind(s) == "service"]
    elif scope in ("link", "chain"):
        name = subject.split(": ", 1)[-1]
        link = f.links.get(name, {})
        a, b = str(link.get("from", "")), str(link.get("to", ""))
        if f.kind(a) == "client":
            clients = [a]
            services = [b] if f.kind(b) == "service" else [s for s in f.services_of(a)]
        elif f.kind(b) == "broker":  # a service publishing on through a broker: the queues its channel feeds
            channel = link.get("channel")
            services = [s for s in f.downstream(b) if f.kind(s) == "service" and (
                channel is None or f.links.get(f"{b}->{s}", {}).get("channel") in (None, channel))]
            services = sorted(set(services) - {a})
        else:
            services = [b]
            clients = sorted({c for s in services for c in f.clients_of(s)})
    brokers = _brokers_between(f, clients, services)
    links = _path_links(f, set(clients) | set(services) | set(brokers))
    return Scope(f, scope, subject, clients, services, brokers, links)

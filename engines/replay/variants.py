"""One logical design over several transports: derive the zmq, amqp and http variants of a topology.

A client keeps its style, rate, count and settings; only its transport
changes, and the links follow:

- to amqp: each client that sends straight to services gets a managed broker
  between them (one broker 'broker' for the topology, a channel per client),
  and a scenario step on a link 'client->service' moves to 'broker->service'
  (the consumer's side, where the message waits).
- from amqp to zmq or http: the broker goes, each client sends straight to
  the services its channel fed; a step on 'broker->service' moves to
  'client->service'. A scenario that acts on the broker itself has no
  equivalent: that variant is refused with the reason.

A variant the transport cannot carry (publish-subscribe over http...) is
refused with the validation's own reason. Expectations are kept only when
every run can be judged by them (a design's `lost == 0` may not hold over
zmq: that is the comparison's point, not a failure), so variants keep none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from engines.topology import topofile
from engines.topology.model import Topology
from engines.topology.problems import Severity, TopologyError

TRANSPORTS = ("zmq", "amqp", "http")
BROKER = "broker"


@dataclass
class Variant:
    transport: str
    topology: Topology | None
    refused: str | None = None  # why this variant cannot be made


def _routes(data: dict[str, Any]) -> dict[str, list[str]]:
    """client -> the services its messages reach (directly or through a broker)."""
    kinds = {n["name"]: n["kind"] for n in data["nodes"]}
    out: dict[str, list[str]] = {}
    for link in data["links"]:
        src, dst = link["from"], link["to"]
        if kinds.get(src) != "client":
            continue
        if kinds.get(dst) == "service":
            out.setdefault(src, []).append(dst)
        elif kinds.get(dst) == "broker":
            out.setdefault(src, []).extend(x["to"] for x in data["links"]
                                           if x["from"] == dst and kinds.get(x["to"]) == "service")
    return out


def derive(topology: Topology, transport: str) -> Variant:
    if transport not in TRANSPORTS:
        return Variant(transport, None, f"unknown transport {transport!r} (one of {', '.join(TRANSPORTS)})")
    data = topofile.to_data(topology)
    kinds = {n["name"]: n["kind"] for n in data["nodes"]}
    brokers = [n for n, k in kinds.items() if k == "broker"]
    routes = _routes(data)
    for step in data.get("scenario", []):
        if step.get("target") in brokers and transport != "amqp":  # noqa: SIM102
            return Variant(transport, None, f"the scenario acts on broker '{step['target']}' "
                                            f"({step.get('action')}), which a {transport} variant does not have")
    already = {n["transport"] for n in data["nodes"] if n["kind"] == "client"} == {transport}
    nodes = [n for n in data["nodes"] if n["kind"] != "broker"]
    for n in nodes:
        if n["kind"] == "client":
            n["transport"] = transport
    links: list[dict[str, Any]] = []
    moved: dict[str, str] = {}
    if already:  # the design itself: keep its links and their settings
        nodes, links = list(data["nodes"]), list(data["links"])
    elif transport == "amqp":
        broker = next(iter(brokers), BROKER)
        if not brokers:  # make room for it between the clients and the services
            for n in nodes:
                if n["kind"] == "service":
                    n["position"] = [float(n.get("position", [0, 0])[0]) + 250, n.get("position", [0, 0])[1]]
        nodes.insert(1, next((n for n in data["nodes"] if n["name"] == broker),
                             {"name": broker, "kind": "broker", "position": [250, 100]}))
        for client, services in routes.items():
            links.append({"from": client, "to": broker, "channel": client})
            for service in services:
                if not any(x["from"] == broker and x["to"] == service for x in links):
                    links.append({"from": broker, "to": service})
                moved[f"{client}->{service}"] = f"{broker}->{service}"
    else:
        for client, services in routes.items():
            for service in services:
                links.append({"from": client, "to": service})
                for b in brokers:
                    moved[f"{b}->{service}"] = f"{client}->{service}"
    scenario = []
    for step in data.get("scenario", []):
        step = dict(step)
        step["target"] = moved.get(step["target"], step["target"])
        scenario.append(step)
    variant = {**data, "name": f"{data['name']}-{transport}", "nodes": nodes, "links": links,
               "scenario": scenario, "expectations": [], "annotations": []}  # groups name nodes it drops
    try:
        plain = json.loads(json.dumps(variant))  # to_data marks some lists for flow style
        loaded = topofile.loads(yaml.safe_dump(plain, sort_keys=False), f"{topology.name} over {transport}")
    except TopologyError as exc:
        reasons = "; ".join(p.message for p in exc.problems if p.severity is Severity.ERROR) or str(exc)
        return Variant(transport, None, reasons)
    return Variant(transport, loaded.topology)

"""Link faults in a run: route the links a fault may touch through proxies, then cut, heal, delay.

Discovery (specs.make_plan) gives every node the real addresses of its peers.
For each link that a fault may touch, this module starts a proxy in front of
the real listener and rewrites, in the plan, the address the downstream side
uses: a client's endpoint of its service or its broker URL, a subscriber's
endpoint of its publisher, a consumer's broker URL. Every other link keeps the
real address and pays nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from engines.faults import LinkProxy, ProxyHub

if TYPE_CHECKING:
    from engines.runtime.events import EventLog
    from engines.runtime.specs import RunPlan

_HOST_PORT = re.compile(r"^(?P<head>(?:tcp://|amqps?://(?:[^@/]*@)?)?)(?P<host>[^:/@]+):(?P<port>\d+)(?P<tail>.*)$")


class LinkFaultError(KeyError):
    """A fault asked for a link that has no proxy in this run."""


def split_address(address: str) -> tuple[str, str, int, str]:
    """'tcp://h:p', 'h:p' or 'amqp://u:pw@h:p/vhost' -> (head, host, port, tail)."""
    match = _HOST_PORT.match(address)
    if not match:
        raise ValueError(f"not a host:port address: {address!r}")
    return match["head"], match["host"], int(match["port"]), match["tail"]


class LinkFaults:
    """The proxies of one run, by link name, and the faults applied to them."""

    def __init__(self, events: EventLog) -> None:
        self.events = events
        self._hub: ProxyHub | None = None
        self.proxies: dict[str, list[LinkProxy]] = {}
        self._by_upstream: dict[tuple[str, str, int], LinkProxy] = {}

    # -- routing ----------------------------------------------------------------------
    def _proxied(self, link: str, address: str | None) -> str | None:
        """The address to use instead of `address` on `link` (one proxy per link and upstream)."""
        if address is None:
            return None
        head, host, port, tail = split_address(address)
        key = (link, host, port)
        proxy = self._by_upstream.get(key)
        if proxy is None:
            if self._hub is None:
                self._hub = ProxyHub()
            proxy = self._hub.add(f"{link}#{len(self.proxies.get(link, []))}", (host, port))
            self._by_upstream[key] = proxy
            self.proxies.setdefault(link, []).append(proxy)
        return f"{head}{proxy.address[0]}:{proxy.port}{tail}"

    def route(self, plan: RunPlan, links: Iterable[str]) -> None:
        """Put a proxy on each of `links`, rewriting the plan's addresses in place."""
        wanted = set(links)
        if not wanted:
            return
        for client, peers in plan.peers.items():
            plan.peers[client] = [
                replace(p, endpoints={k: self._proxied(p.link, v) or v for k, v in p.endpoints.items()},
                        broker_url=self._proxied(p.link, p.broker_url))
                if p.link in wanted else p
                for p in peers
            ]
        for service, streams in plan.inbound.items():
            plan.inbound[service] = [
                replace(s, publisher={k: self._proxied(s.link, v) or v for k, v in s.publisher.items()},
                        broker_url=self._proxied(s.link, s.broker_url))
                if s.link in wanted and (s.publisher or s.broker_url) else s
                for s in streams
            ]
        for link in wanted - set(self.proxies):
            self.events.add("note", None, link=link, note="no proxy: nothing connects over this link")

    # -- faults -----------------------------------------------------------------------
    def _get(self, link: str) -> list[LinkProxy]:
        try:
            return self.proxies[link]
        except KeyError:
            have = ", ".join(sorted(self.proxies)) or "none"
            raise LinkFaultError(f"link '{link}' has no proxy in this run (proxied: {have})") from None

    def cut(self, link: str) -> None:
        for proxy in self._get(link):
            proxy.cut()
        self.events.add("cut", None, link=link)

    def heal(self, link: str) -> None:
        for proxy in self._get(link):
            proxy.heal()
        self.events.add("heal", None, link=link)

    def delay(self, link: str, latency_ms: float, jitter_ms: float = 0.0) -> None:
        for proxy in self._get(link):
            proxy.set_latency(latency_ms, jitter_ms)
        self.events.add("delay", None, link=link, latency_ms=latency_ms, jitter_ms=jitter_ms)

    def lossy(self, link: str, loss: float) -> None:
        for proxy in self._get(link):
            proxy.set_loss(loss)
        self.events.add("lossy", None, link=link, loss=loss)

    def close(self) -> None:
        if self._hub is not None:
            self._hub.close()
            self._hub = None

"""What an explanation is, and the run facts every rule reads (settings, events, counts, IDs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SHOWN_IDS = 5  # message IDs named in an explanation's text (all of them stay in message_ids)


@dataclass(frozen=True)
class Explanation:
    """One counter of one subject, and why it has the value it has.

    scope: "total", "node", "link" or "chain"; subject: the node's name, the link's
    name ('a->b'), "total", or for a chain row 'client: a->b'. message_ids: the IDs
    behind the counter (ids.json), at most engines.trace.ids.LIMIT; story_refs: for each
    of the first IDs, the anchor of its sequence diagram in report.html ('msg-orders-199');
    `labgui trace RUN_DIR ID` tells the same story as text. causes: short names of the
    causes found ("slow-joiner", "crash-before-ack", ...; "unknown" when none was).
    """

    scope: str
    subject: str
    counter: str
    value: int
    text: str
    message_ids: tuple[str, ...] = ()
    story_refs: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.scope, self.subject, self.counter)


@dataclass
class Fault:
    """A fault or state change of the run, on the run's clock (seconds since the first client was ready to send)."""

    t: float
    what: str  # killed, crashed, paused, resumed, restarted, cut, heal, lossy, delay, joined, breaker...
    target: str  # a node or a link
    detail: str = ""

    def at(self) -> str:
        return f"{self.t:.2f} s"


@dataclass
class RunFacts:
    """Everything the rules read. `summary` has the ledger's shape ({"total", "nodes", "links",
    "chains"}): a finished run's summary.json or the live ledger so far."""

    nodes: Mapping[str, Mapping[str, Any]]  # name -> the node's settings (defaults included)
    links: Mapping[str, Mapping[str, Any]]  # 'a->b' -> the link's settings
    summary: Mapping[str, Any]
    faults: Sequence[Fault] = ()
    ids: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # engines.trace.ids.read
    final: bool = True

    def kind(self, name: str) -> str:
        return str(self.nodes.get(name, {}).get("kind", ""))

    def of(self, target: str, *whats: str) -> list[Fault]:
        return [f for f in self.faults if f.target == target and (not whats or f.what in whats)]

    def upstream(self, name: str) -> list[str]:
        return [str(s["from"]) for s in self.links.values() if s.get("to") == name]

    def downstream(self, name: str) -> list[str]:
        return [str(s["to"]) for s in self.links.values() if s.get("from") == name]

    def clients_of(self, service: str) -> list[str]:
        """The clients whose messages reach `service` (directly or through a broker)."""
        out: list[str] = []
        for up in self.upstream(service):
            if self.kind(up) == "client":
                out.append(up)
            elif self.kind(up) == "broker":
                out += [c for c in self.upstream(up) if self.kind(c) == "client"
                        and self._same_channel(c, up, service)]
        return sorted(set(out))

    def _same_channel(self, client: str, broker: str, service: str) -> bool:
        a = self.links.get(f"{client}->{broker}", {}).get("channel")
        b = self.links.get(f"{broker}->{service}", {}).get("channel")
        return a is None or b is None or a == b

    def services_of(self, client: str) -> list[str]:
        out: list[str] = []
        for down in self.downstream(client):
            if self.kind(down) == "broker":
                out += [s for s in self.downstream(down) if client in self.clients_of(s)]
            else:
                out.append(down)
        return sorted(set(out))

    def counts(self, scope: str, subject: str) -> Mapping[str, Any]:
        if scope == "total":
            return dict(self.summary.get("total") or {})
        return dict((self.summary.get(scope + "s") or {}).get(subject) or {})


def n(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def names(items: Sequence[str]) -> str:
    quoted = [f"'{i}'" for i in dict.fromkeys(items)]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


VERBS = {"killed": "was killed", "paused": "was paused", "restarted": "was restarted", "up again": "was up again", "cut": "was cut",
         "healed": "was healed", "heal": "was healed", "lossy": "was made lossy", "delay": "was delayed"}


def when(faults: Sequence[Fault], limit: int = 4) -> str:
    """'was killed at 3.04 s, was restarted at 6.02 s' (the first few)."""
    parts = [f"{VERBS.get(f.what, f.what)} at {f.at()}" + (f" ({f.detail})" if f.detail else "")
             for f in faults[:limit]]
    more = len(faults) - limit
    return ", ".join(parts) + (f" and {more} more time(s)" if more > 0 else "")

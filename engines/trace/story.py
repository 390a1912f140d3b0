"""One message's story: its traced events as steps between lifelines, with the faults of its time.

A step is an arrow (a send from a client to its first hop, a delivery from a
broker to a service, an answer back to the client) or a mark on one lifeline
(a commit, a refused duplicate, a timeout...). Each gets an outcome colour
class: `ok` (acknowledged, committed), `doubt` (no answer: the sender cannot
know), `fail` (timeout, nack, error, a delivery that never reached a commit),
`dup` (a duplicate refused through PROCESSED_MESSAGES).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engines.nodes import records
from engines.nodes import tracefile as tf
from engines.report.periods import FaultPeriod
from engines.topology.model import BrokerNode, Topology
from engines.trace.merge import Trace


class UnknownMessage(ValueError):
    """An ID that does not parse or names no client of the run."""


@dataclass
class Step:
    t: float  # seconds on the run's clock
    node: str  # the node that recorded it
    kind: str  # engines.nodes.tracefile.KIND_NAMES
    src: str
    dst: str  # == src for a mark on one lifeline
    outcome: str  # ok | doubt | fail | dup | info
    attempt: int = 0
    detail: str = ""


@dataclass
class Story:
    id: str
    msg: int
    lifelines: list[str]
    steps: list[Step]
    periods: list[FaultPeriod]
    counted_as: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def path(self) -> list[tuple[str, str]]:
        """The (source, target) hops the message took, for highlighting on a canvas."""
        hops: list[tuple[str, str]] = []
        for s in self.steps:
            if s.src != s.dst and s.kind in ("send", "retry", "deliver") and (s.src, s.dst) not in hops:
                hops.append((s.src, s.dst))
        return hops


def parse_id(text: str, clients: Mapping[str, int]) -> tuple[str, int, int]:
    """'client:seq' -> (client, seq, numeric message ID)."""
    name, sep, seq_text = text.strip().rpartition(":")
    if not sep or not seq_text.isdigit():
        raise UnknownMessage(f"{text!r} is not a message ID; IDs look like CLIENT:SEQ, e.g. shop:42")
    if name not in clients:
        known = ", ".join(sorted(clients)) or "none"
        raise UnknownMessage(f"{text!r}: this run has no client {name!r} (clients: {known})")
    seq = int(seq_text)
    return name, seq, (clients[name] << 32) | seq


def _first_hop(topology: Topology, client: str) -> list[str]:
    return [link.target for link in topology.links_from(client)]


def _upstream(topology: Topology, client: str, service: str) -> str:
    """The node a service got this client's message from: a broker on the way, else the client."""
    for hop in _first_hop(topology, client):
        node = topology.node(hop)
        if isinstance(node, BrokerNode) and any(out.target == service for out in topology.links_from(hop)):
            return hop
    return client


_FAIL_KINDS = {"timeout", "nack", "error", "gave-up"}


def _colour_sends(steps: list[Step]) -> None:
    """A send is `ok` if an answer follows it, `fail` if a timeout/nack/error does, else `doubt`."""
    for i, s in enumerate(steps):
        if s.kind not in ("send", "retry"):
            continue
        s.outcome = "doubt"
        for later in steps[i + 1:]:
            if later.kind in ("send", "retry"):
                break
            if later.kind == "ack" and later.outcome == "ok":
                s.outcome = "ok"
                break
            if later.kind in _FAIL_KINDS:
                s.outcome = "fail"
                break
    for i, s in enumerate(steps):
        if s.kind == "deliver":
            nxt = next((x for x in steps[i + 1:] if x.node == s.node and x.kind in
                        ("commit", "duplicate-refused", "deliver")), None)
            s.outcome = ("ok" if nxt is not None and nxt.kind == "commit" else
                         "dup" if nxt is not None and nxt.kind == "duplicate-refused" else "fail")


def build(trace: Trace, topology: Topology, text_id: str, clients: Mapping[str, int],
          periods: Sequence[FaultPeriod] = (), ids: Mapping[str, Mapping[str, Any]] | None = None,
          status: int | None = None) -> Story:
    """The story of message `text_id` ('client:seq'); `status` is its byte in the client's records."""
    client, seq, msg = parse_id(text_id, clients)
    steps: list[Step] = []
    for i in trace.records_of(msg):
        r = trace.rec[i]
        node = trace.nodes[int(trace.node[i])]
        kind = tf.KIND_NAMES.get(int(r["kind"]), f"kind {int(r['kind'])}")
        flags, attempt, t = int(r["flags"]), int(r["attempt"]), trace.seconds(r["ts"])
        detail = f"batch of {int(r['aux'])}" if flags & tf.F_RANGE and int(r["aux"]) > 1 else ""
        if int(r["cause"]) == msg and int(r["msg"]) != msg:
            mid = int(r["msg"])
            steps.append(Step(t, node, "caused", node, node, "info", attempt,
                              f"downstream message {mid >> 32}:{mid & 0xFFFFFFFF}"))
            continue
        if kind in ("send", "retry"):
            targets = _first_hop(topology, client)
            steps.append(Step(t, node, kind, client, targets[0] if targets else client, "doubt", attempt,
                              detail))
        elif kind == "ack":
            what = "confirm" if flags & tf.F_CONFIRM else "reply" if flags & tf.F_REPLY else "ack"
            targets = _first_hop(topology, client)
            src = targets[0] if targets else client
            if flags & tf.F_REPLY and len(targets) > 1 and 0 <= int(r["aux"]) < len(targets):
                src = targets[int(r["aux"])]
            outcome = "info" if flags & tf.F_NOACK else "ok"
            steps.append(Step(t, node, "ack", src, client, outcome, attempt,
                              what + (" (the request still waits for its reply)" if flags & tf.F_NOACK else "")))
        elif kind == "deliver":
            src = _upstream(topology, client, node)
            red = "redelivered" if flags & tf.F_REDELIVERED else ""
            steps.append(Step(t, node, kind, src, node, "doubt", attempt, ", ".join(x for x in (red, detail) if x)))
        elif kind == "error":
            k = int(r["aux"])
            why = records.ERROR_KINDS[k] if 0 <= k < len(records.ERROR_KINDS) else "other"
            steps.append(Step(t, node, kind, node, node, "fail", attempt, why))
        else:
            outcome = {"commit": "ok", "duplicate-refused": "dup", "in-doubt": "doubt"}.get(kind, "fail")
            steps.append(Step(t, node, kind, node, node, outcome, attempt, detail))
    _colour_sends(steps)
    lifelines = [client]
    for s in steps:
        for n in (s.src, s.dst):
            if n not in lifelines:
                lifelines.append(n)
    counted = [c for c, v in (ids or {}).items() if text_id in set(v.get("ids", ()))]
    story = Story(text_id, msg, lifelines, steps, [], counted)
    if steps:
        lo, hi = steps[0].t, steps[-1].t
        if not any(s.kind == "commit" for s in steps):  # what ended it may come just after
            hi += 1.0
        story.periods = [p for p in periods if p.end >= lo and p.start <= hi
                         and (p.target in lifelines or "->" in p.target)]
    _notes(story, trace, status)
    return story


def _notes(story: Story, trace: Trace, status: int | None) -> None:
    modes = set(trace.modes.values())
    if not trace.nodes:
        story.notes.append("this run has no trace files (made before tracing, or with LAB_TRACE=off)")
    elif not story.steps:
        story.notes.append("no event of this message was traced")
    if "anomalies" in modes:
        story.notes.append("traced in anomalies mode: answers and single deliveries of ordinary "
                           "messages are kept only for a sample of them")
        if status is not None and status & records.ACKED and not any(s.kind == "ack" for s in story.steps):
            story.notes.append("the client's records say it was acknowledged (the time was not traced)")
    if any(trace.dropped.values()):
        full = ", ".join(n for n, d in trace.dropped.items() if d)
        story.notes.append(f"the trace file of {full} filled up; later events there were not recorded")

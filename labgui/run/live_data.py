"""What the run view shows, sampled from the supervisor's thread-safe readers into fixed buffers.

The GUI's one timer calls `sample()` a few times a second; plots and canvas
read the preallocated rings (`RingBuffer`), never the nodes, and never per
message. Per-link rates come from the services' deliveries per client
(`Collector.by_client`: exactly the messages that crossed that link), a
client's link to a broker from the client's own `sent` count. Times are on
the run clock: seconds since the clients started, as the scenario counts.
No Qt here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engines.report.build import QUEUE_GAP_S, gaps_broken
from engines.report.events import fault_events
from engines.report.periods import FaultPeriod, fault_periods
from engines.runtime.events import STATES
from engines.topology import chains

BREAKER_STATES = ("closed", "open", "half-open")  # the gauge 'breaker_state|<link>' of a caller

SAMPLE_S = 0.2
CAPACITY = 900  # 3 minutes at 5 samples a second: about one point per pixel of a plot
RATE_WINDOW = 3  # samples: rates over the last 0.4 s (three samples, two intervals)
# A rate over a window belongs to the window's middle: plotted at its end it would lag the
# fault shading (which is on the run clock exactly) by half the window.
RATE_LAG_S = SAMPLE_S * (RATE_WINDOW - 1) / 2


class RingBuffer:
    """A fixed ring of (t, row) samples; `column(i)` gives them oldest first."""

    def __init__(self, capacity: int, width: int) -> None:
        self.t = np.zeros(capacity)
        self.v = np.full((capacity, max(1, width)), np.nan)
        self.capacity, self.head, self.size = capacity, 0, 0

    def append(self, t: float, row: np.ndarray | list[float]) -> None:
        self.t[self.head] = t
        self.v[self.head, :len(row)] = row
        self.head = (self.head + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def _order(self) -> slice | np.ndarray:
        if self.size < self.capacity:
            return slice(0, self.size)
        order: np.ndarray = np.r_[self.head:self.capacity, 0:self.head]
        return order

    def times(self) -> np.ndarray:
        return self.t[self._order()]

    def column(self, i: int) -> np.ndarray:
        return self.v[self._order(), i]

    def back(self, n: int) -> tuple[float, np.ndarray] | None:
        """The sample `n` steps before the newest (0: the newest), or None."""
        if n >= self.size:
            return None
        i = (self.head - 1 - n) % self.capacity
        return float(self.t[i]), self.v[i]


@dataclass
class NodeFigures:
    """One node's latest figures for the canvas (counts are cumulative over its lives)."""

    state: str = "idle"
    rate: float = 0.0  # clients: IDs sent per second; services: deliveries per second
    totals: dict[str, int] = field(default_factory=dict)
    queues: dict[str, int] = field(default_factory=dict)  # brokers: ready messages per queue
    queues_seen: bool = False  # a broker answered the depth probe lately
    backlog: int = 0  # clients: messages due by their rate and not yet sent
    rate_setting: float = 0.0  # clients: the rate the topology asks for (0: as fast as it can)
    in_flight: int = 0  # services: downstream calls out now (the pile-up of a chain)
    in_flight_peak: int = 0


class LiveSampler:
    """Samples a running supervisor: link counts and rates, errors, node figures, fault periods."""

    def __init__(self, sup: Any) -> None:
        self.sup = sup
        topo = sup.topology
        self.links = [link.key for link in topo.links]
        self.clients = [c.name for c in topo.clients()]
        self.services = [s.name for s in topo.services()]
        self.brokers = [b.name for b in topo.brokers()]
        n = len(self.links)
        # services that make calls downstream (engines.topology.chains): their in-flight calls
        self.callers = sorted({h.source for h in chains.hops(topo) if h.call})
        # columns: link counts (n), link rates (n), errors, timeouts, client backlogs, callers' calls
        self.ring = RingBuffer(CAPACITY, 2 * n + 2 + len(self.clients) + len(self.callers))
        self.col_rate = {key: n + i for i, key in enumerate(self.links)}
        self.col_errors, self.col_timeouts = 2 * n, 2 * n + 1
        self.col_backlog = {name: 2 * n + 2 + i for i, name in enumerate(self.clients)}
        self.col_in_flight = {name: 2 * n + 2 + len(self.clients) + i for i, name in enumerate(self.callers)}
        self.breakers: dict[str, str] = {}  # call link -> "open" / "half-open" while not closed
        self.client_models = {c.name: c for c in topo.clients()}
        self._life: dict[str, tuple[float, int]] = {}  # client -> (run-clock start of life, sent then)
        self._last_state: dict[str, str] = {}
        self.link_faults: dict[str, str] = {}  # link -> "cut", "+500 ms", "lossy" while in force
        self.nodes: dict[str, NodeFigures] = {node.name: NodeFigures() for node in topo.nodes}
        for client in topo.clients():
            self.nodes[client.name].rate_setting = float(client.rate)
        self.link_rates: dict[str, float] = dict.fromkeys(self.links, 0.0)
        self._sources: dict[str, list[tuple[str, str, int]]] | None = None
        self._timeline: list[dict[str, Any]] = []  # every event, on the run clock
        self._new_events: list[dict[str, Any]] = []
        self._seen_events = 0
        self._last_count: dict[str, tuple[float, int]] = {}
        self._boot_seen = 0
        self._boot_began: dict[str, tuple[float, float]] = {}  # broker -> (event-log t, expected s)
        self.boots: dict[str, tuple[float, float]] = {}  # booting broker -> (seconds so far, expected)

    # -- where each link's count comes from -------------------------------------------------
    def _plan_sources(self) -> dict[str, list[tuple[str, str, int]]]:
        """link -> [("service", name, client index) | ("client", name, 0)]."""
        plan = self.sup.plan
        sources: dict[str, list[tuple[str, str, int]]] = {key: [] for key in self.links}
        for client, routes in plan.audience.items():
            index = plan.clients[client]
            for route in routes:
                if route.link in sources:
                    sources[route.link].append(("service", route.service, index))
                if route.client_link != route.link and route.client_link in sources \
                        and ("client", client, 0) not in sources[route.client_link]:
                    sources[route.client_link].append(("client", client, 0))
        # A client's link that reaches no service (a queue nobody consumes) still carries what the
        # client sends: its rate is the client's own, never a made-up 0/s.
        for link in self.sup.topology.links:
            if link.source in self.client_models and not sources.get(link.key):
                sources[link.key] = [("client", link.source, 0)]
        return sources

    # -- sampling ---------------------------------------------------------------------------------
    def run_clock(self) -> float | None:
        origin = self.sup.started_at
        if origin is None:
            return None
        return float((self.sup.ended_at or time.monotonic()) - origin)

    def sample(self, final: bool = False) -> bool:
        """Take one sample; False while the run has no clock or telemetry yet.

        Events wait for the run clock (when the clients start) so the log shows them on
        it; `final` takes them anyway (a run that never got that far).
        """
        sup = self.sup
        if sup.started_at is not None or final:
            self._read_events()
        states = sup.states()
        for name, state in states.items():  # cluster members (rabbit/2) are nodes of the run too
            self.nodes.setdefault(name, NodeFigures()).state = state
        self._boot_progress(states)
        now = self.run_clock()
        metrics = sup.metrics
        if now is None or metrics is None or sup.plan is None:
            return False
        if self._sources is None:
            self._sources = self._plan_sources()
        totals = {name: metrics.totals(name) for name in self.clients + self.services}
        by_client = {name: metrics.by_client(name) for name in self.services}
        counts = np.zeros(len(self.links))
        for i, key in enumerate(self.links):
            for kind, name, index in self._sources[key]:
                if kind == "service":
                    got = by_client[name]
                    counts[i] += got[index] if index < len(got) else 0
                else:
                    counts[i] += totals[name].get("sent", 0)
        errors = sum(totals[c].get("errors", 0) for c in self.clients)
        timeouts = sum(totals[c].get("timeouts", 0) for c in self.clients)
        rates = self._rates(now, counts)
        backlogs = [self._backlog(c, now, totals[c].get("sent", 0)) for c in self.clients]
        in_flight = [float(self._calls(name)) for name in self.callers]
        self.ring.append(now, np.concatenate([counts, rates, [errors, timeouts], backlogs, in_flight]))
        self.link_rates = dict(zip(self.links, rates.tolist(), strict=True))
        self._node_figures(now, totals)
        return True

    def totals_sent(self) -> int:
        """What the clients sent, from the same telemetry as the canvas (not the slower ledger)."""
        return sum(int(self.nodes[c].totals.get("sent", 0)) for c in self.clients)

    def _calls(self, name: str) -> int:
        """A calling service's downstream calls out now, from its current life's gauges; also
        reads its breakers' states (engines.nodes.downstream)."""
        gauges = self.sup.metrics.snapshot(name).get("c", {})
        fig, out = self.nodes[name], 0
        for key, value in gauges.items():
            counter, _, link = key.partition("|")
            if counter == "calls_in_flight":
                out += int(value)
            elif counter == "calls_in_flight_peak":
                fig.in_flight_peak = max(fig.in_flight_peak, int(value))
            elif counter == "breaker_state":
                state = BREAKER_STATES[int(value)] if 0 <= int(value) < len(BREAKER_STATES) else ""
                if state and state != "closed":
                    self.breakers[link] = state
                else:
                    self.breakers.pop(link, None)
        fig.in_flight = out
        return out

    def _backlog(self, name: str, now: float, sent: int) -> float:
        """Messages due by the client's rate but not sent yet: what piles up at a stuck producer.

        The client paces open-loop from the start of its life (engines.nodes.pacer), so a
        producer that cannot send (broker down, peer paused) falls behind by exactly this
        much and catches up once it can. NaN when it is not running or has no rate.
        """
        client, fig = self.client_models[name], self.nodes[name]
        life = self._life.get(name)
        if client.rate <= 0 or life is None or fig.state not in ("ready", "paused"):
            fig.backlog = 0
            return float("nan")
        since, sent_then = life
        if sent_then < 0:  # first sample of this life
            self._life[name] = (since, sent)
            sent_then = sent
        span = max(0.0, now - since)
        if client.duration_s is not None:
            span = min(span, client.duration_s)
        due = int(span * client.rate) + 1
        if client.count is not None:
            due = min(due, client.count - sent_then)
        fig.backlog = max(0, due - (sent - sent_then))
        return float(fig.backlog)

    def _rates(self, now: float, counts: np.ndarray) -> np.ndarray:
        before = self.ring.back(RATE_WINDOW - 1)
        if before is None or now <= before[0]:
            return np.zeros(len(self.links))
        then, row = before
        rates: np.ndarray = np.maximum(0.0, (counts - row[:len(self.links)]) / (now - then))
        return rates

    def _node_figures(self, now: float, totals: dict[str, dict[str, int]]) -> None:
        for name in self.clients + self.services:
            figures = self.nodes[name]
            figures.totals = totals[name]
            done = totals[name].get("sent" if name in self.clients else "delivered", 0)
            then, before = self._last_count.get(name, (now, done))
            if name not in self._last_count:
                self._last_count[name] = (now, done)
            elif now - then >= SAMPLE_S * (RATE_WINDOW - 1) - 1e-3:
                figures.rate = max(0.0, (done - before) / (now - then))
                self._last_count[name] = (now, done)
        monitor = self.sup.queue_depths
        if monitor is not None:
            latest = monitor.latest()
            t0_shift = (self.sup.started_at or 0) - monitor.t0
            for broker in self.brokers:
                rows = {q: v for (b, q), v in latest.items() if b == broker}
                fresh = {q: v for q, v in rows.items() if now - (v[0] - t0_shift) < 1.5}
                self.nodes[broker].queues = {q: int(v[1]) for q, v in rows.items()}
                self.nodes[broker].queues_seen = bool(fresh)

    def _boot_progress(self, states: dict[str, str]) -> None:
        """How far each booting broker is: from its `starting` event (engines.runtime.control)."""
        if not self.brokers:
            return
        events = self.sup.events.since(self._boot_seen)
        self._boot_seen += len(events)
        for e in events:
            if e.get("event") == "starting" and e.get("node") in self.brokers:
                self._boot_began[str(e["node"])] = (float(e["t"]), float(e.get("expect_s") or 0.0))
        now = time.monotonic() - self.sup.events.t0
        self.boots = {name: (max(0.0, now - began[0]), began[1]) for name in self.brokers
                      if states.get(name) == "starting" and (began := self._boot_began.get(name))}

    # -- the timeline -------------------------------------------------------------------------------
    def _read_events(self) -> None:
        events = self.sup.events.since(self._seen_events)
        self._seen_events += len(events)
        self._new_events.extend(events)
        shift = self.shift()
        for e in events:
            kind, node, t = e.get("event"), e.get("node") or e.get("link"), float(e["t"]) - shift
            if kind in ("scenario", "manual") and e.get("link"):
                self._link_event(str(e["link"]), str(e.get("action")), e.get("latency_ms"))
            if kind == "ready" and node in self.client_models and self._last_state.get(node) == "starting":
                self._life[node] = (t, -1)  # a new life's pacer starts now (not a resume after a pause)
            if kind in STATES:
                self._last_state[node] = str(kind)
            self._timeline.append({**e, "t": t})

    def _link_event(self, link: str, action: str, latency_ms: Any) -> None:
        if action == "cut":
            self.link_faults[link] = "cut"
        elif action == "heal":
            self.link_faults.pop(link, None)
        elif action == "delay":
            self.link_faults[link] = f"+{float(latency_ms or 0):g} ms"
        elif action == "lossy":
            self.link_faults[link] = "lossy"

    def take_events(self) -> list[dict[str, Any]]:
        """Events read since the last call (for the event log)."""
        events, self._new_events = self._new_events, []
        return events

    def shift(self) -> float:
        """Event-log time minus run-clock time (both monotonic, different zeros)."""
        origin = self.sup.started_at
        return 0.0 if origin is None else origin - self.sup.events.t0

    def periods(self) -> list[FaultPeriod]:
        """Node and link faults so far, as spans on the run clock (open ones end now), paired
        as the HTML report pairs them: an outage lasts until the node is ready again."""
        now = self.run_clock() or 0.0
        return fault_periods(fault_events(self._timeline), now)

    def members(self, broker: str) -> list[tuple[str, str]]:
        """A clustered broker's members and their states: [('rabbit/1', 'ready'), ...]."""
        prefix = f"{broker}/"
        return [(n, f.state) for n, f in sorted(self.nodes.items()) if n.startswith(prefix)]

    def leaders(self, broker: str) -> dict[str, str | None]:
        """Queue -> its leader member, as the cluster's leader monitor saw it last."""
        clusters = getattr(self.sup, "clusters", None)
        if clusters is None:
            return {}
        return {q: v.leader for q, v in clusters.queues(broker).items()}

    def queue_series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """'broker/queue' -> (run-clock times, ready messages)."""
        monitor = self.sup.queue_depths
        if monitor is None or self.sup.started_at is None:
            return {}
        shift = self.sup.started_at - monitor.t0
        out = {}
        for broker, queue in monitor.queues():
            t, ready = monitor.series(broker, queue)
            # no sample while the broker was down: a gap, not a line through the outage
            out[f"{broker}/{queue}"] = gaps_broken(np.asarray(t, dtype=float) - shift,
                                                   np.asarray(ready, dtype=float), QUEUE_GAP_S)
        return out

    def latency_series(self, node: str, column: str) -> tuple[np.ndarray, np.ndarray]:
        """A node's per-interval latency percentile from the collector's own rings."""
        metrics, origin = self.sup.metrics, self.sup.started_at
        if metrics is None or origin is None:
            return np.zeros(0), np.zeros(0)
        t, v = metrics.series(node, column)
        return t - (origin - metrics.t0), v

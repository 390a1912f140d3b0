"""Supervisor side of telemetry: receive node snapshots, keep time series, write metrics.csv.

Nodes push cumulative snapshots about ten times a second (engines.nodes.telemetry).
A node restarted after a kill starts a new life with counters from zero, so
the collector keeps the last snapshot of every life (by pid) and adds them up;
a client's counters live in its record file and already span its lives.

Every INTERVAL_S the collector samples each node into preallocated ring
buffers (a GUI reads them with `series()` on its own timer, never per
message) and appends the same row to metrics.csv; each link gets the
deliveries committed over it (`link_series()`, rows with state "link"). Latency percentiles in the
series are per interval (from the histogram's growth), not since the start.

With a run token, only the run's nodes get through (engines.runtime.telegate);
whatever is refused or does not parse is counted in `rejected`, never raised:
bad input must not stop the telemetry thread.
"""

from __future__ import annotations

import csv
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import zmq

from engines.ledger.histogram import Histogram, merged
from engines.runtime.diskfull import DiskFull, GuardedFile
from engines.runtime.telegate import Gate

INTERVAL_S = 0.1
COLUMNS = ("sent", "acknowledged", "replies", "retries", "timeouts", "errors", "delivered",
           "processed", "duplicates_suppressed", "p50_latency_ms", "p99_latency_ms")

NodeEvent = Callable[[str, int, str, dict[str, Any]], None]
MAX_MESSAGE_BYTES = 1 << 20  # a snapshot is a few KiB; ZeroMQ drops the connection of a bigger one

GAUGES = {"mailbox_unseen"}  # service counters that are levels (a mail service's unseen mails)


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_map(value: object) -> bool:
    return isinstance(value, dict) and all(_int(v) for v in value.values())


MAX_HISTOGRAM_BYTES = 1 << 20  # an encoded HdrHistogram of this range is a few kB at most


def _valid_metrics(msg: dict[Any, Any]) -> bool:
    """The fields the collector adds up and samples, with the types it relies on."""
    hist = msg.get("h")
    return (
        _int_map(msg.get("c", {})) and all(isinstance(k, str) for k in msg.get("c", {}))
        and isinstance(msg.get("by_client", []), list) and all(map(_int, msg.get("by_client", [])))
        and isinstance(msg.get("ts", 0), (int, float))
        and (hist is None or (isinstance(hist, dict) and isinstance(hist.get("hdr", b""), bytes)
                              and len(hist.get("hdr", b"")) <= MAX_HISTOGRAM_BYTES
                              and _int(hist.get("max", 0))))
    )


def parse(raw: bytes) -> dict[Any, Any] | None:
    """A node's message, or None for anything that is not one (never raises)."""
    try:
        msg = msgpack.unpackb(raw, strict_map_key=False)
    except Exception:  # noqa: BLE001 - msgpack raises many kinds on garbage; all mean "not ours"
        return None
    if not isinstance(msg, dict) or not isinstance(msg.get("node"), str) or not _int(msg.get("pid")):
        return None
    kind = msg.get("t")
    if kind == "event" or (kind == "metrics" and _valid_metrics(msg)):
        return msg
    return None


class Ring:
    """A fixed-size ring of (t, row) samples; `view()` returns them oldest first, copied."""

    def __init__(self, capacity: int, width: int) -> None:
        self.t = np.zeros(capacity)
        self.v = np.full((capacity, width), np.nan)
        self.capacity, self.head, self.size = capacity, 0, 0

    def append(self, t: float, row: list[float]) -> None:
        self.t[self.head] = t
        self.v[self.head] = row
        self.head = (self.head + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def view(self, column: int) -> tuple[np.ndarray, np.ndarray]:
        if self.size < self.capacity:
            return self.t[:self.size].copy(), self.v[:self.size, column].copy()
        order = np.r_[self.head:self.capacity, 0:self.head]
        return self.t[order], self.v[order, column]


class Collector:
    """Owns the PULL socket the nodes push to; thread-safe readers for the GUI and the ledger."""

    def __init__(self, run_dir: Path, kinds: dict[str, str], on_event: NodeEvent,
                 capacity: int = 3000, t0: float | None = None,
                 token: str | None = None, disk: DiskFull | None = None) -> None:
        self.kinds = kinds
        self.on_event = on_event
        # One clock for the whole run: the event log's, so metrics.csv, queues.csv and
        # events.jsonl line up in a report (brokers boot before the collector exists).
        self.t0 = time.monotonic() if t0 is None else t0
        self._lock = threading.Lock()
        self._lives: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in kinds}
        self._rings = {name: Ring(capacity, len(COLUMNS)) for name in kinds}
        self._capacity = capacity
        self._links: dict[str, list[tuple[str, int]]] = {}  # link -> (service, client index)
        self._link_rings: dict[str, Ring] = {}
        self._last_counts: dict[str, Any] = {}  # node -> its histogram's counts at the last sample
        self._decoded: dict[tuple[str, int], tuple[object, Histogram]] = {}  # (node, pid) -> (wire, it)
        self._fresh: set[str] = set()  # nodes that reported since the last sample
        self._steady: dict[str, list[float]] = {}  # each node's last row, without latencies
        self._link_values: dict[str, int] = {}
        self._zctx = zmq.Context(1)
        self._sock = self._zctx.socket(zmq.PULL)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        self._rejected: Counter[str] = Counter()
        self._gate = Gate(self._zctx, self._sock, token, set(kinds)) if token else None
        port = self._sock.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = f"tcp://127.0.0.1:{port}"
        self.disk = disk or DiskFull()  # a full disk stops metrics.csv, not the telemetry thread
        self._csv_file = GuardedFile(open(run_dir / "metrics.csv", "w", newline="",  # noqa: SIM115
                                          encoding="utf-8"), "metrics.csv", self.disk)
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(("t_s", "node", "state", *COLUMNS))
        self._states: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="telemetry", daemon=True)
        self._thread.start()

    # -- receiving ----------------------------------------------------------------
    def _loop(self) -> None:
        next_sample = time.monotonic() + INTERVAL_S
        last_flush = time.monotonic()
        poller = zmq.Poller()
        poller.register(self._sock, zmq.POLLIN)
        for sock in self._gate.sockets if self._gate else ():
            poller.register(sock, zmq.POLLIN)
        while not self._stop.is_set():
            wait = max(0.0, next_sample - time.monotonic())
            for sock, _ in poller.poll(int(wait * 1000)):
                if sock is not self._sock:
                    self._gate.serve(sock)  # type: ignore[union-attr]
                    continue
                for _ in range(1000):
                    try:
                        frame = self._sock.recv(zmq.NOBLOCK, copy=False)
                    except zmq.Again:
                        break
                    self._receive(frame)
            now = time.monotonic()
            if now >= next_sample:
                self._sample(now - self.t0)
                next_sample = now + INTERVAL_S
            if now - last_flush > 1.0:
                self._csv_file.flush()
                last_flush = now

    def _receive(self, frame: zmq.Frame) -> None:
        msg = parse(frame.bytes)
        if msg is None or msg["node"] not in self._lives:
            self._rejected["malformed"] += 1
            return
        node, pid = msg["node"], msg["pid"]
        if self._gate is not None and frame.get("User-Id") != node:
            self._rejected["impostor"] += 1  # a node of the run reporting as another one
            return
        if msg["t"] == "metrics":
            with self._lock:
                self._lives[node][pid] = msg
                self._fresh.add(node)
        else:
            self.on_event(node, pid, str(msg.get("event")), msg)

    def rejected(self) -> dict[str, int]:
        """Telemetry refused so far, by reason: handshake, credentials, malformed, impostor."""
        out = Counter(self._rejected)
        if self._gate is not None:
            out.update(self._gate.rejected)
        return dict(out)

    # -- reading ------------------------------------------------------------------
    def totals(self, node: str) -> dict[str, int]:
        """Cumulative counters of a node over all its lives."""
        with self._lock:
            lives = list(self._lives.get(node, {}).values())
        if not lives:
            return {}
        if self.kinds.get(node) == "client":  # the record file already spans lives
            return dict(max(lives, key=lambda m: m.get("ts", 0)).get("c", {}))
        out: dict[str, int] = {}
        for life in lives:
            for key, value in life.get("c", {}).items():
                out[key] = out.get(key, 0) + int(value)
        latest = max(lives, key=lambda m: m.get("ts", 0)).get("c", {})
        for key in GAUGES.intersection(out):  # a level, not a count: the latest life says it
            out[key] = int(latest.get(key, 0))
        return out

    def by_client(self, service: str) -> list[int]:
        """Deliveries a service committed per client index, over all its lives."""
        with self._lock:
            lives = list(self._lives.get(service, {}).values())
        out: list[int] = []
        for life in lives:
            counts = life.get("by_client", [])
            out.extend([0] * (len(counts) - len(out)))
            for i, c in enumerate(counts):
                out[i] += int(c)
        return out

    def histogram(self, node: str) -> Histogram:
        """A node's latencies over all its lives (a new histogram: the caller may add to it)."""
        return merged(self._decoded_lives(node))

    def _decoded_lives(self, node: str) -> list[Histogram]:
        """Each life's histogram, decoded once per new encoding (shared: read them, never add)."""
        with self._lock:
            lives = list(self._lives.get(node, {}).items())
        out = []
        for pid, life in lives:
            wire = life.get("h")
            key = (wire.get("hdr"), wire.get("max")) if isinstance(wire, dict) else None
            cached = self._decoded.get((node, pid))
            if cached is None or cached[0] != key:
                cached = (key, Histogram.from_wire(wire))
                self._decoded[(node, pid)] = cached
            out.append(cached[1])
        return out

    def snapshot(self, node: str) -> dict[str, Any]:
        """The latest raw snapshot of a node's current life (errors by kind, extras...)."""
        with self._lock:
            lives = list(self._lives.get(node, {}).values())
        if not lives:
            return {}
        latest: dict[str, Any] = max(lives, key=lambda m: m.get("ts", 0))
        return dict(latest)

    def series(self, node: str, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Time (s since start) and values of one column for one node, oldest first."""
        with self._lock:
            return self._rings[node].view(COLUMNS.index(column))

    def set_links(self, links: dict[str, list[tuple[str, int]]]) -> None:
        """Which deliveries make up each link: link key -> [(service, client index)]."""
        with self._lock:
            self._links = dict(links)
            self._link_rings = {key: Ring(self._capacity, 1) for key in links}
            self._link_values = {}

    def link_delivered(self, link: str) -> int:
        """Deliveries committed over a link so far (its live rate is the slope)."""
        return sum(self._delivered_from(service, index) for service, index in self._links.get(link, []))

    def link_series(self, link: str) -> tuple[np.ndarray, np.ndarray]:
        """Time and deliveries committed over one link, oldest first (for a link's live rate)."""
        with self._lock:
            return self._link_rings[link].view(0)

    def _delivered_from(self, service: str, index: int) -> int:
        counts = self.by_client(service)
        return counts[index] if index < len(counts) else 0

    def set_state(self, node: str, state: str) -> None:
        with self._lock:
            self._states[node] = state

    # -- sampling -----------------------------------------------------------------
    def _sample(self, t: float) -> None:
        """One row per node: recomputed for nodes that reported since the last sample, the
        same counts (and no latency: nothing new was timed) for the others, so an idle run
        of a hundred nodes costs the supervisor little."""
        with self._lock:
            fresh, self._fresh = self._fresh, set()
        for node in self.kinds:
            if self.kinds[node] == "broker":
                continue
            row = self._row(node) if node in fresh else self._steady.get(node)
            if row is None:
                continue
            with self._lock:
                self._rings[node].append(t, row)
                state = self._states.get(node, "")
            self._csv.writerow((f"{t:.2f}", node, state,
                                *("" if np.isnan(v) else f"{v:g}" for v in row)))
        self._sample_links(t, fresh)

    def _window_percentiles(self, node: str) -> tuple[float | None, float | None]:
        """p50 and p99 of the latencies recorded since the last sample (None: none recorded)."""
        lives = self._decoded_lives(node)  # one life (the usual case): read as it is, not merged
        hist = lives[0] if len(lives) == 1 else merged(lives)
        counts = np.frombuffer(hist.counts(), dtype=np.int64).copy()
        last = self._last_counts.get(node)
        self._last_counts[node] = counts
        window = counts if last is None else counts - last
        cumulative = np.cumsum(window)
        total = int(cumulative[-1])
        if total <= 0:
            return None, None
        out = []
        for q in (50, 99):
            index = int(np.searchsorted(cumulative, max(1, math.ceil(total * q / 100.0))))
            out.append(min(hist.value_ms(index), hist.max_ms) if hist.max_ns else hist.value_ms(index))
        return out[0], out[1]

    def _row(self, node: str) -> list[float] | None:
        totals = self.totals(node)
        if not totals:
            return None
        p50, p99 = self._window_percentiles(node)
        row = [float(totals.get("sent", np.nan)), float(totals.get("acknowledged", np.nan)),
               float(totals.get("replies", np.nan)), float(totals.get("retries", np.nan)),
               float(totals.get("timeouts", np.nan)), float(totals.get("errors", np.nan)),
               float(totals.get("delivered", np.nan)), float(totals.get("applied", np.nan)),
               float(totals.get("duplicates_suppressed", np.nan)),
               np.nan if p50 is None else p50, np.nan if p99 is None else p99]
        self._steady[node] = [*row[:-2], np.nan, np.nan]
        return row

    def _sample_links(self, t: float, fresh: set[str]) -> None:
        for key, members in list(self._links.items()):
            if key not in self._link_values or any(service in fresh for service, _ in members):
                self._link_values[key] = self.link_delivered(key)
            value = self._link_values[key]
            with self._lock:
                self._link_rings[key].append(t, [float(value)])
            self._csv.writerow((f"{t:.2f}", key, "link", *([""] * 6), value, *([""] * 4)))

    def close(self) -> None:
        """Stop receiving, write the last sample, close the socket and the CSV (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample(time.monotonic() - self.t0)
        self._sock.close()
        if self._gate is not None:
            self._gate.close()
        self._zctx.term()
        self._csv_file.close()

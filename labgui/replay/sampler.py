"""The run view's sampler, fed from a recording instead of a live supervisor.

The canvas (labgui.run.canvas) and the dashboard (labgui.run.dashboard) read
a LiveSampler's rings and figures; this subclass fills the same fields from
engines.replay.recording at whatever t the slider says, so a replay shows the
very picture the live run showed, with no second drawing code. Frames are the
times metrics.csv recorded; the whole matrix is computed once, and a seek
only moves the ring's end.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import numpy as np

from engines.replay.recording import Moment, Recording
from labgui.run.live_data import LiveSampler, RingBuffer

RATE_WINDOW_S = 0.6


class ReplaySampler(LiveSampler):
    def __init__(self, recording: Recording) -> None:
        self.rec = recording
        super().__init__(SimpleNamespace(topology=recording.topology, run_dir=recording.run_dir))
        self.frames = recording.sample_times()
        n, k = len(self.links), len(self.frames)
        self.ring = RingBuffer(max(1, k), 2 * n + 2 + len(self.clients))
        counts = np.zeros((k, n))
        for i, key in enumerate(self.links):
            s = recording.series.get(key)
            if s is not None and len(s.t):
                idx = np.searchsorted(s.t, self.frames, side="right") - 1
                col = np.nan_to_num(s.columns["delivered"])
                counts[:, i] = np.where(idx >= 0, col[np.maximum(idx, 0)], 0.0)
        back = np.maximum(0, np.searchsorted(self.frames, self.frames - RATE_WINDOW_S, side="left"))
        dt = self.frames - self.frames[back] if k else np.zeros(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = np.where(dt[:, None] > 0, (counts - counts[back]) / dt[:, None], 0.0)
        errs = np.zeros((k, 2))
        for name in self.clients:
            s = recording.series.get(name)
            if s is not None and len(s.t):
                idx = np.searchsorted(s.t, self.frames, side="right") - 1
                for j, column in enumerate(("errors", "timeouts")):
                    col = np.nan_to_num(s.columns[column])
                    errs[:, j] += np.where(idx >= 0, col[np.maximum(idx, 0)], 0.0)
        backlog = np.full((k, len(self.clients)), np.nan)
        self.matrix = np.concatenate([counts, np.maximum(rates, 0.0), errs, backlog], axis=1)
        self.t = 0.0
        self.moment: Moment | None = None
        self._shown_events = 0

    # -- moving in time ------------------------------------------------------------------------
    def seek(self, t: float) -> Moment:
        self.t = t
        k = int(np.searchsorted(self.frames, t, side="right"))
        ring = self.ring
        ring.t[:k] = self.frames[:k] - self.rec.origin  # the plots read the run clock
        ring.v[:k, :self.matrix.shape[1]] = self.matrix[:k]
        ring.size, ring.head = k, k % ring.capacity
        n = len(self.links)
        self.link_rates = dict(zip(self.links, (self.matrix[k - 1, n:2 * n] if k else np.zeros(n)).tolist(),
                                   strict=True))
        moment = self.rec.at(t)
        self.moment = moment
        self.link_faults = {}
        for e in moment.events:
            if e.get("event") in ("scenario", "manual") and e.get("link"):
                self._link_event(str(e["link"]), str(e.get("action")), e.get("latency_ms"))
        for name, fig in self.nodes.items():
            fig.state = moment.states.get(name, "idle")
            fig.totals = {k2: int(v) for k2, v in moment.nodes.get(name, {}).items() if "latency" not in k2}
            fig.rate = self._node_rate(name, t)
        for broker in self.brokers:
            self.nodes[broker].queues = {q.split("/", 1)[1]: int(v) for q, v in moment.queues.items()
                                         if q.split("/", 1)[0] == broker}
            self.nodes[broker].queues_seen = bool(self.nodes[broker].queues)
        return moment

    def _node_rate(self, name: str, t: float) -> float:
        s = self.rec.series.get(name)
        if s is None or not len(s.t):
            return 0.0
        column = np.nan_to_num(s.columns["sent" if name in self.clients else "delivered"])
        i, j = s.index_at(t), s.index_at(t - RATE_WINDOW_S)
        if i < 0 or j < 0 or s.t[i] <= s.t[j]:
            return 0.0
        return max(0.0, float(column[i] - column[j]) / float(s.t[i] - s.t[j]))

    def ledger_view(self) -> dict[str, Any]:
        """What the live ledger would give the canvas and the counters at this t."""
        moment = self.moment or self.rec.at(self.t)
        return {"total": dict(moment.totals), "nodes": {k: dict(v) for k, v in moment.nodes.items()}}

    # -- the LiveSampler readers, on the recording -----------------------------------------------
    def sample(self, final: bool = False) -> bool:
        return self.moment is not None

    def run_clock(self) -> float | None:
        return self.t - self.rec.origin

    def shift(self) -> float:
        """Recording time minus run-clock time: what is shown is on the run clock, as live."""
        return self.rec.origin

    def periods(self) -> list[Any]:
        return [replace(p, start=p.start - self.rec.origin, end=p.end - self.rec.origin)
                for p in self.rec.periods(self.t)]

    def take_events(self) -> list[dict[str, Any]]:
        events = self.moment.events if self.moment is not None else []
        new, self._shown_events = events[self._shown_events:], len(events)
        return new

    def rewind_events(self) -> None:
        self._shown_events = 0

    def queue_series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        out = {}
        for name, (qt, qv) in self.rec.queues.items():
            k = int(np.searchsorted(qt, self.t, side="right"))
            out[name] = (qt[:k] - self.rec.origin, qv[:k])
        return out

    def latency_series(self, node: str, column: str) -> tuple[np.ndarray, np.ndarray]:
        s = self.rec.series.get(node)
        if s is None:
            return np.zeros(0), np.zeros(0)
        k = s.index_at(self.t) + 1
        return s.t[:k] - self.rec.origin, s.columns[column][:k]

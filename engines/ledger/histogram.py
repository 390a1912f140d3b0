"""Latency histograms with fixed log buckets: constant memory, mergeable, cheap to add to.

Per-message lists would grow without bound and cost an allocation each; ten
buckets per decade from 1 us to 100 s give percentiles within about 12 percent
(one bucket), which is what a latency plot needs. The exact maximum is kept
on the side. Plain Python (no numpy) so node processes start fast.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

PER_DECADE = 10
MIN_NS = 1_000  # bucket 0 holds everything below 1 us
N_BUCKETS = 2 + 8 * PER_DECADE  # 1 us .. 100 s, then one overflow bucket
_LOG_SCALE = PER_DECADE


def bucket_of(ns: int) -> int:
    """Bucket index of a latency in nanoseconds."""
    if ns < MIN_NS:
        return 0
    i = int(math.log10(ns / MIN_NS) * _LOG_SCALE) + 1
    return i if i < N_BUCKETS else N_BUCKETS - 1


def upper_ms(i: int) -> float:
    """Upper edge of bucket i, in milliseconds."""
    return MIN_NS * 10 ** (i / PER_DECADE) / 1e6


def middle_ms(i: int) -> float:
    """Geometric middle of bucket i, in milliseconds: at most ~12 percent from any value in it."""
    return MIN_NS * 10 ** ((i - 0.5) / PER_DECADE) / 1e6


class Histogram:
    """Counts per bucket plus the exact maximum; `add` is the hot-path call."""

    __slots__ = ("counts", "total", "max_ns")

    def __init__(self) -> None:
        self.counts = [0] * N_BUCKETS
        self.total = 0
        self.max_ns = 0

    def add(self, ns: int, n: int = 1) -> None:
        if ns < 0:
            ns = 0
        self.counts[bucket_of(ns)] += n
        self.total += n
        if ns > self.max_ns:
            self.max_ns = ns

    def merge(self, other: Histogram) -> None:
        for i, c in enumerate(other.counts):
            if c:
                self.counts[i] += c
        self.total += other.total
        self.max_ns = max(self.max_ns, other.max_ns)

    def to_wire(self) -> dict[str, object]:
        """Sparse form for telemetry and files: {"b": {index: count}, "n": total, "max": ns}."""
        return {"b": {i: c for i, c in enumerate(self.counts) if c}, "n": self.total,
                "max": self.max_ns}

    @classmethod
    def from_wire(cls, data: Mapping[str, object] | None) -> Histogram:
        h = cls()
        if not data:
            return h
        buckets = data.get("b") or {}
        assert isinstance(buckets, Mapping)
        for key, count in buckets.items():
            i = int(key)
            if 0 <= i < N_BUCKETS:
                h.counts[i] += int(count)
        h.total = sum(h.counts)
        h.max_ns = int(data.get("max") or 0)  # type: ignore[call-overload]
        return h

    def percentile_ms(self, q: float) -> float | None:
        """The q-th percentile (0..100): the middle of its bucket, capped at the max."""
        if self.total == 0:
            return None
        rank = max(1, math.ceil(self.total * q / 100.0))
        seen = 0
        for i, c in enumerate(self.counts):
            seen += c
            if seen >= rank:
                return min(middle_ms(i), self.max_ms or middle_ms(i))
        return self.max_ms

    @property
    def max_ms(self) -> float:
        return self.max_ns / 1e6


def merged(histograms: Iterable[Histogram]) -> Histogram:
    out = Histogram()
    for h in histograms:
        out.merge(h)
    return out

"""Latency histograms: HdrHistogram with two significant digits, mergeable, cheap to add to.

Why HdrHistogram (the `hdrh` package): a percentile is within 1 % of the true
value from 1 us to 100 s, fine enough to judge a 1.3 x latency ratio (the
fixed log buckets it replaces were 26 % wide), in constant memory, merged
across lives and nodes, and shipped in the standard compressed encoding.
Values are recorded in microseconds; the exact maximum is kept on the side in
nanoseconds. No numpy here: node processes import this and must start fast.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import repeat
from operator import sub
from typing import Any

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 100_000_000  # 100 s; slower ones are counted as 100 s (their exact max is kept)
DIGITS = 2  # significant decimal digits: 1 % resolution


def _hdr() -> Any:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def _params(hdr: Any) -> tuple[int, int, int, int]:
    return (hdr.lowest_trackable_value, hdr.highest_trackable_value, hdr.significant_figures, hdr.counts_len)


_PARAMS = _params(_hdr())


def _bounds_ns() -> list[int]:
    """The lowest nanosecond value of each counts index up to HIGHEST_US's, index 0 open below:
    `bisect_right(bounds, ns) - 1` is the index `add(ns)` records at (`add`'s clamping included),
    found in C. Built from hdrh's own index function and checked against it at both edges."""
    hdr = _hdr()
    top = hdr._counts_index_for(HIGHEST_US)
    bounds = [-(1 << 80)]
    for i in range(1, top + 1):
        us = int(hdr.get_value_from_index(i))
        if hdr._counts_index_for(us) != i or hdr._counts_index_for(us - 1) != i - 1:
            raise AssertionError(f"hdrh index {i} does not start at {us} us")
        bounds.append(us * 1000)
    return bounds


_BOUNDS_NS = _bounds_ns()
_INDEX_PLUS_1 = functools.partial(bisect.bisect_right, _BOUNDS_NS)


class Histogram:
    """An HdrHistogram of microseconds plus the exact maximum; `add` is the hot-path call."""

    __slots__ = ("hdr", "max_ns", "_wire")

    def __init__(self, hdr: Any = None) -> None:
        self.hdr: Any = _hdr() if hdr is None else hdr
        self.max_ns = 0
        self._wire: dict[str, object] | None = None  # the last to_wire(), while nothing was added

    @property
    def total(self) -> int:
        return int(self.hdr.total_count)

    def add(self, ns: int, n: int = 1) -> None:
        if ns < 0:
            ns = 0
        us = ns // 1000
        self.hdr.record_value(us if us < HIGHEST_US else HIGHEST_US, n)
        if ns > self.max_ns:
            self.max_ns = ns

    def add_since(self, now_ns: int, sent_ns: Mapping[int, int] | list[int], total: int) -> None:
        """`now_ns - ts` recorded `sent_ns[ts]` times for each send time `ts` (`total` in all;
        a list: each once): what `add` would record, with one bisect in C a value and a Python
        step per counts index, not per message (one-message frames have a send time each)."""
        if not sent_ns:
            return
        hdr = self.hdr
        if isinstance(sent_ns, list) or len(sent_ns) == total:  # every count 1
            lats = sorted(map(sub, repeat(now_ns), sent_ns))  # send order: one reversed run, O(n) in C
            first, last = _INDEX_PLUS_1(lats[0]), _INDEX_PLUS_1(lats[-1])
            if (last - first) * 8 < len(lats):  # few counts indices: a bisect for each of them
                by_index: Counter[int] = Counter()
                at = 0
                for k in range(first, last + 1):
                    end = bisect.bisect_left(lats, _BOUNDS_NS[k], at) if k < last else len(lats)
                    by_index[k] = end - at
                    at = end
            else:  # a bisect for each value, counted in C
                by_index = Counter(map(_INDEX_PLUS_1, lats))
        else:
            by_index = Counter()
            for ns, n in zip(map(sub, repeat(now_ns), sent_ns), sent_ns.values(), strict=True):
                by_index[_INDEX_PLUS_1(ns)] += n
        counts = hdr.counts
        for i, n in by_index.items():
            if n:
                counts[i - 1] += n
        hdr.total_count += total
        lo, hi = now_ns - max(sent_ns), now_ns - min(sent_ns)
        hdr.min_value = min(hdr.min_value, min(max(lo, 0) // 1000, HIGHEST_US))
        hdr.max_value = max(hdr.max_value, min(max(hi, 0) // 1000, HIGHEST_US))
        if hi > self.max_ns:
            self.max_ns = hi

    def merge(self, other: Histogram) -> None:
        if other.total:
            self.hdr.add(other.hdr)
        self.max_ns = max(self.max_ns, other.max_ns)

    def counts(self) -> Any:
        """The raw HdrHistogram counts, a ctypes int64 array (a buffer: numpy can view it), so
        that a window of a run (this minus an earlier copy) costs no Python loop."""
        return self.hdr.counts

    def value_ms(self, index: int) -> float:
        """What the count at `index` of `counts()` stands for, as a percentile reports it."""
        return float(self.hdr.get_highest_equivalent_value(self.hdr.get_value_from_index(index))) / 1000.0

    def to_wire(self) -> dict[str, object]:
        """For telemetry and files: {"hdr": the standard compressed base64 encoding, "n": total,
        "max": ns}. Encoding takes about 0.2 ms: an idle node's ten snapshots a second reuse it."""
        wire = self._wire
        if wire is None or wire["n"] != self.total or wire["max"] != self.max_ns:
            wire = {"hdr": self.hdr.encode() if self.total else b"", "n": self.total, "max": self.max_ns}
            self._wire = wire
        return dict(wire)

    @classmethod
    def from_wire(cls, data: Mapping[str, object] | None) -> Histogram:
        if not data:
            return cls()
        encoded = data.get("hdr")
        if isinstance(encoded, str):
            encoded = encoded.encode()
        if isinstance(encoded, bytes) and encoded:
            try:
                decoded = HdrHistogram.decode(encoded)
            except Exception:  # noqa: BLE001 - hdrh raises many kinds on a damaged encoding
                return cls()
            if _params(decoded) == _PARAMS:  # the lab's own kind: kept as decoded, not copied
                h = cls(decoded)  # into a new one (telemetry decodes fifty nodes' ten times a second)
            else:
                h = cls()
                h.hdr.add(decoded)
        else:
            h = cls()
            if isinstance(data.get("b"), Mapping):  # a run recorded before HdrHistogram: log buckets
                _add_log_buckets(h, data["b"])  # type: ignore[arg-type]
        h.max_ns = int(data.get("max") or 0)  # type: ignore[call-overload]
        return h

    def percentile_ms(self, q: float) -> float | None:
        """The q-th percentile (0..100), as HdrHistogram reports it (the highest value
        equivalent to it, within 1 %), capped at the exact maximum."""
        total = self.total
        if total == 0:
            return None
        rank = max(1, math.ceil(total * q / 100.0))
        ms = self.value_ms(bisect.bisect_left(list(itertools.accumulate(self.hdr.counts)), rank))
        return min(ms, self.max_ms) if self.max_ns else ms

    @property
    def max_ms(self) -> float:
        return self.max_ns / 1e6


def _add_log_buckets(h: Histogram, buckets: Mapping[object, object]) -> None:
    """The old wire form (ten log buckets a decade from 1 us): each count at its bucket's middle."""
    for key, count in buckets.items():
        i = int(key)  # type: ignore[call-overload]
        if i >= 0 and int(count) > 0:  # type: ignore[call-overload]
            middle_us = 10 ** ((i - 0.5) / 10) if i else 0
            h.hdr.record_value(min(int(middle_us), HIGHEST_US), int(count))  # type: ignore[call-overload]


def merged(histograms: Iterable[Histogram]) -> Histogram:
    out = Histogram()
    for h in histograms:
        out.merge(h)
    return out


class HeldLatencies:
    """Latencies held in a list until the next snapshot, then added to `histogram`.

    A lockstep request pays an HdrHistogram add (about 5 us of Python) before its
    reply; a list append costs next to nothing. Not thread-safe: callers hold
    their own lock around `add` and `fold`.
    """

    def __init__(self, histogram: Histogram, limit: int = 256) -> None:
        self.histogram = histogram
        self.limit = limit  # at most this many wait (snapshots are 0.1 s apart)
        self._held: list[int] = []

    def add(self, ns: int) -> None:
        held = self._held
        held.append(ns)
        if len(held) >= self.limit:
            self.fold()

    def fold(self) -> None:
        if self._held:
            add = self.histogram.add
            for ns in self._held:
                add(ns)
            self._held.clear()

"""The benches' lab rate: taken between telemetry samples while deliveries went on, not up to the
sample that came after the last one (which read a short run slow)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from lab_paths import steady_rate  # noqa: E402


def _series(rate: float, n: int, first_at: float, every: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Samples every `every` s of a steady `rate` that starts at `first_at` and stops at `n`."""
    t = np.arange(0.0, first_at + n / rate + 3 * every, every)
    return t, np.clip((t - first_at) * rate, 0, n).astype(float)


def test_a_steady_run_reads_its_own_rate_whatever_its_last_sample_waited() -> None:
    for first_at in (0.02, 0.05, 0.09):  # where the deliveries start and stop between samples
        t, delivered = _series(300_000.0, 300_000, first_at)
        rate = steady_rate(t, delivered, 300_000)
        assert rate is not None and abs(rate - 300_000) < 1.0, (first_at, rate)


def test_the_old_span_read_a_one_second_run_slow() -> None:
    """Up to the sample that saw all: 0.08 s of that 1 s run with nothing left to deliver."""
    t, delivered = _series(300_000.0, 300_000, 0.02)
    a, b = int(np.flatnonzero(delivered > 0)[0]), int(np.flatnonzero(delivered >= 300_000)[0])
    old = (delivered[b] - delivered[a]) / (t[b] - t[a])
    assert old < 0.95 * 300_000
    assert abs((steady_rate(t, delivered, 300_000) or 0.0) - 300_000) < 1.0


def test_a_run_of_a_few_samples_keeps_its_whole_span_and_an_unfinished_one_has_no_rate() -> None:
    t, delivered = _series(10_000.0, 2_000, 0.02)  # 0.2 s: two sample intervals
    rate = steady_rate(t, delivered, 2_000)
    assert rate is not None and rate < 10_000  # too short for the steady span: the whole one
    assert steady_rate(t, np.minimum(delivered, 1_000), 2_000) is None

"""Fault periods from a run's events: when each node was down or paused, each link cut or slowed.

The report and the GUI's plots shade these spans (as Jepsen's performance
plots do), so a dip in the rate lines up with the fault that caused it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# action that opens a fault -> actions that close it
_OPENS: dict[str, tuple[str, ...]] = {
    "kill": ("start", "restart"),
    "stop": ("start", "restart"),
    "crash": ("start", "restart"),
    "pause": ("resume", "kill", "stop", "restart"),
    "cut": ("heal",),
    "delay": ("heal", "delay"),
    "lossy": ("heal", "lossy"),
    "late": ("join", "kill", "stop", "crash"),  # join_after_ms: from the service's start to its join
}

LABELS = {"kill": "killed", "stop": "stopped", "crash": "crashed", "pause": "paused",
          "cut": "cut", "delay": "delayed", "lossy": "lossy", "late": "not joined yet"}


@dataclass(frozen=True)
class FaultPeriod:
    target: str
    action: str
    start: float
    end: float
    open_ended: bool = False

    @property
    def label(self) -> str:
        return f"{self.target} {LABELS.get(self.action, self.action)}"


def fault_periods(events: Iterable[Mapping[str, Any]], run_end: float) -> list[FaultPeriod]:
    """Pair each fault-opening action with the action that ends it, per target.

    An event is a mapping with `t` (seconds from the start of the run),
    `action` and `target`. Faults still open at the end last until `run_end`.
    """
    open_faults: dict[tuple[str, str], float] = {}
    periods: list[FaultPeriod] = []
    for event in sorted(events, key=lambda e: float(e.get("t", 0.0))):
        action, target = str(event.get("action", "")), str(event.get("target", ""))
        t = float(event.get("t", 0.0))
        for (tgt, opened), since in list(open_faults.items()):
            if tgt == target and action in _OPENS[opened]:
                periods.append(FaultPeriod(target, opened, since, t))
                del open_faults[(tgt, opened)]
        if action in _OPENS and (target, action) not in open_faults:
            open_faults[(target, action)] = t
    for (target, action), since in open_faults.items():
        periods.append(FaultPeriod(target, action, since, max(since, run_end), open_ended=True))
    return sorted(periods, key=lambda p: (p.start, p.target))

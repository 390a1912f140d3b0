"""The interpreter's settings while a run is on, for a window that must answer within a frame.

- A 1 ms switch interval: each Qt call from Python may wait for the
  interpreter lock held by the telemetry thread, 5 ms by default, and a frame
  makes hundreds of calls.
- The cyclic garbage collector does not scan what the window held before
  the run (Qt wrappers, the document, the models: `gc.freeze`), so a full
  collection during the run scans what the run made, not the whole program.

`during_run()` sets both and returns what `after_run()` restores. No Qt here.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.001


def during_run() -> float:
    """Set the run's interpreter settings; returns the switch interval to restore."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.freeze()
    return before


def after_run(switch_interval: float) -> None:
    """Back to the usual settings; what the run left behind is the collector's again."""
    sys.setswitchinterval(switch_interval)
    gc.unfreeze()

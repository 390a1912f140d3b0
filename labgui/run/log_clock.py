"""Node logs on the run clock: the times the report, plots, timeline and event log show.

A node writes its log with the wall clock (`HH:MM:SS.mmm`, local time, so the
file reads well alone); RabbitMQ writes ISO dates. The log panel rewrites each
stamp as seconds on the run clock (0 = the clients' start; a service that
started before them logs at negative times). Lines without a stamp (a
traceback's) stay as they are.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

_NODE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) ")
_LIFE = re.compile(r"^(--- life \d+ starting) at (\d\d):(\d\d):(\d\d)$")
_ISO = re.compile(r"^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) ")
DAY = 86400.0


def wall_origin(sup: Any) -> float | None:
    """The run clock's zero as a wall-clock time (None before the clients started)."""
    started = getattr(sup, "started_at", None)
    if started is None:
        return None
    return time.time() - (time.monotonic() - float(started))


def _wrap(run_t: float) -> float:
    """A time of day minus the origin's, corrected when the run crossed midnight."""
    if run_t < -DAY / 2:
        return run_t + DAY
    if run_t > DAY / 2:
        return run_t - DAY
    return run_t


def _stamp(run_t: float) -> str:
    return f"{run_t:8.3f} s"


def to_run_clock(text: str, origin: float) -> str:
    """`text` with every line's leading time stamp rewritten as run-clock seconds."""
    base = datetime.fromtimestamp(origin)
    origin_sod = base.hour * 3600 + base.minute * 60 + base.second + base.microsecond / 1e6
    out = []
    for line in text.split("\n"):
        life = _LIFE.match(line)
        if life:  # the supervisor's marker between two lives of a node (whole seconds)
            h, mi, s = (int(g) for g in life.groups()[1:])
            run_t = _wrap(h * 3600 + mi * 60 + s - origin_sod)
            out.append(f"{life.group(1)} at {run_t:.0f} s on the run clock ({line[-8:]})")
            continue
        m = _NODE.match(line)
        if m:
            h, mi, s, ms = (int(g) for g in m.groups())
            run_t = _wrap(h * 3600 + mi * 60 + s + ms / 1000 - origin_sod)
            out.append(f"{_stamp(run_t)}  {line[m.end():]}")
            continue
        m = _ISO.match(line)
        if m:
            try:
                stamp = datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
            except ValueError:
                out.append(line)
                continue
            out.append(f"{_stamp(stamp.timestamp() - origin)}  {line[m.end():]}")
            continue
        out.append(line)
    return "\n".join(out)

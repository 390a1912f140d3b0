"""The run's event log: node state changes and scenario actions, as JSON lines and in memory.

Written by the supervisor's threads, read by a GUI on a timer (`since(i)`)
or by listeners called at once. Events are rare (a handful per node), never
per message.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engines.runtime.diskfull import DiskFull, GuardedFile

STATES = ("starting", "ready", "done", "paused", "killed", "crashed", "exited")

Event = dict[str, Any]


class EventLog:
    """Append-only, thread-safe; each event gets `t` (seconds since the log opened) and `wall`,
    and once the clients have started `run_t` (the run clock, as the scenario counts)."""

    def __init__(self, path: Path | None, disk: DiskFull | None = None) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._listeners: list[Callable[[Event], None]] = []
        self.disk = disk or DiskFull()  # a failed write keeps the event in memory, and is noted
        self._file = GuardedFile(open(path, "a", encoding="utf-8"), path.name,  # noqa: SIM115
                                 self.disk) if path else None
        self.t0 = time.monotonic()
        if path is not None:  # the run's clock zero, for the message traces (engines.trace)
            clock = {"t0_monotonic_ns": int(self.t0 * 1e9), "wall": time.time()}
            (Path(path).parent / "clock.json").write_text(json.dumps(clock), encoding="utf-8")
        self.origin: float | None = None  # monotonic zero of the run clock (the clients' start)

    def set_origin(self, origin: float) -> None:
        """From now on every event also carries `run_t`: seconds on the run clock."""
        self.origin = origin

    def add(self, kind: str, node: str | None = None, /, **fields: Any) -> Event:
        now = time.monotonic()
        event: Event = {"t": round(now - self.t0, 3), "wall": round(time.time(), 3), "event": kind}
        if self.origin is not None:
            event["run_t"] = round(now - self.origin, 3)
        if node is not None:
            event["node"] = node
        event.update(fields)
        with self._lock:
            self._events.append(event)
            if self._file is not None:
                self._file.write(json.dumps(event, default=str) + "\n")
                self._file.flush()
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the run
                pass
        return event

    def listen(self, callback: Callable[[Event], None]) -> None:
        """Call `callback(event)` for every later event (from the supervisor's threads)."""
        with self._lock:
            self._listeners.append(callback)

    def since(self, index: int = 0) -> list[Event]:
        """Events from `index` on (a GUI keeps the count it has seen)."""
        with self._lock:
            return list(self._events[index:])

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

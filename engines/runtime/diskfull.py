"""A full disk during a run: noticed at the first failed write, said once, the run stops in order.

Why one object: the event log, metrics.csv, pids.json and summary.json are
written from several threads; without it, the first ENOSPC killed the
telemetry and monitor threads, froze the progress line and left a 0-byte
summary.json. Every writer now hands its OSError here and carries on without
its file; the supervisor sees `full` and stops the run (clients, services,
brokers); what was written before stays; summary.json is written whole or not
at all (a temporary file, fsync, rename).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import threading
from pathlib import Path
from typing import Any, TextIO

FULL = (errno.ENOSPC, errno.EDQUOT)


class DiskFull:
    """The first write of the run that failed (thread-safe); `full` once there was one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.first: OSError | None = None
        self.where = ""

    @property
    def full(self) -> bool:
        return self.first is not None

    def note(self, where: str, exc: OSError) -> None:
        with self._lock:
            if self.first is None:
                self.first, self.where = exc, where

    def message(self) -> str:
        """One line for the user: 'disk full' when it is, else the write error."""
        if self.first is None:
            return ""
        what = "disk full" if self.first.errno in FULL else f"cannot write ({self.first.strerror or self.first})"
        return f"{what} while writing {self.where}"


class GuardedFile:
    """A text file whose first failed write (or flush) is noted; later writes are dropped."""

    def __init__(self, handle: TextIO, name: str, disk: DiskFull) -> None:
        self.handle, self.name, self.disk = handle, name, disk
        self.broken = False

    def _fail(self, exc: OSError) -> None:
        self.broken = True
        self.disk.note(self.name, exc)

    def write(self, text: str) -> int:
        if self.broken:
            return 0
        try:
            return self.handle.write(text)
        except OSError as exc:
            self._fail(exc)
            return 0

    def flush(self) -> None:
        if self.broken:
            return
        try:
            self.handle.flush()
        except OSError as exc:
            self._fail(exc)

    def close(self) -> None:
        try:
            self.handle.close()
        except OSError as exc:
            if not self.broken:
                self._fail(exc)
        # a buffer that could not be written is dropped with the file object
        with contextlib.suppress(OSError):
            self.handle.close()


def write_json_atomic(path: Path, data: Any, disk: DiskFull | None = None) -> bool:
    """Write `data` as JSON to `path` whole or not at all; False (and noted) if it failed."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=1, default=str))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        return True
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if disk is None:
            raise
        disk.note(path.name, exc)
        return False

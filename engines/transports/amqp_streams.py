"""Where a stream consumer starts, and the files a run uses to tell it more.

`stream_offset` (and a re-read's `offset`) is one of `first`, `last`, `next`,
an offset (`120`) or a time on the run's clock (`time:2.5s`: the messages the
broker received from 2.5 s after the clients started). RabbitMQ takes a time
as an AMQP timestamp, whole seconds since the epoch, and attaches at the chunk
closest before it, so a consumer may get a few messages from a little earlier.

The run's clock starts when the clients start, after the services are ready:
the supervisor writes its wall time to `<run>/run-origin.json`; a consumer
that starts at a time waits for that moment before it attaches (a stream
keeps everything, so waiting loses nothing). A re-read on demand is a small
file the supervisor drops into the node's directory (`stream-reread.json`);
the consumer polls for it, cancels its stream consumers and consumes again
from the given offset.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ORIGIN_FILE = "run-origin.json"
REREAD_FILE = "stream-reread.json"
OFFSET_PATTERN = r"^(first|last|next|\d+|time:\d+(\.\d+)?s)$"
_TIME = re.compile(r"^time:(\d+(?:\.\d+)?)s$")


def time_offset(text: str) -> float | None:
    """Seconds on the run's clock for `time:2.5s`; None for any other offset."""
    match = _TIME.match(text)
    return float(match.group(1)) if match else None


def offset_problem(text: str) -> str | None:
    """Why `text` is not a stream offset, or None (for the validator and the scenario)."""
    if re.match(OFFSET_PATTERN, text):
        return None
    return (f"'{text}' is not a stream offset: use first, last, next, a number (an offset in the "
            f"stream) or time:<seconds>s on the run's clock (e.g. time:2.5s)")


def x_stream_offset(text: str, origin_wall: float | None) -> Any:
    """The x-stream-offset argument for `text` (a time needs the run's origin in wall time)."""
    seconds = time_offset(text)
    if seconds is not None:
        if origin_wall is None:
            raise ValueError("a time offset needs the run's origin")
        return datetime.fromtimestamp(origin_wall + seconds, tz=timezone.utc)
    return int(text) if text.isdigit() else text


def _atomic_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def write_origin(run_dir: Path, monotonic_origin: float) -> None:
    """The wall time at which the run's clock reads 0 (the supervisor, once clients start)."""
    wall = time.time() - (time.monotonic() - monotonic_origin)
    _atomic_json(Path(run_dir) / ORIGIN_FILE, {"wall": wall})


def read_origin(node_dir: Path | str | None) -> float | None:
    """The run's origin in wall time, from `<run>/run-origin.json` (node dir: <run>/nodes/<name>)."""
    if node_dir is None:
        return None
    try:
        data = json.loads((Path(node_dir).parent.parent / ORIGIN_FILE).read_text(encoding="utf-8"))
        return float(data["wall"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def request_reread(node_dir: Path, offset: str) -> None:
    """Ask a running stream consumer to read its streams again from `offset`."""
    problem = offset_problem(offset)
    if problem:
        raise ValueError(problem)
    _atomic_json(Path(node_dir) / REREAD_FILE, {"offset": offset})


def take_reread(node_dir: Path | str | None) -> str | None:
    """The offset of a pending re-read request, removing it; None when there is none."""
    if node_dir is None:
        return None
    path = Path(node_dir) / REREAD_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        path.unlink()
    except (OSError, ValueError):
        return None
    offset = str(data.get("offset", "first")) if isinstance(data, dict) else "first"
    return None if offset_problem(offset) else offset

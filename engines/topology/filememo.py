"""Remember what a function made of a file while the file is unchanged.

The editor's welcome view and Lessons menu read a line from every shipped
example and lesson (about 120 YAML files, 2 s of pure-Python parsing) each
time a window opens; the answer only changes when a file does.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
Stamp = tuple[str, int, int] | None


def _stamp(path: Path) -> Stamp:
    """The file's identity for the memo: where it is, when it last changed, how long it is."""
    try:
        st = os.stat(path)
    except OSError:
        return None  # a missing file is never remembered: the function says what it says of it
    return str(Path(path).resolve()), st.st_mtime_ns, st.st_size


def per_file(fn: Callable[[Path], T]) -> Callable[[Path], T]:
    """`fn(path)` computed once per version of the file (its result must be immutable)."""
    memo: dict[str, tuple[Stamp, T]] = {}
    lock = threading.Lock()

    @wraps(fn)
    def remembered(path: Path) -> T:
        stamp = _stamp(path)
        if stamp is None:
            return fn(path)
        with lock:
            hit = memo.get(stamp[0])
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = fn(path)
        with lock:
            memo[stamp[0]] = (stamp, value)
        return value

    return remembered

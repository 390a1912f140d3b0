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
Version = tuple[int, int]  # when the file last changed (ns), how long it is


def per_file(fn: Callable[[Path], T]) -> Callable[[Path], T]:
    """`fn(path)` computed once per version of the file (its result must be immutable)."""
    memo: dict[str, tuple[Version, T]] = {}  # resolved path -> the version read, its answer
    lock = threading.Lock()

    @wraps(fn)
    def remembered(path: Path) -> T:
        try:
            st = os.stat(path)
        except OSError:
            return fn(path)  # a missing file is never remembered: the function says what it says
        key, version = str(Path(path).resolve()), (st.st_mtime_ns, st.st_size)
        with lock:
            hit = memo.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = fn(path)
        with lock:
            memo[key] = (version, value)
        return value

    return remembered

"""Raw baselines arranged like the lab's nodes: every process in a session of its own.

The supervisor starts each node with a new session, and with the kernel's
autogroup scheduling (on here) a session is a scheduling group: on a loaded
machine a ping-pong between two groups is scheduled differently from one
inside the bench's own session. Measured under load, a raw http server moved
into its own session kept its p50 and lost half its lockstep rate (a long
tail), which had been counted against the lab. So every raw process calls
`own_session()` first, and `isolated(fn, ...)` runs a raw client in a child
of its own. `own_session` also makes the process die with its parent
(PR_SET_PDEATHSIG), so no raw process outlives the bench.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import queue
import signal
import time
from collections.abc import Callable
from typing import Any

PR_SET_PDEATHSIG = 1


def own_session() -> None:
    try:
        os.setsid()
    except OSError:
        pass  # already a session leader
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the parent's finally clauses still stop it


def _child(fn: Callable[..., Any], args: tuple[Any, ...], result: Any) -> None:
    own_session()
    try:
        result.put(("ok", fn(*args)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        result.put(("error", f"{type(exc).__name__}: {exc}"))


def isolated(fn: Callable[..., Any], *args: Any, timeout_s: float = 600.0) -> Any:
    """fn(*args) in a spawned child in its own session; its result, or its error raised here."""
    spawn = mp.get_context("spawn")
    result: Any = spawn.Queue()
    proc = spawn.Process(target=_child, args=(fn, args, result))  # not daemonic: it spawns servers
    proc.start()
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                kind, value = result.get(timeout=0.5)
                break
            except queue.Empty:
                if not proc.is_alive():
                    raise RuntimeError(f"the raw side {fn.__name__} died (exit {proc.exitcode})") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the raw side {fn.__name__} took over {timeout_s:.0f} s") from None
        if kind == "error":
            raise RuntimeError(f"raw side {fn.__name__}: {value}")
        return value
    finally:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)

"""No node outlives its supervisor: a parent-death signal plus a watchdog thread.

PR_SET_PDEATHSIG makes the kernel SIGKILL this process when the thread that
started it dies, even if the supervisor was itself SIGKILLed. It is armed in
the child (no preexec_fn, which is unsafe in a threaded parent), so the
parent may already be gone by then: check the parent pid right after arming.
The watchdog covers what the signal cannot (a parent that re-parents us, or a
kernel without prctl): it exits as soon as the parent pid changes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading

PR_SET_PDEATHSIG = 1
EXIT_ORPHANED = 71


def arm(parent_pid: int, interval_s: float = 0.2) -> None:
    """Die with the parent: kernel signal where available, and a watchdog thread always."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the watchdog alone
    if os.getppid() != parent_pid:
        os._exit(EXIT_ORPHANED)

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(EXIT_ORPHANED)
            threading.Event().wait(interval_s)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def on_stop(stop: threading.Event) -> None:
    """SIGTERM asks the node to stop cleanly; SIGINT is the supervisor's business, not ours."""
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)

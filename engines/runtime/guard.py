"""What a run holds for its safety: a private run directory, a reaper, its ports, a secret.

Created when a run starts, before any process: the run directory becomes
0700 (specs and configs hold credentials), the reaper starts
(engines.hygiene.reaper: it kills what a SIGKILLed lab left, epmd included),
the run gets an entry in the per-user port registry owned by the supervisor
and the reaper (engines.hygiene.portreg), and a per-run telemetry token that
only the run's nodes learn (from their 0600 spec files).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from engines.hygiene.portreg import RunPorts
from engines.hygiene.reaper import Reaper


class RunGuard:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        with contextlib.suppress(OSError):
            os.chmod(self.run_dir, 0o700)
        self.token = secrets.token_urlsafe(24)
        self.reaper = Reaper(self.run_dir)
        self.ports = RunPorts(self.run_dir)
        self.ports.add_owner(self.reaper.pid)
        self._closed = False

    def close(self) -> None:
        """Once nothing of the run runs: the reaper makes sure, frees the ports, and exits."""
        if self._closed:
            return
        self._closed = True
        self.reaper.close()
        self.ports.release()  # the reaper did; again in case it could not

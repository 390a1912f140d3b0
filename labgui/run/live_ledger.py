"""The ledger recomputed during a run, so the big counters are exact so far.

The same functions as the end of a run (`engines.runtime.summary.client_books`,
`engines.ledger.reconcile.read_service`, `engines.ledger.reconcile.compute`) over the same files,
read while the nodes write them; the passes run in a helper process
(labgui.run.ledger_worker) so that reading millions of rows never holds the
window's interpreter. "So far" has one caveat the GUI states: a message still
in flight (queued, unconfirmed) counts as lost or in doubt until it is
processed; the figures at the end are the ledger's final ones.

The next pass is asked for ten times as long after the last one as it took
(at least `min_period_s`), so the helper never takes more than about a tenth
of a core, however big the run.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from typing import Any

from engines.runtime.proctable import PROJECT_ROOT


class LiveLedger:
    """Call `start()` once the supervisor has a plan; read `latest` from any thread."""

    def __init__(self, sup: Any, min_period_s: float = 1.0, duty: float = 0.1) -> None:
        self.sup = sup
        self.min_period_s = min_period_s
        self.duty = duty
        self.latest: dict[str, Any] | None = None  # {"total": {...}, "nodes": {...}, "links": {...}}
        self.updated_at: float | None = None  # monotonic time of `latest`
        self.passes = 0
        self.last_cost_s = 0.0
        self._stop = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._loop, name="gui-live-ledger", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """End the helper (returns at once; the helper exits at the end of its input)."""
        self._stop.set()
        proc = self._proc
        if proc is not None and proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass

    def join(self, timeout: float = 5.0) -> None:
        """Wait for the helper to be gone (kill it if a long pass holds it)."""
        self.stop()
        proc = self._proc
        if proc is None:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        return subprocess.Popen([sys.executable, "-m", "labgui.run.ledger_worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=str(PROJECT_ROOT),
                                env=env, close_fds=True)

    def _loop(self) -> None:
        sup = self.sup
        job = {"topology": sup.topology, "plan": sup.plan,
               "node_dirs": {name: str(p.node_dir) for name, p in sup.table.nodes.items()}}
        try:
            self._proc = proc = self._spawn()
            assert proc.stdin is not None and proc.stdout is not None
            pickle.dump(job, proc.stdin)
            while not self._stop.is_set():
                pickle.dump(sorted(sup.sigkilled), proc.stdin)
                proc.stdin.flush()
                answer = pickle.load(proc.stdout)
                self.last_cost_s = float(answer["cost_s"])
                if answer["result"] is not None:
                    self.latest = answer["result"]
                    self.updated_at = time.monotonic()
                    self.passes += 1
                self._stop.wait(max(self.min_period_s, self.last_cost_s / self.duty))
        except (OSError, EOFError, ValueError, pickle.PickleError):
            pass  # stopped, or the helper died: the counters wait for the final summary
        finally:
            self.stop()

"""The ledger recomputed during a run, on its own thread, so the big counters are exact so far.

The same functions as the end of a run (`engines.runtime.summary.client_books`,
`engines.ledger.read_service`, `engines.ledger.compute`) over the same files:
the clients' record files and the services' SQLite databases, read while the
nodes write them. "So far" has one caveat the GUI states: a message still in
flight (queued, unconfirmed) counts as lost or in doubt until it is processed;
the figures at the end are the ledger's final ones.

Reading a large database costs time, so the next pass waits ten times as long
as the last one took (at least `min_period_s`): the counters never take more
than about a tenth of a core, however big the run.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from engines import ledger
from engines.runtime.summary import client_books

TOTAL_KEYS = ("sent", "acknowledged", "delivered", "processed", "lost", "in_doubt",
              "duplicates_delivered", "duplicates_suppressed", "duplicates_processed",
              "timeouts", "errors", "retries")


class LiveLedger:
    """Call `start()` once the supervisor has a plan; read `latest` from any thread."""

    def __init__(self, sup: Any, min_period_s: float = 1.0, duty: float = 0.1) -> None:
        self.sup = sup
        self.min_period_s = min_period_s
        self.duty = duty
        self.latest: dict[str, Any] | None = None  # {"total": {...}, "nodes": {...}, "links": {...}}
        self.passes = 0
        self.last_cost_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gui-live-ledger", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def compute(self) -> dict[str, Any] | None:
        """One pass over the run's files; None if they cannot be read yet."""
        sup = self.sup
        if sup.plan is None:
            return None
        try:
            services = {s.name: ledger.read_service(s.name, sup.table.nodes[s.name].node_dir / "service.db")
                        for s in sup.topology.services()}
            return ledger.compute(client_books(sup), services)
        except Exception:  # noqa: BLE001 - a file half created at start; the next pass reads it
            return None

    def _loop(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            result = self.compute()
            self.last_cost_s = time.monotonic() - began
            if result is not None:
                self.latest = result
                self.passes += 1
            self._stop.wait(max(self.min_period_s, self.last_cost_s / self.duty))

"""Which message IDs each counter counts: the ledger's sets, as 'client:seq' lists (ids.json).

The same sets engines.ledger.reconcile counts, computed from the same
sources (the clients' status bytes, the services' committed rows), so the
list behind "lost 7" has exactly seven IDs. Per counter at most LIMIT IDs are
kept (the count is always exact).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from engines.ledger import reconcile as ledger
from engines.nodes import records

LIMIT = 10000
FILE_NAME = "ids.json"
COUNTERS = ("lost", "in_doubt", "duplicates_processed", "duplicates_suppressed",
            "duplicates_delivered", "redelivered", "timeouts", "retries", "nacks", "errors", "gave_up")
_STATUS_BITS = {"timeouts": records.TIMEOUT, "retries": records.RETRIED, "nacks": records.NACKED,
                "errors": records.ERROR, "gave_up": records.GAVE_UP}


def _redelivered(db_path: Path) -> np.ndarray:
    if not db_path.exists():
        return np.zeros(0, dtype=np.int64)
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT message_id FROM authorisations WHERE redelivered != 0 UNION "
                          "SELECT message_id FROM refused_duplicates WHERE redelivered != 0").fetchall()
    finally:
        db.close()
    return np.array([r[0] for r in rows], dtype=np.int64)


def compute(books: list[ledger.ClientBook], services: Mapping[str, ledger.ServiceBook],
            run_dir: Path) -> dict[str, set[tuple[str, int]]]:
    """counter -> {(client name, seq)}."""
    out: dict[str, set[tuple[str, int]]] = {c: set() for c in COUNTERS}
    redelivered = {name: _redelivered(Path(run_dir) / "nodes" / name / "service.db") for name in services}
    for book in books:
        n = len(book.status)  # as the ledger: IDs never sent are hostile, not traced
        status = book.status
        sent, acked = (status & records.SENT) != 0, (status & records.ACKED) != 0
        name = book.name

        def add(counter: str, mask: np.ndarray, name: str = name) -> None:
            out[counter].update((name, int(s)) for s in np.flatnonzero(mask))

        for counter, bit in _STATUS_BITS.items():
            add(counter, (status & bit) != 0)
        effects_all = np.zeros(n, dtype=np.int64)
        processed_any = np.zeros(n, dtype=bool)
        for route in book.routes:
            sv = services.get(route.service, ledger.ServiceBook(route.service))
            e = ledger._counts(sv.effects.get(book.index), sent)[0]
            d = ledger._counts(sv.refused.get(book.index), sent)[0]
            add("duplicates_suppressed", d > 0)
            add("duplicates_delivered", (e + d) > 1)
            red = redelivered.get(route.service, np.zeros(0, dtype=np.int64))
            mine = red[(red >> 32) == book.index] & 0xFFFFFFFF
            out["redelivered"].update((name, int(s)) for s in mine)
            if book.one_to_many:
                add("duplicates_processed", e > 1)
                if book.acknowledges and book.masks is not None:
                    masks = np.zeros(n, dtype=np.uint32)
                    masks[:len(book.masks)] = book.masks
                    answered = (masks >> np.uint32(route.peer_index)) & 1 == 1
                    add("lost", answered & (e == 0))
                    add("in_doubt", sent & ~answered & (e == 0))
                else:
                    add("lost", sent & (e == 0))
            else:
                effects_all += e
                processed_any |= e > 0
        if not book.one_to_many:
            add("duplicates_processed", effects_all > 1)
            add("lost", (acked if book.acknowledges else sent) & ~processed_any)
            if book.acknowledges:
                add("in_doubt", sent & ~acked & ~processed_any)
    return out


def write(run_dir: Path, ids: Mapping[str, set[tuple[str, int]]]) -> dict[str, Any]:
    data = {counter: {"count": len(found),
                      "ids": [f"{c}:{s}" for c, s in sorted(found)[:LIMIT]]}
            for counter, found in ids.items()}
    (Path(run_dir) / FILE_NAME).write_text(json.dumps(data), encoding="utf-8")
    return data


def read(run_dir: Path) -> dict[str, dict[str, Any]]:
    """counter -> {"count": n, "ids": ['client:seq', ...]}; {} for a run made without it."""
    from engines.trace.rundata import read_json

    path = Path(run_dir) / FILE_NAME
    return dict(read_json(path, "the counters' message IDs")) if path.exists() else {}

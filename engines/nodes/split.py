"""The two wrong orders of an idempotent consumer's writes, each in a transaction of its own.

The idempotent consumer writes the PROCESSED_MESSAGES row and the business
row in ONE transaction (engines.nodes.store). This module writes them in two,
message by message, so a crash between them (crash point `between-writes`)
shows what each order costs:

  marker-first  the marker commits, the crash comes before the effect: the
                redelivery finds the marker and is refused as a duplicate, so
                the effect is never applied (the message is lost although a
                duplicate was "suppressed").
  effect-first  the effect commits, the crash comes before the marker: the
                redelivery finds no marker and applies the effect again (a
                duplicate effect).

Each transaction is BEGIN IMMEDIATE, so instances sharing a store (engines.nodes.instances)
take the write lock before they read the marker.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from engines.transports.delivery import APPLIED, DUPLICATE, DeliveryRow

MARKER_FIRST = "marker-first"
EFFECT_FIRST = "effect-first"
MODES = (MARKER_FIRST, EFFECT_FIRST)

_BUSINESS = "INSERT INTO authorisations (message_id, attempt, redelivered) VALUES (?, ?, ?)"
_REFUSED = "INSERT INTO refused_duplicates (message_id, attempt, redelivered) VALUES (?, ?, ?)"
_MARK = "INSERT INTO processed_messages (message_id) VALUES (?)"
_MARK_IF_NEW = "INSERT OR IGNORE INTO processed_messages (message_id) VALUES (?)"
_MARKED = "SELECT 1 FROM processed_messages WHERE message_id = ?"

Crash = Callable[[str], None]  # dies (os._exit) with a description of where


class SplitWriter:
    """Writes a batch one message at a time, marker and effect in separate transactions."""

    def __init__(self, db: sqlite3.Connection, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown transaction mode {mode!r}")
        self.db = db
        self.mode = mode

    def write(self, batch: Sequence[DeliveryRow], crash_at: int | None = None, point: str = "",
              crash: Crash | None = None) -> list[int]:
        """Commit each delivery's two writes; crash at `point` of delivery `crash_at` (an index)."""
        outcomes: list[int] = []
        for i, d in enumerate(batch):
            here = crash if (crash is not None and i == crash_at) else None
            outcomes.append(self._one(d, point if here else "", here))
        return outcomes

    def _one(self, d: DeliveryRow, point: str, crash: Crash | None) -> int:
        db = self.db
        m, row = (d[0] << 32) | d[1], ((d[0] << 32) | d[1], d[2], int(d[3]))
        keyed = bool(d[5])
        second: tuple[str, tuple[int, ...]]
        db.execute("BEGIN IMMEDIATE")
        try:
            if self.mode == MARKER_FIRST:
                if keyed:
                    try:
                        db.execute(_MARK, (m,))
                    except sqlite3.IntegrityError:
                        db.execute(_REFUSED, row)
                        db.execute("COMMIT")
                        return DUPLICATE
                second = _BUSINESS, row
            else:
                if keyed and db.execute(_MARKED, (m,)).fetchone():
                    db.execute(_REFUSED, row)
                    db.execute("COMMIT")
                    return DUPLICATE
                db.execute(_BUSINESS, row)
                second = _MARK_IF_NEW, (m,)
            if crash is not None and point == "before-commit":
                crash("before its first commit")
            db.execute("COMMIT")
            if crash is not None and point == "between-writes":
                crash(f"between its two writes ({self.mode}: the first is committed, the second not)")
            if keyed or self.mode == MARKER_FIRST:
                db.execute("BEGIN IMMEDIATE")
                db.execute(*second)
                db.execute("COMMIT")
        except Exception:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        if crash is not None and point == "after-commit":
            crash("after its second commit, before replying or acking")
        return APPLIED

"""A service's SQLite database: the business table and PROCESSED_MESSAGES, written together.

The seed's idempotent consumer: each message ID goes into PROCESSED_MESSAGES
in the same transaction that creates the business row (a card authorisation).
A duplicate fails that INSERT and is skipped; its delivery is still recorded
(in `refused_duplicates`), so the ledger counts every delivery that reached a
commit. The business table is keyed by message ID but not unique: a naive
service (no PROCESSED_MESSAGES) can authorise the same order twice, which is
exactly the double charge the lab shows.

`message_id` is `client_index << 32 | seq` (engines.wire.message_id); the
`clients` table and the `authorisations_by_key` view turn it back into
'client:seq'. WAL with synchronous=OFF: the failures the lab makes are process
kills, which keep every committed transaction; only a power cut would not.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

from engines.transports.base import APPLIED, DUPLICATE, Delivery

SCHEMA = """
CREATE TABLE IF NOT EXISTS clients (idx INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS authorisations (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    redelivered INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS processed_messages (message_id INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS refused_duplicates (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    redelivered INTEGER NOT NULL
);
CREATE VIEW IF NOT EXISTS authorisations_by_key AS
    SELECT c.name || ':' || (a.message_id & 4294967295) AS message_key, a.*
    FROM authorisations a LEFT JOIN clients c ON c.idx = (a.message_id >> 32);
"""

_INSERT_BUSINESS = ("INSERT INTO authorisations (message_id, attempt, redelivered, amount_cents) "
                    "VALUES (?, ?, ?, ?)")
_INSERT_REFUSED = "INSERT INTO refused_duplicates (message_id, attempt, redelivered) VALUES (?, ?, ?)"
_INSERT_PROCESSED = "INSERT INTO processed_messages (message_id) VALUES (?)"
_PROBE_PROCESSED = "INSERT OR IGNORE INTO processed_messages (message_id) VALUES (?)"


def amount_cents(seq: int) -> int:
    """A deterministic order amount, so every authorisation row looks like a real one."""
    return 100 + (seq * 37) % 9900


class Store:
    """One connection, used under the handler's lock."""

    def __init__(self, path: Path, clients: Mapping[str, int]) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SCHEMA)
        self.db.executemany("INSERT OR REPLACE INTO clients (idx, name) VALUES (?, ?)",
                            [(i, n) for n, i in clients.items()])

    def write(self, batch: Sequence[Delivery], dedupe: bool) -> list[int]:
        """Begin a transaction and write `batch`; return its outcomes. Call `commit` next.

        Fast path: probe PROCESSED_MESSAGES for the whole batch at once; if
        every ID was new (the usual case) insert the business rows in one go.
        Otherwise undo the probe and go row by row, where a duplicate's INSERT
        fails exactly as the seed describes.
        """
        db = self.db
        db.execute("BEGIN")
        ids = [(d[0] << 32) | d[1] for d in batch]
        if dedupe and all(d.keyed for d in batch):
            db.execute("SAVEPOINT probe")
            before = db.total_changes
            db.executemany(_PROBE_PROCESSED, [(m,) for m in ids])
            if db.total_changes - before == len(ids):
                db.execute("RELEASE probe")
                db.executemany(_INSERT_BUSINESS, [(m, d[2], int(d[3]), amount_cents(d[1]))
                                                  for m, d in zip(ids, batch, strict=True)])
                return [APPLIED] * len(ids)
            db.execute("ROLLBACK TO probe")
            db.execute("RELEASE probe")
        outcomes: list[int] = []
        business, refused = [], []
        for m, d in zip(ids, batch, strict=True):
            if dedupe and d.keyed:
                try:
                    db.execute(_INSERT_PROCESSED, (m,))
                except sqlite3.IntegrityError:
                    refused.append((m, d[2], int(d[3])))
                    outcomes.append(DUPLICATE)
                    continue
            business.append((m, d[2], int(d[3]), amount_cents(d[1])))
            outcomes.append(APPLIED)
        if business:
            db.executemany(_INSERT_BUSINESS, business)
        if refused:
            db.executemany(_INSERT_REFUSED, refused)
        return outcomes

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def close(self) -> None:
        self.rollback()
        self.db.close()

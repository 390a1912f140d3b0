"""A service's SQLite database: the business table and PROCESSED_MESSAGES, written together.

The seed's idempotent consumer: each message ID goes into PROCESSED_MESSAGES
in the same transaction that creates the business row (a card authorisation).
A duplicate fails that INSERT and is skipped; its delivery is still recorded
(in `refused_duplicates`), so the ledger counts every delivery that reached a
commit. The business table is keyed by message ID but not unique: a naive
service (no PROCESSED_MESSAGES) can authorise the same order twice, which is
exactly the double charge the lab shows.

`message_id` is `client_index << 32 | seq` (engines.transports.wire.message_id); the
`clients` table and the `authorisations_by_key` view turn it back into
'client:seq'; `amount_cents` is derived from it (a generated column), so
every row looks like a real authorisation at no cost per insert. WAL with synchronous=OFF: the failures the lab makes are process
kills, which keep every committed transaction; only a power cut would not.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping, Sequence
from operator import itemgetter
from pathlib import Path

from engines.transports.delivery import APPLIED, DUPLICATE, DeliveryRow

SCHEMA = """
CREATE TABLE IF NOT EXISTS clients (idx INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS authorisations (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    redelivered INTEGER NOT NULL,
    amount_cents INTEGER GENERATED ALWAYS AS (100 + ((message_id & 4294967295) * 37) % 9900) VIRTUAL
);
CREATE TABLE IF NOT EXISTS processed_messages (message_id INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS refused_duplicates (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    redelivered INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    hop INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0
);
CREATE VIEW IF NOT EXISTS authorisations_by_key AS
    SELECT c.name || ':' || (a.message_id & 4294967295) AS message_key, a.*
    FROM authorisations a LEFT JOIN clients c ON c.idx = (a.message_id >> 32);
"""

_INSERT_BUSINESS = "INSERT INTO authorisations (message_id, attempt, redelivered) VALUES (?, ?, ?)"
_INSERT_REFUSED = "INSERT INTO refused_duplicates (message_id, attempt, redelivered) VALUES (?, ?, ?)"
_INSERT_PROCESSED = "INSERT INTO processed_messages (message_id) VALUES (?)"
_PROBE_PROCESSED = "INSERT OR IGNORE INTO processed_messages (message_id) VALUES (?)"
_ATTEMPT, _REDELIVERED, _KEYED = itemgetter(2), itemgetter(3), itemgetter(5)
# Bulk forms: one statement per batch over a JSON array (message IDs fit in 48 bits; the
# packed form adds attempt << 48, below 2**14, and redelivered << 62).
_MAX_PACKED_ATTEMPT = 1 << 14
_PROBE_BULK = "INSERT OR IGNORE INTO processed_messages (message_id) SELECT value FROM json_each(?)"
_INSERT_FIRST = ("INSERT INTO authorisations (message_id, attempt, redelivered) "
                 "SELECT value, 0, 0 FROM json_each(?)")
_INSERT_PACKED = ("INSERT INTO authorisations (message_id, attempt, redelivered) "
                  "SELECT value & 281474976710655, (value >> 48) & 16383, (value >> 62) & 1 "
                  "FROM json_each(?)")


PREPARE_S = 10.0  # how long a node retries opening a database other instances are opening


class Store:
    """One connection, used under the handler's lock."""

    def __init__(self, path: Path, clients: Mapping[str, int]) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        deadline = time.monotonic() + PREPARE_S
        while True:
            try:
                self._prepare(clients)
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        try:
            self.db.execute("SELECT count(*) FROM json_each('[1]')")
            self.bulk = True
        except sqlite3.OperationalError:  # an SQLite built without JSON: executemany instead
            self.bulk = False

    def _prepare(self, clients: Mapping[str, int]) -> None:
        """WAL, the schema and the client names: each step may be repeated.

        Instances of one service (`store:`) open one database at once. Switching a fresh file to
        WAL takes an exclusive lock, and SQLite answers "database is locked" at once, without its
        busy timeout, to a connection that would otherwise deadlock with another doing the same:
        4 processes opening one fresh database failed 3 times in 120.
        """
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SCHEMA)
        self.db.executemany("INSERT OR REPLACE INTO clients (idx, name) VALUES (?, ?)",
                            [(i, n) for n, i in clients.items()])

    def write(self, batch: Sequence[DeliveryRow], dedupe: bool, plain: bool = False) -> list[int]:
        """Begin a transaction and write `batch`; return its outcomes. Call `commit` next.

        Fast path: probe PROCESSED_MESSAGES for the whole batch at once
        (INSERT OR IGNORE); if every ID was new (the usual case) insert the
        business rows in one go. Otherwise undo the probe and go row by row,
        where a duplicate's INSERT fails exactly as the seed describes.
        "In one go" is one statement over a JSON array of the IDs (json_each),
        which writes the same rows as a statement per row at a third of the
        cost (PERFORMANCE.md's hot-path budget). `plain`: the caller found the
        batch a `plain_run` (its IDs one range, first attempts, keyed): the
        same statements, without building the IDs and checking the rows here.
        """
        db = self.db
        db.execute("BEGIN")
        if len(batch) == 1 and (not dedupe or batch[0][5]):  # lockstep: plain statements, no JSON
            return [self._one(batch[0], dedupe)]
        ids: Sequence[int]
        if plain and self.bulk:
            first = (batch[0][0] << 32) | batch[0][1]
            ids = range(first, first + len(batch))
            keyed = True
        else:
            ids = [(d[0] << 32) | d[1] for d in batch]
            keyed = all(map(_KEYED, batch))
            plain = False
        array = "[" + ",".join(map(str, ids)) + "]" if self.bulk else ""
        if dedupe and keyed:
            before = db.total_changes
            if self.bulk:
                db.execute(_PROBE_BULK, (array,))
            else:
                db.executemany(_PROBE_PROCESSED, list(zip(ids)))
            if db.total_changes - before == len(ids):
                self._business(ids, array, batch, plain)
                return [APPLIED] * len(ids)
            # the probe was this transaction's only write: undo it whole (cheaper than a savepoint)
            db.execute("ROLLBACK")
            db.execute("BEGIN")
        elif not dedupe:
            self._business(ids, array, batch, plain)
            return [APPLIED] * len(ids)
        outcomes: list[int] = []
        business, refused = [], []
        for m, d in zip(ids, batch, strict=True):
            if dedupe and d[5]:
                try:
                    db.execute(_INSERT_PROCESSED, (m,))
                except sqlite3.IntegrityError:
                    refused.append((m, d[2], int(d[3])))
                    outcomes.append(DUPLICATE)
                    continue
            business.append((m, d[2], int(d[3])))
            outcomes.append(APPLIED)
        if business:
            db.executemany(_INSERT_BUSINESS, business)
        if refused:
            db.executemany(_INSERT_REFUSED, refused)
        return outcomes

    def _one(self, d: DeliveryRow, dedupe: bool) -> int:
        """The same rows as the batch forms for one delivery (a lockstep request), in the open
        transaction: a duplicate's PROCESSED_MESSAGES insert fails and it is refused."""
        m = (d[0] << 32) | d[1]
        row = (m, d[2], int(d[3]))
        if dedupe:
            try:
                self.db.execute(_INSERT_PROCESSED, (m,))
            except sqlite3.IntegrityError:
                self.db.execute(_INSERT_REFUSED, row)
                return DUPLICATE
        self.db.execute(_INSERT_BUSINESS, row)
        return APPLIED

    def _business(self, ids: Sequence[int], array: str, batch: Sequence[DeliveryRow], plain: bool) -> None:
        """One authorisation row per delivery."""
        if plain:  # first attempts, none redelivered (plain_run)
            self.db.execute(_INSERT_FIRST, (array,))
        elif not self.bulk or max(map(_ATTEMPT, batch)) >= _MAX_PACKED_ATTEMPT:
            self.db.executemany(_INSERT_BUSINESS, list(zip(ids, map(_ATTEMPT, batch), map(_REDELIVERED, batch), strict=True)))
        elif any(map(_ATTEMPT, batch)) or any(map(_REDELIVERED, batch)):
            packed = ",".join([str(m | (d[2] << 48) | (int(d[3]) << 62)) for m, d in zip(ids, batch, strict=True)])
            self.db.execute(_INSERT_PACKED, ("[" + packed + "]",))
        else:
            self.db.execute(_INSERT_FIRST, (array,))

    def add_outbox(self, rows: Sequence[tuple[int, int]]) -> None:
        """Outbox rows (hop sender index, sequence) in the open transaction (engines.nodes.hop_events)."""
        self.db.executemany("INSERT INTO outbox (hop, seq) VALUES (?, ?)", rows)

    def has_effect(self, client: int, seq: int) -> bool:
        """Whether a business row exists for this message ID (a scan: for recovery, not per message)."""
        row = self.db.execute("SELECT 1 FROM authorisations WHERE message_id = ? LIMIT 1",
                              ((client << 32) | seq,)).fetchone()
        return row is not None

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def close(self) -> None:
        self.rollback()
        self.db.close()

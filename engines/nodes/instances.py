"""Instances of one service: several service nodes sharing one SQLite database.

Real systems scale a consumer by running instances against one database: the
idempotency key belongs to the subscriber (the logical service), not to the
process. A service node with `store: NAME` opens `<run>/stores/NAME.db`
instead of its own `service.db`, so PROCESSED_MESSAGES is shared and a
redelivery that reaches the other instance is refused as a duplicate.

The ledger still counts per node: each instance stamps the rows it writes
with its node name (an `instance` column filled by a per-connection TEMP
trigger, so the store's hot-path SQL is unchanged), and reads only its own.
WAL lets readers run beside the writer; the busy timeout makes a second
instance wait for the write lock instead of failing with "database is locked".
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

BUSY_TIMEOUT_MS = 10_000
STAMPED = ("authorisations", "refused_duplicates")


def database_path(node_dir: Path, store: str | None) -> Path:
    """A node's own `service.db`, or the shared `<run>/stores/<store>.db` (node_dir is <run>/nodes/<name>)."""
    if not store:
        return Path(node_dir) / "service.db"
    path = Path(node_dir).parent.parent / "stores" / f"{store}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def share(db: sqlite3.Connection, instance: str) -> None:
    """Make `db` safe to share and stamp every row this connection writes with `instance`."""
    if not instance.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"instance name {instance!r} is not a node name")
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    for table in STAMPED:
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if "instance" not in columns:
            try:
                db.execute(f"ALTER TABLE {table} ADD COLUMN instance TEXT NOT NULL DEFAULT ''")
            except sqlite3.OperationalError as exc:  # the other instance added it first
                if "duplicate column" not in str(exc):
                    raise
        db.execute(
            f"CREATE TEMP TRIGGER IF NOT EXISTS stamp_{table} AFTER INSERT ON main.{table} "
            f"BEGIN UPDATE {table} SET instance = '{instance}' WHERE id = NEW.id; END")


def has_instances(db: sqlite3.Connection) -> bool:
    """Whether a database was shared (its rows carry the instance that wrote them)."""
    return any(row[1] == "instance" for row in db.execute("PRAGMA table_info(authorisations)"))

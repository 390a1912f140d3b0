"""The service database: the seed's idempotent consumer, row for row, on every path of Store.write."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from engines.nodes.store import Store
from engines.transports.base import APPLIED, DUPLICATE, Delivery
from engines.transports.wire import message_id


def _d(seq: int, client: int = 1, attempt: int = 0, redelivered: bool = False, keyed: bool = True):
    return Delivery(client, seq, attempt, redelivered, 0, keyed)


@pytest.fixture(params=[True, False], ids=["bulk", "executemany"])
def store(request, tmp_path):
    s = Store(tmp_path / "service.db", {"orders": 1})
    s.bulk = s.bulk and request.param
    yield s
    s.close()


def _write(store: Store, batch, dedupe: bool) -> list[int]:
    outcomes = store.write(batch, dedupe)
    store.commit()
    return outcomes


def _rows(store: Store, sql: str, *params: int):
    return store.db.execute(sql, params).fetchall()


def test_idempotent_batch_of_new_ids_applies_all(store):
    assert _write(store, [_d(i) for i in range(5)], dedupe=True) == [APPLIED] * 5
    assert _rows(store, "SELECT count(*) FROM authorisations") == [(5,)]
    assert _rows(store, "SELECT count(*) FROM processed_messages") == [(5,)]


def test_idempotent_refuses_duplicates_across_and_within_batches(store):
    _write(store, [_d(0), _d(1)], dedupe=True)
    outcomes = _write(store, [_d(1, attempt=1, redelivered=True), _d(2), _d(2, attempt=1)], dedupe=True)
    assert outcomes == [DUPLICATE, APPLIED, DUPLICATE]
    assert _rows(store, "SELECT count(*), count(DISTINCT message_id) FROM authorisations") == [(3, 3)]
    assert _rows(store, "SELECT message_id, attempt, redelivered FROM refused_duplicates ORDER BY id") == [
        (message_id(1, 1), 1, 1), (message_id(1, 2), 1, 0)]


def test_naive_service_applies_a_retry_twice(store):
    _write(store, [_d(7)], dedupe=False)
    assert _write(store, [_d(7, attempt=1)], dedupe=False) == [APPLIED]
    assert _rows(store, "SELECT count(*), count(DISTINCT message_id) FROM authorisations") == [(2, 1)]
    assert _rows(store, "SELECT count(*) FROM processed_messages") == [(0,)]


def test_unkeyed_delivery_cannot_be_deduplicated(store):
    _write(store, [_d(3)], dedupe=True)
    assert _write(store, [_d(3, attempt=1, keyed=False)], dedupe=True) == [APPLIED]
    assert _rows(store, "SELECT count(*) FROM authorisations WHERE message_id = ?", message_id(1, 3)) == [(2,)]


def test_columns_and_readable_view(store):
    _write(store, [_d(5, attempt=2, redelivered=True), _d(6)], dedupe=True)
    rows = _rows(store, "SELECT message_key, attempt, redelivered, amount_cents FROM authorisations_by_key "
                        "ORDER BY id")
    assert rows == [("orders:5", 2, 1, 100 + 5 * 37), ("orders:6", 0, 0, 100 + 6 * 37)]


def test_uncommitted_batch_leaves_nothing(tmp_path):
    store = Store(tmp_path / "service.db", {"orders": 1})
    store.write([_d(1), _d(2)], dedupe=True)
    store.close()  # a crash before the commit
    db = sqlite3.connect(tmp_path / "service.db")
    assert db.execute("SELECT count(*) FROM authorisations").fetchone() == (0,)
    db.close()


def _open_shared(path: str, errors, together) -> None:
    together.wait(10)  # the instances start at one instant, as a run starts them
    try:
        Store(Path(path), {"orders": 1}).close()
    except Exception as exc:  # noqa: BLE001 - reported to the test
        errors.put(repr(exc))


@pytest.mark.timeout(120)
def test_instances_opening_one_fresh_database_at_once_all_start(tmp_path):
    """Instances of one service (`store:`) start together: switching a fresh file to WAL answered
    "database is locked" at once (no busy timeout) to 3 of 120 processes, and a lesson's second
    worker exited before it was ready."""
    ctx = multiprocessing.get_context("fork")
    errors = ctx.Queue()
    for i in range(30):
        path = tmp_path / f"db{i}" / "shared.db"
        path.parent.mkdir()
        together = ctx.Barrier(4)
        procs = [ctx.Process(target=_open_shared, args=(str(path), errors, together)) for _ in range(4)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(30)
        assert all(proc.exitcode == 0 for proc in procs)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert failures == []

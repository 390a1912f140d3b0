"""The benches' "raw + the same commit" baselines do the lab's work: every message received is
committed, as the lab's two rows, before it is counted; a second delivery of an ID is refused."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
import zmq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from raw_lockstep import Commit  # noqa: E402
from raw_stream import MESSAGE, _committing  # noqa: E402


def _rows(db: sqlite3.Connection, table: str) -> list[int]:
    return [row[0] for row in db.execute(f"SELECT message_id FROM {table} ORDER BY message_id")]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("per_frame", [1, 128])
def test_the_committing_receiver_commits_every_message_it_counts(tmp_path: Path, per_frame: int) -> None:
    n = 5_000 if per_frame == 1 else 12_800
    ctx = zmq.Context()
    pull, push = ctx.socket(zmq.PULL), ctx.socket(zmq.PUSH)
    try:
        for sock in (pull, push):
            sock.setsockopt(zmq.LINGER, 0)
        pull.setsockopt(zmq.RCVTIMEO, 10_000)  # a lost frame fails the test instead of hanging it
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        push.connect(f"tcp://127.0.0.1:{port}")
        frame = b"x" * (MESSAGE * per_frame)
        for _ in range(n // per_frame):
            push.send(frame)
        store = Commit(str(tmp_path))
        got = _committing(pull, n, len(pull.recv()) // MESSAGE, store)
    finally:
        pull.close()
        push.close()
        ctx.term()
    assert got == n
    assert not store.db.in_transaction  # committed, not left open
    db = sqlite3.connect(tmp_path / "service.db")  # what another process would read
    assert _rows(db, "processed_messages") == list(range(n))
    assert _rows(db, "authorisations") == list(range(n))


def test_the_bulk_commit_refuses_an_id_twice_like_the_labs_store(tmp_path: Path) -> None:
    store = Commit(str(tmp_path))
    store.many(3)
    store.next_id = 2  # a redelivery of message 2 and a new message 3
    with pytest.raises(sqlite3.IntegrityError):
        store.many(2)
    store.db.execute("ROLLBACK")
    assert _rows(store.db, "processed_messages") == [0, 1, 2]
    assert _rows(store.db, "authorisations") == [0, 1, 2]

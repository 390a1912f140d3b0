"""The handler's `plain_run` shortcut: the store writes, and the checks decide, what they did without it."""

from __future__ import annotations

import random
from pathlib import Path

from engines.nodes.store import Store
from engines.transports.delivery import DeliveryRow, plain_run

_TABLES = ("SELECT message_id, attempt, redelivered FROM authorisations ORDER BY id",
           "SELECT message_id FROM processed_messages ORDER BY message_id",
           "SELECT message_id, attempt, redelivered FROM refused_duplicates ORDER BY id")


def _batch(rng: random.Random) -> list[DeliveryRow]:
    client, seq, n = rng.randrange(3), rng.randrange(40), rng.randrange(1, 12)
    rows = [(client, seq + i, 0, 0, 5, True) for i in range(n)]
    spoil = rng.randrange(7)
    i = rng.randrange(n)
    c, s, a, r, t, k = rows[i]
    if spoil == 1:
        rows[i] = (c + 1, s, a, r, t, k)  # another client in the middle
    elif spoil == 2:
        rows[i] = (c, s, 1, r, t, k)  # a retry
    elif spoil == 3:
        rows[i] = (c, s, a, 1, t, k)  # redelivered
    elif spoil == 4:
        rows[i] = (c, s, a, r, t, False)  # unkeyed
    elif spoil == 5 and n > 2:
        rows[0], rows[1] = rows[1], rows[0]  # out of order
    return rows


def _plain_reference(batch: list[DeliveryRow]) -> bool:
    c, s = batch[0][0], batch[0][1]
    return batch == [(c, s + i, 0, 0, b[4], True) for i, b in enumerate(batch)]


def test_plain_run_is_exactly_one_clients_consecutive_first_keyed_attempts() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        batch = _batch(rng)
        assert plain_run(batch) == _plain_reference(batch), batch
    assert not plain_run([])


def test_the_store_writes_the_same_rows_and_outcomes_with_the_shortcut(tmp_path: Path) -> None:
    rng = random.Random(12)
    for dedupe in (True, False):
        short = Store(tmp_path / f"short-{dedupe}.db", {"a": 0, "b": 1, "c": 2, "d": 3})
        long = Store(tmp_path / f"long-{dedupe}.db", {"a": 0, "b": 1, "c": 2, "d": 3})
        try:
            for _ in range(300):  # overlapping ranges make duplicates
                batch = _batch(rng)
                assert short.write(batch, dedupe, plain_run(batch)) == long.write(batch, dedupe)
                short.commit()
                long.commit()
            for query in _TABLES:
                assert short.db.execute(query).fetchall() == long.db.execute(query).fetchall()
        finally:
            short.close()
            long.close()

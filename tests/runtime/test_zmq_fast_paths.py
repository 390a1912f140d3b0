"""The lockstep and one-message-a-frame fast paths (issue 19) keep what the slow paths did.

`receive` decodes one-message frames together, waits with RCVTIMEO instead of
a poll, and still skips a bad frame alone; `Waiter` times out and receives;
the store's one-row write gives the same rows and outcomes as its batch form.
Real sockets over inproc/tcp loopback, a real SQLite file.
"""

from __future__ import annotations

import threading
from pathlib import Path

import zmq

from engines.nodes.store import Store
from engines.transports import wire
from engines.transports._zmq import (
    Accept,
    Batch,
    Waiter,
    context,
    listener,
    receive,
    recv_parts,
    socket,
)
from engines.transports.base import APPLIED, DUPLICATE


def _pair(kind_out: int, kind_in: int) -> tuple[zmq.Context[zmq.Socket[bytes]], zmq.Socket[bytes], zmq.Socket[bytes]]:
    ctx = context()
    inbound = listener(ctx, kind_in)
    port = inbound.bind_to_random_port("tcp://127.0.0.1")
    outbound = socket(ctx, kind_out)
    outbound.connect(f"tcp://127.0.0.1:{port}")
    return ctx, outbound, inbound


def _close(ctx: zmq.Context[zmq.Socket[bytes]], *socks: zmq.Socket[bytes]) -> None:
    for s in socks:
        s.close()
    ctx.term()


def test_one_message_frames_are_decoded_together_in_order() -> None:
    ctx, push, pull = _pair(zmq.PUSH, zmq.PULL)
    try:
        for seq in range(50):
            push.send(wire.pack(wire.NOTIFY, 3, seq, 0, 1000 + seq, b"p" * 40))
        got: list[int] = []
        while len(got) < 50:
            batch = receive(pull, 512, accept=Accept(wire.NOTIFY, [3]), wait=True)
            assert batch.bad == 0
            got += [h[4] for h in batch.heads]
            assert [d[1] for d in batch.items] == [h[4] for h in batch.heads]
        assert got == list(range(50))
    finally:
        _close(ctx, push, pull)


def test_a_bad_frame_among_good_ones_is_skipped_alone() -> None:
    ctx, push, pull = _pair(zmq.PUSH, zmq.PULL)
    try:
        frames = [wire.pack(wire.NOTIFY, 0, seq, 0, 1, b"x" * 8) for seq in range(6)]
        frames[2] = wire.pack(wire.NOTIFY, 9, 2, 0, 1, b"x" * 8)  # a client this service does not take
        frames[4] = wire.pack(wire.REQUEST, 0, 4, 0, 1, b"x" * 8)  # the wrong kind
        for f in frames:
            push.send(f)
        push.send(wire.pack(wire.NOTIFY, 0, 99, 0, 1, b"x" * 8))
        seqs: list[int] = []
        bad = 0
        while 99 not in seqs:
            batch = receive(pull, 512, accept=Accept(wire.NOTIFY, [0]), wait=True)
            seqs += [h[4] for h in batch.heads]
            bad += batch.bad
        assert seqs == [0, 1, 3, 5, 99]
        assert bad == 2
    finally:
        _close(ctx, push, pull)


def test_batch_frames_and_single_frames_mix() -> None:
    ctx, push, pull = _pair(zmq.PUSH, zmq.PULL)
    try:
        push.send(wire.pack(wire.NOTIFY, 0, 0, 0, 1, b"a" * 10))
        push.send(wire.pack_batch(wire.NOTIFY, 0, 1, 4, 1, b"a" * 10))
        push.send(wire.pack(wire.NOTIFY, 0, 5, 0, 1, b"a" * 10))
        push.send(wire.pack(wire.NOTIFY, 0, 6, 0, 1, b"a" * 999))  # another size
        seqs: list[int] = []
        while len(seqs) < 7:
            seqs += [h[4] for h in receive(pull, 512, accept=Accept(wire.NOTIFY, [0]), wait=True).heads]
        assert seqs == list(range(7))
    finally:
        _close(ctx, push, pull)


def test_router_keeps_each_requests_envelope() -> None:
    ctx, dealer, router = _pair(zmq.DEALER, zmq.ROUTER)
    try:
        for seq in range(20):
            dealer.send_multipart([b"", wire.pack(wire.REQUEST, 1, seq, 0, 1, b"r" * 16)])
        batch = Batch()
        while len(batch.items) < 20:
            more = receive(router, 512, tagged=True, accept=Accept(wire.REQUEST, [1]), wait=True)
            batch.items += more.items
            batch.heads += more.heads
            batch.tags += more.tags
        assert len(batch.tags) == len(batch.heads) == 20
        for tag, head in zip(batch.tags, batch.heads, strict=True):  # reply through the envelope
            router.send_multipart([*tag, wire.reply_to(head, 0)])
        replies = [wire.unpack(dealer.recv_multipart()[-1])[4] for _ in range(20)]
        assert sorted(replies) == list(range(20))
    finally:
        _close(ctx, dealer, router)


def test_waiting_receive_returns_empty_when_nothing_comes() -> None:
    ctx, push, pull = _pair(zmq.PUSH, zmq.PULL)
    try:
        batch = receive(pull, 512, wait=True)  # RCVTIMEO of a listener: TICK_MS
        assert batch.items == [] and batch.bad == 0
    finally:
        _close(ctx, push, pull)


def test_waiter_times_out_then_receives() -> None:
    ctx, push, pull = _pair(zmq.PUSH, zmq.PULL)
    try:
        waiter = Waiter(pull)
        assert waiter.recv(20) is None
        assert not waiter.poll(0)
        threading.Timer(0.05, lambda: push.send(b"hello")).start()
        assert waiter.recv(5000) == b"hello"
        assert waiter.recv(0) is None
    finally:
        _close(ctx, push, pull)


def _rows(store: Store) -> list[tuple[int, ...]]:
    return store.db.execute("SELECT message_id, attempt, redelivered FROM authorisations ORDER BY id").fetchall()


def test_one_row_write_matches_the_batch_form(tmp_path: Path) -> None:
    one = Store(tmp_path / "one.db", {"c": 0})
    many = Store(tmp_path / "many.db", {"c": 0})
    deliveries = [(0, 7, 0, 0, 1, True), (0, 8, 2, 1, 1, True), (0, 7, 1, 1, 1, True)]
    try:
        outcomes_one = []
        for d in deliveries:
            outcomes_one += one.write([d], dedupe=True)
            one.commit()
        outcomes_many = many.write(deliveries[:2], dedupe=True)
        many.commit()
        outcomes_many += many.write(deliveries[2:], dedupe=True)
        many.commit()
        assert outcomes_one == outcomes_many == [APPLIED, APPLIED, DUPLICATE]
        assert _rows(one) == _rows(many)
        refused = "SELECT message_id, attempt, redelivered FROM refused_duplicates"
        assert one.db.execute(refused).fetchall() == many.db.execute(refused).fetchall() == [(7, 1, 1)]
    finally:
        one.close()
        many.close()


def test_one_row_write_without_dedupe_writes_the_double_charge(tmp_path: Path) -> None:
    naive = Store(tmp_path / "naive.db", {"c": 0})
    try:
        for _ in range(2):
            assert naive.write([(0, 1, 0, 0, 1, True)], dedupe=False) == [APPLIED]
            naive.commit()
        assert len(_rows(naive)) == 2
    finally:
        naive.close()


def test_recv_parts_gives_what_recv_multipart_gives() -> None:
    ctx, dealer, router = _pair(zmq.DEALER, zmq.ROUTER)
    try:
        messages = [[b"", b"one"], [b"a", b"b", b"c", b""], [b"x" * 5000]]
        for parts in messages * 2:
            dealer.send_multipart(parts)
        first = [recv_parts(router) for _ in messages]  # blocking: a listener's RCVTIMEO bounds it
        second = [router.recv_multipart() for _ in messages]
        assert first == second
        assert [p[1:] for p in first] == messages  # after the identity ROUTER adds
        try:
            recv_parts(router, zmq.NOBLOCK)
        except zmq.Again:
            pass
        else:
            raise AssertionError("an empty socket gave a message")
    finally:
        _close(ctx, dealer, router)


def test_a_lone_message_is_decoded_as_the_batch_decoder_would_and_checked_alike() -> None:
    """The one-message path (lockstep) gives the same delivery, and skips what `Accept` refuses."""
    good = wire.pack(wire.REQUEST, 1, 7, 2, 123, b"p" * 9, flags=wire.FLAG_REDELIVERED)
    one, generic = Batch(Accept(wire.REQUEST, [1])), Batch(Accept(wire.REQUEST, [1]))
    one.add_singles([good], [[b"id", b""]])
    generic.add(good, [b"id", b""])
    assert (one.items, one.heads, one.tags, one.bad) == (generic.items, generic.heads, generic.tags, 0)
    for bad in (wire.pack(wire.NOTIFY, 1, 7, 0, 1, b"p"), wire.pack(wire.REQUEST, 2, 7, 0, 1, b"p")):
        skipped = Batch(Accept(wire.REQUEST, [1]))
        skipped.add_singles([bad], [[b"id", b""]])
        assert (skipped.items, skipped.tags, skipped.bad) == ([], [], 1)


def test_lockstep_counts_and_latencies_reach_the_snapshot() -> None:
    """One-delivery counting keeps the counters of the batch form; latencies wait for the snapshot."""
    from engines.nodes.stats import ServiceStats

    one, batch = ServiceStats(2), ServiceStats(2)
    for i in range(300):  # past the fold threshold, and a remainder the snapshot folds
        one.delivered_one(1, i % 3 == 0, i % 5 == 0, 1000 * (i + 1))
        batch.delivered({1: 1}, int(i % 3 != 0), int(i % 3 == 0), int(i % 5 == 0), 1000 * (i + 1), [0])
    a, b = one.snapshot(), batch.snapshot()
    assert a["c"] == b["c"] and a["by_client"] == b["by_client"]
    assert one.latency.total == batch.latency.total == 300 and one.latency.max_ns == batch.latency.max_ns


def test_a_clients_reply_latencies_reach_every_snapshot(tmp_path: Path) -> None:
    from engines.nodes.records import ClientRecorder

    rec = ClientRecorder(tmp_path / "records.bin", 1000)
    for seq in range(300):
        rec.sent(seq)
        rec.reply(seq, 0)
    first = rec.snapshot()["h"]
    rec.sent(300)
    rec.reply(300, 0)
    second = rec.snapshot()["h"]
    assert isinstance(first, dict) and isinstance(second, dict)
    assert (first["n"], second["n"]) == (300, 301)
    rec.close()


def test_pull_skips_a_multipart_message_whole_and_reads_no_message_across_frames() -> None:
    """The untagged receive decodes after its loop: a 3-frame message is one bad message (its
    good-looking parts are not taken), and equal-size frames that are not whole messages are
    each bad, never glued into messages across frame boundaries."""
    ctx, push, pull = _pair(zmq.PUSH, zmq.PULL)
    try:
        good = [wire.pack(wire.NOTIFY, 0, seq, 0, 1, b"x" * 8) for seq in range(4)]
        push.send(good[0])
        push.send_multipart([good[1], good[1], good[1]])
        whole = wire.pack_batch(wire.NOTIFY, 0, 10, 3, 1, b"y" * 8)  # three messages in two halves:
        push.send(whole[:len(whole) // 2])  # glued together they would parse
        push.send(whole[len(whole) // 2:])
        push.send(good[2])
        push.send(good[3])
        seqs: list[int] = []
        bad = 0
        while 3 not in seqs:
            batch = receive(pull, 512, accept=Accept(wire.NOTIFY, [0]), wait=True)
            seqs += [h[4] for h in batch.heads]
            bad += batch.bad
        assert seqs == [0, 2, 3]
        assert bad == 3  # the multipart message and both halves
    finally:
        _close(ctx, push, pull)

"""The hop events' QueuePacer keeps runs, not numbers: it hands out what a queue of numbers would."""

from __future__ import annotations

import collections
import random
import threading

from engines.nodes.hop_events import QueuePacer


class _Numbers:
    """The queue of single numbers QueuePacer replaced: the reference."""

    def __init__(self) -> None:
        self.q: collections.deque[int] = collections.deque()

    def put(self, seqs: list[int]) -> None:
        self.q.extend(seqs)

    def take(self, max_n: int) -> range:
        first = last = self.q.popleft()
        while self.q and last - first + 1 < max_n and self.q[0] == last + 1:
            last = self.q.popleft()
        return range(first, last + 1)


def test_runs_hand_out_what_single_numbers_did() -> None:
    rng = random.Random(3)
    for _ in range(500):
        ref, pacer = _Numbers(), QueuePacer(threading.Event())
        for _ in range(30):
            if rng.random() < 0.5:
                a, k = rng.randrange(50), rng.randrange(0, 8)
                seqs = list(range(a, a + k)) if rng.random() < 0.7 else [rng.randrange(50) for _ in range(k)]
                ref.put(seqs)
                pacer.put(seqs)
            elif ref.q:
                max_n = rng.choice([0, 1, 2, 3, 64])
                assert pacer.take(max_n) == ref.take(max_n)
            assert len(pacer) == len(ref.q)


def test_take_returns_empty_once_stopped() -> None:
    stop = threading.Event()
    pacer = QueuePacer(stop)
    stop.set()
    assert pacer.take(4) == range(0)


def test_a_withdrawn_call_leaves_the_rest_of_its_run_in_order() -> None:
    from engines.nodes.hop_rpc import CallPacer

    rng = random.Random(5)
    for _ in range(300):
        ref, pacer = _Numbers(), CallPacer(threading.Event())
        for _ in range(20):
            action = rng.random()
            if action < 0.4:
                a, k = rng.randrange(30), rng.randrange(0, 8)
                seqs = list(range(a, a + k)) if rng.random() < 0.7 else [rng.randrange(30) for _ in range(k)]
                ref.put(seqs)
                pacer.put(seqs)
            elif action < 0.7:
                seq = rng.randrange(30)
                present = seq in ref.q
                if present:
                    ref.q.remove(seq)
                assert pacer.withdraw(seq) == present
            elif ref.q:
                max_n = rng.choice([1, 3, 64])
                assert pacer.take(max_n) == ref.take(max_n)
            assert len(pacer) == len(ref.q)

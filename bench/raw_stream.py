"""Raw pyzmq PUSH -> PULL between two processes, one message a frame or batched like the lab.

Batched: the sender packs `per_frame` 278-byte messages (the lab's 22-byte
header + 256-byte payload) into one frame, as the lab's `messages_per_frame`
does, and the receiver counts the messages in each frame it gets. The rate
is messages over the receiver's first-to-last time.

With `commit`, the receiver gives each message what the lab's idempotent
service gives it: it takes the frames already waiting, up to 512 messages
(a lab service's batch), and commits the lab's two rows for each of them in
one SQLite transaction (`raw_lockstep.Commit.many`) before it counts them.
"lab / raw with commit" is then what the lab's own machinery costs.
"""

from __future__ import annotations

import multiprocessing as mp
import tempfile
import time
from typing import Any

import zmq
from raw_lockstep import Commit
from sessions import own_session

MESSAGE = 22 + 256
BATCH = 512  # messages a lab service takes into one transaction (ServiceContext.max_batch)


def _receiver(n: int, commit: bool, ready: Any, result: Any) -> None:
    own_session()
    with tempfile.TemporaryDirectory() as tmp:
        ctx = zmq.Context()
        sock = ctx.socket(zmq.PULL)
        sock.setsockopt(zmq.LINGER, 0)
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        ready.put(f"tcp://127.0.0.1:{port}")
        got = len(sock.recv()) // MESSAGE
        start = time.perf_counter()
        first = got
        if commit:
            got = _committing(sock, n, got, Commit(tmp))
        else:
            recv = sock.recv
            while got < n:
                got += len(recv()) // MESSAGE
        result.put((got - first) / (time.perf_counter() - start))
        sock.close()
        ctx.term()


def _committing(sock: zmq.Socket[bytes], n: int, got: int, store: Commit) -> int:
    """Receive until n messages, committing each run of waiting frames before counting it; the
    count (`got` already received and not yet committed)."""
    recv, noblock = sock.recv, zmq.NOBLOCK
    store.many(got)
    while got < n:
        count = len(recv()) // MESSAGE
        try:
            while count < BATCH:
                count += len(recv(noblock)) // MESSAGE
        except zmq.Again:
            pass
        store.many(count)
        got += count
    return got


def pushpull(n: int, per_frame: int = 1, commit: bool = False) -> float:
    """Messages per second, raw pyzmq PUSH -> PULL, two processes; with `commit`, the receiver
    commits the lab's rows for every message before counting it."""
    spawn = mp.get_context("spawn")  # no fork of a process that holds a zmq context
    ready: Any = spawn.Queue()
    result: Any = spawn.Queue()
    receiver = spawn.Process(target=_receiver, args=(n, commit, ready, result), daemon=True)
    receiver.start()
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUSH)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.connect(ready.get(timeout=60))
        frame = b"x" * (MESSAGE * per_frame)
        send = sock.send
        for _ in range(-(-n // per_frame)):
            send(frame)
        return float(result.get(timeout=300))
    finally:
        receiver.join(timeout=10)
        if receiver.is_alive():
            receiver.kill()
        sock.close()
        ctx.term()

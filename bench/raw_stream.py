"""Raw pyzmq PUSH -> PULL between two processes, one message a frame or batched like the lab.

Batched: the sender packs `per_frame` 278-byte messages (the lab's 22-byte
header + 256-byte payload) into one frame, as the lab's `messages_per_frame`
does, and the receiver counts the messages in each frame it gets. The rate
is messages over the receiver's first-to-last time.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any

import zmq
from sessions import own_session

MESSAGE = 22 + 256


def _receiver(n: int, per_frame: int, ready: Any, result: Any) -> None:
    own_session()
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PULL)
    sock.setsockopt(zmq.LINGER, 0)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    ready.put(f"tcp://127.0.0.1:{port}")
    got = len(sock.recv()) // MESSAGE
    start = time.perf_counter()
    first = got
    recv = sock.recv
    while got < n:
        got += len(recv()) // MESSAGE
    result.put((got - first) / (time.perf_counter() - start))
    sock.close()
    ctx.term()


def pushpull(n: int, per_frame: int = 1) -> float:
    """Messages per second, raw pyzmq PUSH -> PULL, two processes."""
    spawn = mp.get_context("spawn")  # no fork of a process that holds a zmq context
    ready: Any = spawn.Queue()
    result: Any = spawn.Queue()
    receiver = spawn.Process(target=_receiver, args=(n, per_frame, ready, result), daemon=True)
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

"""What a ZeroMQ high-water mark counts when the client batches: frames, not messages.

Real tcp sockets on loopback, framed by the lab's own wire format (`wire.pack_batch`, what a
notification client with `messages_per_frame: N` sends). A PUSH fills toward a PULL that never
reads (a worker that is stuck, about to be killed) until libzmq refuses more (EAGAIN): what is
queued then is what the killed worker would take with it. The kernel's socket buffers are made
small (ZMQ_SNDBUF/RCVBUF), so the high-water marks are what bounds the queue.
"""

from __future__ import annotations

import time

import pytest
import zmq

from engines.transports import wire
from engines.transports._zmq import context, socket

HWM = 50
PAYLOAD = b"x" * 256


def _queued_until_refused(per_frame: int) -> tuple[int, int]:
    """(frames, messages) a PUSH (SNDHWM=HWM) holds for a PULL (RCVHWM=HWM) that never reads."""
    ctx = context()
    pull = socket(ctx, zmq.PULL, RCVHWM=HWM, RCVBUF=4096)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = socket(ctx, zmq.PUSH, SNDHWM=HWM, SNDBUF=4096)
    push.connect(f"tcp://127.0.0.1:{port}")
    frames = messages = 0
    try:
        idle_until = time.monotonic() + 2.0
        while time.monotonic() < idle_until:  # until nothing more went for 2 s
            try:
                push.send(wire.pack_batch(wire.NOTIFY, 0, messages, per_frame, 0, PAYLOAD), zmq.NOBLOCK)
            except zmq.Again:
                time.sleep(0.01)
                continue
            frames, messages = frames + 1, messages + per_frame
            idle_until = time.monotonic() + 2.0
    finally:
        push.close()
        pull.close()  # the worker goes: everything queued for it is lost
        ctx.term()
    return frames, messages


@pytest.mark.timeout(60)
def test_high_water_marks_count_frames_so_a_batched_client_queues_hwm_times_batch_messages():
    one_frames, one_messages = _queued_until_refused(1)
    assert one_messages == one_frames
    # one message a frame: the two pipes hold 2 x HWM messages (a few more sit in the small
    # kernel buffers), so a stuck worker's loss is of the order of the high-water marks
    assert 2 * HWM <= one_frames <= 2 * HWM + 100, one_frames
    for per_frame in (16, 128):
        frames, messages = _queued_until_refused(per_frame)
        # the same marks hold the same number of frames (the kernel takes hardly any of these
        # larger frames), and each frame is per_frame messages: up to HWM x batch are at stake
        assert 2 * HWM <= frames <= 2 * HWM + 4, (per_frame, frames)
        assert messages == frames * per_frame
        assert messages >= 2 * HWM * per_frame > one_messages

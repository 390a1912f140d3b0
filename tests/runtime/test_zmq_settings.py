"""ZeroMQ settings of issue 14, each shown by real processes and real sockets.

Assertions are directions and exact bookkeeping identities, never speeds.
"""

from __future__ import annotations

import pytest

from engines.topology.model import Action, ClientNode, ServiceNode, Step, Topology


def _stalled_worker(per_frame: int) -> Topology:
    """A PUSH client at full speed into one PULL worker that takes half a second a message (and
    so reads almost nothing), then is killed: what the high-water marks and the socket buffers
    held is what it takes with it."""
    return Topology(
        name=f"frames-{per_frame}",
        duration_s=4.0,
        nodes=[ClientNode(name="feed", style="notification", transport="zmq", rate=0, count=1_280_000,
                          payload_bytes=256, messages_per_frame=per_frame),
               ServiceNode(name="worker", hwm=10, reply=False, processing_ms=500)],
        links=[{"from": "feed", "to": "worker", "hwm": 10}],
        scenario=[Step(action=Action.KILL, target="worker", at_s=2.5)],
    )


@pytest.mark.timeout(120)
def test_one_message_per_frame_by_default_and_a_batched_frame_is_lost_whole(lab):
    assert ClientNode(name="c").messages_per_frame == 1
    for per_frame in (1, 128):
        summary, _sup = lab.run(_stalled_worker(per_frame))
        total = summary["total"]
        assert summary["node_states"]["worker"]["state"] == "killed"
        assert total["lost"] > 0 and total["lost"] == total["sent"] - total["processed"], total
        assert total["duplicates_delivered"] == 0 and total["duplicates_processed"] == 0, total
        if per_frame == 1:  # one message a frame: the worker committed messages one by one
            assert total["processed"] >= 1, total
        else:
            # 128 messages a frame: what was sent, and what the killed worker took with it, comes
            # in whole frames; its first frame alone is 128 x 500 ms of work, so none committed
            assert total["sent"] % per_frame == 0 and total["lost"] % per_frame == 0, total
            assert total["processed"] == 0, total

"""Example 22 run from the GUI: a member killed by hand from its broker's menu, the leader moves.

One cluster boot serves the whole story: the members show on the broker's
tile, `rabbit/1` (the queue's leader) is killed from its submenu, the event
log shows the leader change and the clients' failovers, the stream goes on,
and nothing of the run (node, beam.smp, epmd) is left afterwards. With
LAB_UPDATE_SCREENSHOTS=1 the screenshot goes to docs/images/cluster-leader-killed.png.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import ROOT
from tests.gui.runs import (
    assert_run_left_nothing,
    by_hand,
    menu_action,
    needs_rabbitmq,
    open_example,
    wait_phase,
    wait_state,
)
from tests.gui.test_run_broker_failure import processed
from tests.gui.test_screenshots import shoot

pytestmark = [pytest.mark.gui, pytest.mark.rabbitmq]



@needs_rabbitmq
@pytest.mark.timeout(240)
def test_kill_the_leader_member_by_hand(window, qtbot, tmp_path):
    open_example(window, tmp_path, "22", by_hand)
    rm, scene = window.run_mode, window.scene
    rm.run()
    wait_state(qtbot, window, "checkout", ("ready",), 150)
    tile = scene.node_item("rabbit")
    qtbot.waitUntil(lambda: "leads payments" in (tile.detail or "") and processed(window) > 300,
                    timeout=30000)
    assert (tile.detail or "").startswith("rabbit/1 ready · leads payments")

    menu_action(window, tile, "kill-rabbit/1").trigger()
    qtbot.waitUntil(lambda: "rabbit/1 KILLED" in (tile.detail or ""), timeout=20000)
    before = processed(window)
    lines = rm.dashboard.events.lines
    qtbot.waitUntil(lambda: any("leader-change rabbit" in line for line in lines()), timeout=60000)
    qtbot.waitUntil(lambda: processed(window) > before + 400, timeout=60000)  # it goes on
    qtbot.wait(500)
    shot = shoot(window, "cluster-leader-killed.png")
    for client in ("checkout", "payments"):  # one failure: at most one failover each, and each
        # client found the cluster again (a client that was not on rabbit/1 reconnects, no failover)
        assert sum(f"failover {client}" in line for line in lines()) <= 1, "counted once per client"
        assert any(f"failover {client}" in line or f"reconnect {client}" in line for line in lines())
    assert any("leads payments" in line for line in (tile.detail or "").splitlines()[1:3])

    rm.stop()
    wait_phase(qtbot, window, ("ended",), 90)
    assert_run_left_nothing(window)
    if os.environ.get("LAB_UPDATE_SCREENSHOTS") == "1":
        images = ROOT / "docs" / "images"
        images.mkdir(parents=True, exist_ok=True)
        (images / shot.name).write_bytes(shot.read_bytes())

"""A broker's boot is visible, and its lifecycle reads like every node's (issue 16, defect 3).

The first Run of a brokered example says RabbitMQ is booting, how long it
should take and how far it is (canvas and status bar); a restart reads
`starting` with Start and Restart disabled until the broker is ready, not
KILLED; after the run the broker reads `exited` like the other nodes.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui.runs import (
    assert_run_left_nothing,
    by_hand,
    menu_action,
    needs_rabbitmq,
    node,
    open_example,
    wait_phase,
    wait_state,
)

pytestmark = [pytest.mark.gui, pytest.mark.rabbitmq]


def slow_consumer_by_hand(data):
    by_hand(data)
    node(data, "payments")["processing_ms"] = 6  # about 160/s against 200/s sent: the queue grows (and drains in seconds after Stop)


@needs_rabbitmq
@pytest.mark.timeout(240)
def test_the_broker_boot_shows_progress_then_reads_exited_after_the_run(window, qtbot, tmp_path):
    open_example(window, tmp_path, "12", slow_consumer_by_hand)
    rm, scene = window.run_mode, window.scene
    rabbit = scene.node_item("rabbit")
    rm.run_action.trigger()
    # booting: said on the broker and in the status bar, with a progress bar; no "queue 0"
    qtbot.waitUntil(lambda: rabbit.badge == "BOOTING" and "booting" in (rabbit.detail or ""), timeout=20000)
    qtbot.waitUntil(lambda: "is booting" in rm.status.text() and rm.boot_bar.isVisible(), timeout=5000)
    assert "of ~" in (rabbit.detail or "")
    qtbot.waitUntil(lambda: "▰" in (rabbit.detail or "") and rm.boot_bar.value() > 0, timeout=10000)  # it moves
    wait_state(qtbot, window, "checkout", ("ready",), 90)
    assert rabbit.badge.startswith("queue") and not rm.boot_bar.isVisible()

    qtbot.waitUntil(lambda: sum(rm.sampler.nodes["rabbit"].queues.values()) > 100, timeout=30000)
    # kill, then restart: starting (BOOTING) at once, Start and Restart disabled until ready
    menu_action(window, rabbit, "kill").trigger()
    wait_state(qtbot, window, "rabbit", ("killed",), 20)
    assert menu_action(window, rabbit, "start").isEnabled()
    # Live, while the broker is down: what sits in its queue is not lost (defect 2)
    counters = rm.dashboard.counters
    passes = rm.ledger.passes
    qtbot.waitUntil(lambda: rm.ledger.passes >= passes + 2, timeout=20000)
    qtbot.wait(400)  # the dashboard redraws from the latest pass
    shown = counters.values()
    assert shown["lost"] == 0, "live 'lost' counts messages that are only waiting"
    assert counters.tiles["in_doubt"].caption.text() == "not yet processed"
    assert shown["in_doubt"] > 0 and counters.split.isVisible()
    parts = counters.split.text()
    assert "in a queue" in parts and "unconfirmed" in parts and "in flight" in parts
    queued = int(parts.split("in a queue ")[1].split(" ·")[0].replace(" ", ""))
    assert queued > 0, parts
    ledger_total = rm.ledger.latest["total"]
    assert ledger_total["lost"] + ledger_total["in_doubt"] == shown["in_doubt"]
    menu_action(window, rabbit, "restart").trigger()
    wait_state(qtbot, window, "rabbit", ("starting",), 5)
    assert rabbit.badge == "BOOTING"
    assert not menu_action(window, rabbit, "start").isEnabled()
    assert not menu_action(window, rabbit, "restart").isEnabled()
    wait_state(qtbot, window, "rabbit", ("ready",), 90)
    # the queue's line has a gap over the outage, not a straight line through it (defect 8)
    qtbot.waitUntil(lambda: any(np.isnan(v).any() for _, v in rm.sampler.queue_series().values()),
                    timeout=15000)
    qtbot.waitUntil(lambda: np.isnan(rm.dashboard.queue_plot.curves["queue rabbit/payments"].yData).any(),
                    timeout=5000)

    rm.stop_action.trigger()
    wait_phase(qtbot, window, ("ended",), 90)
    assert rabbit.state == "exited" and rabbit.badge == "EXITED"
    assert "DOWN" not in (rabbit.detail or ""), "stopped in order at the end: no fault shown"
    summary = rm.session.summary
    assert summary["node_states"]["rabbit"]["state"] == "exited"
    assert counters.values()["lost"] == summary["total"]["lost"]  # final: the ledger's own figure
    assert counters.tiles["lost"].caption.text() == "lost" and not counters.split.isVisible()
    kinds = [e["event"] for e in rm.session.sup.events.since(0) if e.get("node") == "rabbit"]
    assert kinds.count("starting") == 2 and kinds[-1] == "exited"
    assert_run_left_nothing(window, timeout_s=90)

"""Issue 7's main test: the broker failure example, the broker killed and restarted from its menu.

The example's own scenario is removed so the faults come from the context
menu, as a user would inject them; the client gets enough messages to keep
sending until Stop.
"""

from __future__ import annotations

import pytest

from engines.brokers import procs
from tests.gui.runs import (
    assert_run_left_nothing,
    by_hand,
    menu_action,
    needs_rabbitmq,
    open_example,
    wait_phase,
    wait_state,
)

pytestmark = [pytest.mark.gui, pytest.mark.rabbitmq]



def processed(window, service: str = "payments") -> int:
    """What the service committed, from its telemetry (the canvas's source, updated 5 times a second)."""
    sampler = window.run_mode.sampler
    return int(sampler.nodes[service].totals.get("applied", 0)) if sampler else 0


@needs_rabbitmq
@pytest.mark.timeout(120)
def test_kill_and_restart_the_broker_from_its_menu_then_stop(window, qtbot, tmp_path):
    open_example(window, tmp_path, "12", by_hand)
    rm, scene = window.run_mode, window.scene
    rm.run_action.trigger()
    wait_state(qtbot, window, "checkout", ("ready",), 60)
    qtbot.waitUntil(lambda: processed(window) > 100, timeout=20000)
    broker = rm.session.sup.brokers["rabbit"]
    beam_pids = list(broker.pids())
    epmd_port = broker.layout.epmd_port
    assert beam_pids and scene.node_item("rabbit").badge.startswith("queue")

    # kill the broker from its context menu
    kill = menu_action(window, scene.node_item("rabbit"), "kill")
    assert kill.isEnabled()
    kill.trigger()
    wait_state(qtbot, window, "rabbit", ("killed",), 20)
    rabbit = scene.node_item("rabbit")
    qtbot.waitUntil(lambda: rabbit.badge == "KILLED" and "DOWN" in (rabbit.detail or ""), timeout=3000)
    qtbot.waitUntil(lambda: scene.link_item("rabbit->payments").stalled, timeout=5000)
    qtbot.wait(1000)  # the publisher cannot publish: its errors and backlog grow
    assert "waiting" in (scene.node_item("checkout").detail or "")
    assert not menu_action(window, rabbit, "kill").isEnabled()

    # restart it from the same menu; traffic flows again
    restart = menu_action(window, rabbit, "restart")
    assert restart.isEnabled()
    restart.trigger()
    wait_state(qtbot, window, "rabbit", ("ready",), 60)
    beam_pids += broker.pids()
    before = processed(window)
    qtbot.waitUntil(lambda: processed(window) > before + 100, timeout=30000)

    rm.stop_action.trigger()
    wait_phase(qtbot, window, ("ended",), 60)
    summary = rm.session.summary
    shown = rm.dashboard.counters.values()
    assert shown == {key: summary["total"][key] for key in shown}, "counters differ from the ledger"
    assert summary["total"]["duplicates_processed"] == 0  # the idempotent consumer held
    lines = rm.dashboard.events.lines()
    for expected in ("kill rabbit  (by hand)", "killed rabbit", "restart rabbit  (by hand)", "interrupted",
                     "run-ended"):
        assert any(expected in line for line in lines), f"'{expected}' not in the event log"
    labels = [p.label for p in rm.sampler.periods()]
    assert labels == ["rabbit killed"]
    assert_run_left_nothing(window, beam_pids)
    assert procs.epmd_processes(epmd_port) == []

"""Explain this number while a run goes on: a backlog on its way is not called lost by a hover."""

from __future__ import annotations

from typing import Any

import pytest

from tests.gui.runs import assert_run_left_nothing, node, open_example, wait_phase

pytestmark = pytest.mark.gui


def backlog(data: dict[str, Any]) -> None:
    """Example 06 without its kill and with 'worker-b' alone (5 ms a message): it gets more than
    it can take, so its sockets hold a backlog all run long, and nothing is ever dropped (PUSH
    blocks at its high-water mark, it never drops)."""
    data["scenario"] = []
    data["expectations"] = []
    data["nodes"] = [n for n in data["nodes"] if n["name"] != "worker-a"]
    data["links"] = [x for x in data["links"] if x["to"] != "worker-a"]
    node(data, "events").update(rate=2000, count=40_000)


@pytest.mark.timeout(120)
def test_a_live_hover_does_not_call_a_backlog_lost(window, qtbot, tmp_path):  # noqa: ANN001
    open_example(window, tmp_path, "06", backlog)
    rm = window.run_mode
    rm.run_action.trigger()
    wait_phase(qtbot, window, ("running",), 60)

    def behind() -> bool:  # the live ledger counts worker-b's backlog as not processed so far
        latest = rm.ledger.latest if rm.ledger is not None else None
        return bool(latest) and int(latest["nodes"].get("worker-b", {}).get("lost", 0)) > 200

    qtbot.waitUntil(behind, timeout=60_000)
    view = rm.explain_view
    view.refresh_live()  # what its one-second timer does
    assert rm.phase == "running"
    worker, link = window.scene.node_item("worker-b"), window.scene.link_item("events->worker-b")
    assert "lost" not in worker.toolTip() and "lost" not in link.toolTip(), (worker.toolTip(), link.toolTip())
    assert "lost" not in (worker.detail or "")  # the canvas says the same: nothing lost so far
    assert not [e for e in view.items.values() if e.counter in ("lost", "in_doubt") and e.value]
    window.scene.select(["worker-b"], [])  # its dock page: nothing to explain yet
    assert "lost" not in view.browser.toPlainText()
    rm.ledger.join(10)  # no new pass from here on
    view.refresh_live()
    made = view.items
    view.refresh_live()  # the same pass and events: not explained again
    assert view.items is made
    rm.ledger.latest = dict(rm.ledger.latest)  # a new pass
    view.refresh_live()
    assert view.items is not made and view.items == made
    rm.stop()
    wait_phase(qtbot, window, ("ended",), 60)
    assert_run_left_nothing(window)

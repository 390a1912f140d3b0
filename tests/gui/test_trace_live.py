"""From a counter to a message in the running GUI: a tile click lists the IDs, live and after the run."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engines.trace.ids import COUNTERS
from tests.gui.runs import assert_run_left_nothing, open_example, wait_phase, wait_state

pytestmark = pytest.mark.gui


@pytest.mark.timeout(150)
def test_a_counter_tile_opens_its_ids_live_and_after_the_run(window, qtbot, tmp_path):  # noqa: ANN001
    open_example(window, tmp_path, "06")  # PUSH to two workers; worker-b is killed at 2 s
    rm = window.run_mode
    rm.run_action.trigger()
    wait_state(qtbot, window, "events", ("ready",), 60)
    qtbot.mouseClick(rm.dashboard.counters.tiles["lost"], Qt.MouseButton.LeftButton)
    live = rm.messages_dialog
    assert live.ids_source is not None  # recomputed from the run's files as it goes
    assert live.current_counter() == "lost"
    live.close()
    wait_phase(qtbot, window, ("ended",), 120)
    total = rm.session.summary["total"]
    qtbot.mouseClick(rm.dashboard.counters.tiles["lost"], Qt.MouseButton.LeftButton)
    after = rm.messages_dialog
    assert after.ids_source is None  # the run's ids.json
    assert after.list.count() == total["lost"]  # exactly the ledger's lost messages
    for counter in COUNTERS:  # every counter's list has as many IDs as the ledger counts
        after.choose_counter(counter)
        if counter in total and counter != "redelivered":
            assert after.list.count() == min(total[counter], 10000) or counter in (
                "timeouts", "retries", "errors", "nacks", "gave_up"), counter
    after.choose_counter("lost")
    if after.list.count():
        story = after.story
        assert story.id == after.list.item(0).text() and story.steps[0].kind == "send"
        assert "commit" not in [s.kind for s in story.steps]
        assert "events" in window.scene.selected_nodes()  # the message's path, selected on the canvas
    after.close()
    assert_run_left_nothing(window)

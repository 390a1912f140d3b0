"""Explain this number in the GUI: after a real run, a tile's hover and click, a node's click say why."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from tests.gui.runs import assert_run_left_nothing, open_example, wait_phase

pytestmark = pytest.mark.gui


def hover_text(widget) -> str:  # noqa: ANN001
    """What a hover shows: the tooltip Qt pops up for a ToolTip event at the widget's centre."""
    centre = widget.rect().center()
    QApplication.sendEvent(widget, QHelpEvent(QEvent.Type.ToolTip, centre, widget.mapToGlobal(centre)))
    text = QToolTip.text()
    QToolTip.hideText()
    return text


@pytest.mark.timeout(150)
def test_late_subscriber_tile_hover_click_and_node_click_explain_the_loss(window, qtbot, tmp_path):  # noqa: ANN001
    open_example(window, tmp_path, "08")  # PUB/SUB; 'latecomer' joins after 2 s
    rm = window.run_mode
    rm.run_action.trigger()
    wait_phase(qtbot, window, ("ended",), 120)
    total = rm.session.summary["total"]
    assert total["lost"] > 0
    tile = rm.dashboard.counters.tiles["lost"]
    shown = hover_text(tile)
    losers = {k: v["lost"] for k, v in rm.session.summary["nodes"].items() if v.get("lost") and k != "prices"}
    assert f"lost {total['lost']:,}" in shown
    for name in losers:  # every subscriber that lost messages is named, with its cause
        assert f"'{name}'" in shown
    lines = (rm.session.sup.run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    joined = [e["run_t"] for e in map(json.loads, lines) if e.get("event") == "joined" and "run_t" in e]
    # a slow joiner only when it joined after the clients started (under load it may join before)
    late = "latecomer" in losers and bool(joined) and joined[0] > 0
    if late:
        assert f"'latecomer' joined at {joined[0]:.2f} s" in shown and "slow joiner" in shown
    else:
        assert "slow joiner" not in shown
    if "dashboard" not in losers:  # the dashboard lost nothing: not named as a cause
        assert "'dashboard'" not in shown

    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)  # the messages dialog, with the why on top
    dialog = rm.messages_dialog
    assert dialog.current_counter() == "lost"
    assert dialog.why.isVisible() and f"lost {total['lost']:,}" in dialog.why.text()
    first = rm.explain_view.items[("total", "total", "lost")].message_ids[0]
    dialog.why.linkActivated.emit(first)  # a message ID in the why opens its story
    assert dialog.list.currentItem().text() == first and dialog.story.id == first
    dialog.close()

    view = rm.explain_view
    assert view.dock.isVisible()
    window.scene.select(["latecomer"], [])  # a click on the node
    page = view.browser.toPlainText()
    assert "node 'latecomer'" in page
    if late:
        assert "joined at" in page
        assert "slow joiner" in window.scene.node_item("latecomer").toolTip()
        assert "slow joiner" in window.scene.link_item("prices->latecomer").toolTip()
    if not losers.get("dashboard"):
        window.scene.select(["dashboard"], [])  # lost nothing, no fault: nothing to explain
        assert "Nothing to explain" in view.browser.toPlainText()
    story = view.open_story("lost", first)  # the dock's ID links open the same story
    assert story.story.id == first
    story.close()
    rm.edit_action.trigger()  # Ctrl+E, back to editing: the run's explanations go with its figures
    assert not view.dock.isVisible() and "slow joiner" not in tile.toolTip()
    assert "slow joiner" not in window.scene.node_item("latecomer").toolTip()
    assert_run_left_nothing(window)

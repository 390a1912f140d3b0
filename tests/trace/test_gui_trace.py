"""The GUI's way from a counter to a message: tile click -> IDs -> the story's sequence diagram."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engines.testing.runner import TopologyResult
from labgui.run.counters_panel import CountersPanel
from labgui.run.trace_view import MessagesDialog, install_tile_clicks

pytestmark = [pytest.mark.rabbitmq, pytest.mark.gui]


@pytest.mark.timeout(120)
def test_dialog_lists_a_counters_ids_and_draws_the_chosen_story(qtbot, redelivery_run: TopologyResult) -> None:  # noqa: ANN001
    assert redelivery_run.run_dir is not None
    highlighted: list[tuple[list[str], list[str]]] = []
    dialog = MessagesDialog(redelivery_run.run_dir, highlight=lambda n, k: highlighted.append((n, k)))
    qtbot.addWidget(dialog)
    dialog.choose_counter("duplicates_suppressed")
    count = redelivery_run.summary["total"]["duplicates_suppressed"]  # type: ignore[index]
    assert dialog.counter.currentText() == f"duplicates suppressed ({count})" and count >= 1
    assert dialog.list.count() == count
    text_id = dialog.list.item(0).text()
    assert [s.kind for s in dialog.story.steps if s.node == "card-authoriser"] == [
        "deliver", "commit", "deliver", "duplicate-refused"]
    assert dialog.diagram.renderer().isValid() and dialog.diagram.width() > 300
    assert highlighted[-1] == (["orders", "rabbit", "card-authoriser"],
                               ["orders->rabbit", "rabbit->card-authoriser"])
    assert text_id.startswith("orders:")
    dialog.choose_counter("lost")
    assert dialog.list.count() == 0 and dialog.counter.currentText() == "lost (0)"


def test_clicking_a_counter_tile_opens_that_counter(qtbot) -> None:  # noqa: ANN001
    panel = CountersPanel()
    qtbot.addWidget(panel)
    opened: list[str] = []
    install_tile_clicks(panel.tiles, opened.append, panel)  # type: ignore[arg-type]
    qtbot.mouseClick(panel.tiles["lost"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.tiles["sent"], Qt.MouseButton.LeftButton)  # no IDs behind 'sent'
    assert opened == ["lost"]


def test_a_directory_that_is_no_run_says_so(qtbot, tmp_path) -> None:  # noqa: ANN001
    dialog = MessagesDialog(tmp_path)
    qtbot.addWidget(dialog)
    assert "not a run directory" in dialog.notes.text()
    assert dialog.list.count() == 0

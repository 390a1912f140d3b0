"""Layout as a newcomer meets it (issue 16, defect 10): 1280x800 after a run, 1024 px, a dark desktop."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from engines.topology.vocabulary import NodeKind
from labgui.app.app import use_lab_look
from labgui.editor.palette import Palette
from tests.gui.runs import assert_run_left_nothing, node, open_example, wait_phase


def _all_nodes_visible(window) -> bool:
    seen = QRectF(window.view.mapToScene(window.view.viewport().rect()).boundingRect())
    return all(seen.contains(item.sceneBoundingRect()) for item in window.scene.nodes.values())


def test_run_and_stop_never_overflow_and_the_canvas_refits_at_1024(window, opened, qtbot):
    opened("12")
    window.view.fit_to_view()
    window.resize(1024, 700)
    qtbot.wait(100)
    QApplication.processEvents()
    for action in (window.run_mode.run_action, window.run_mode.stop_action):
        button = window.toolbar.widgetForAction(action)
        assert button is not None and button.isVisible(), f"{action.text()} is in the toolbar's overflow"
        assert window.toolbar.rect().contains(button.geometry())
    assert _all_nodes_visible(window), "the canvas neither refits nor scrolls"


def test_a_dark_desktop_palette_does_not_hide_the_palette_titles(qapp, qtbot):
    before = qapp.palette()
    dark = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.WindowText, "#f1f3f4"),
                         (QPalette.ColorRole.Base, "#202124"), (QPalette.ColorRole.Text, "#f1f3f4")):
        dark.setColor(role, QColor(colour))
    qapp.setPalette(dark)
    try:
        use_lab_look(qapp)
        palette = Palette()
        qtbot.addWidget(palette)
        palette.show()
        qtbot.waitExposed(palette)
        card = palette.cards[NodeKind.CLIENT]
        image = card.grab().toImage()
        title = card.findChild(type(card.children()[-1]), "paletteTitle")
        assert title is not None
        ink = title.palette().color(title.foregroundRole())
        paper = image.pixelColor(4, image.height() // 2)
        assert abs(ink.lightness() - paper.lightness()) > 120, (ink.name(), paper.name())
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 180  # canvas and plots match
    finally:
        qapp.setPalette(before)


@pytest.mark.timeout(200)
def test_after_a_run_the_results_keep_the_room_until_back_to_editing(window, qtbot, tmp_path):
    def small(data):
        node(data, "shop")["count"] = 100
    open_example(window, tmp_path, "01", small)
    rm = window.run_mode
    rm.run_action.trigger()
    wait_phase(qtbot, window, ("ended",), 90)
    qtbot.wait(100)
    assert not window.palette_dock.isVisible() and not window.inspector_dock.isVisible()
    result = rm.dashboard.docks["Result"]
    assert result.isVisible() and result.width() >= 300
    assert window.view.width() >= 400
    assert rm.edit_action.isEnabled()
    rm.edit_action.trigger()  # Ctrl+E
    assert window.palette_dock.isVisible() and window.inspector_dock.isVisible()
    assert not rm.dashboard.docks["Throughput"].isVisible()
    assert not rm.edit_action.isEnabled()
    assert_run_left_nothing(window, timeout_s=90)


def test_an_editing_window_builds_its_plots_only_when_shown(window, qtbot):
    """Five pyqtgraph plots are half of a window's start: an editing window has none until a run
    or the user shows a plot dock; shown from the menu it is the (empty) plot, not a blank."""
    from labgui.run.plots import LivePlot

    dashboard = window.run_mode.dashboard
    assert window.findChildren(LivePlot) == []
    dashboard.docks["Latency"].toggleViewAction().trigger()  # Run > Dashboard panels > Latency
    qtbot.waitUntil(lambda: len(window.findChildren(LivePlot)) == 1, timeout=2000)
    shown = dashboard.docks["Latency"].widget()
    assert isinstance(shown, LivePlot) and shown.isVisible() and shown is dashboard.latency_plot
    assert not shown.label_faults and dashboard.rate_plot.label_faults
    assert len(dashboard.plots) == 5 and len(window.findChildren(LivePlot)) == 5

"""`labgui` launches the editor on the default example; run mode's seams draw as they should."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from engines.topology.examples import default_example
from labgui.app import app as app_module
from labgui.app.app import launch
from labgui.app.mainwindow import MainWindow
from labgui.canvas.link_item import LinkItem
from labgui.canvas.node_item import NodeItem
from tests.gui.test_screenshots import shoot

pytestmark = pytest.mark.gui


def test_launch_opens_the_default_example_at_a_sensible_size(qapp, monkeypatch):
    seen = {}

    class LoopThatLooks:
        """Stands in for app.exec(): a real loop would only end when a user closes the window."""

        aboutToQuit = SimpleNamespace(connect=lambda slot: None)  # launch() hooks the clipboard's cleanup

        def exec(self) -> int:
            window = next(w for w in QApplication.topLevelWidgets()
                          if isinstance(w, MainWindow) and w.isVisible())
            QApplication.processEvents()
            seen.update(path=window.files.path, example=window.files.example, size=(window.width(), window.height()),
                        nodes=len(window.scene.nodes), title=window.title_text())
            window.close()
            return 0

    monkeypatch.setattr(app_module, "application", LoopThatLooks)
    monkeypatch.setattr(app_module, "install_signal_handlers", lambda app, window: None)  # no real app
    assert launch(None) == 0
    assert seen["path"] is None and seen["example"] == default_example() and seen["nodes"] == 3
    assert seen["title"] == f"{default_example().name} (example: an untitled copy) — Topology Lab"
    area = QGuiApplication.primaryScreen().availableGeometry()  # offscreen: 800x800
    assert seen["size"] == (min(1280, area.width()), min(800, area.height()))


def test_context_menus_offer_what_fits_the_item(window, opened):
    opened("12")
    menu = window.build_context_menu(window.scene.node_item("rabbit"))
    texts = [a.text() for a in menu.actions()]
    assert texts[:3] == ["&Copy", "D&uplicate", "&Delete"]
    assert texts[3:] == ["", "Add &Note", "Add &Box"]  # annotations, after a separator
    menu = window.build_context_menu(window.scene.link_item("rabbit->payments"))
    assert [a.text() for a in menu.actions()][0] == "&Delete"
    menu = window.build_context_menu(None)
    assert "Auto-&layout" in [a.text() for a in menu.actions()]


def test_run_mode_seams_draw_states_badges_and_rates(window, opened):
    """Issue 7 will drive these; here they only have to draw legibly."""
    opened("12")
    scene = window.scene
    node: NodeItem = scene.node_item("checkout")
    node.set_state("ready")
    broker = scene.node_item("rabbit")
    broker.set_state("killed")
    broker.set_badge("queue 1.2k")
    scene.node_item("payments").set_state("paused")
    link: LinkItem = scene.link_item("checkout->rabbit")
    link.set_rate("0/s")
    link.set_thickness(1.0)
    scene.link_item("rabbit->payments").set_rate("180/s")
    window.set_editing_locked(True)
    window.view.fit_to_view()
    shoot(window, "editor-run-seams.png")
    assert broker.boundingRect().contains(broker._badge_rect)
    window.set_editing_locked(False)


def test_a_batch_of_live_fields_is_laid_out_once_as_if_set_one_by_one(window, opened):
    opened("12")
    node = window.scene.node_item("payments")
    detail = "processed 12,345\ndup. suppressed 0 · dup. processed 0"
    node.set_badge("1.2k/s")
    node.set_detail(detail)
    one_by_one = (QRectF(node.boundingRect()), list(node._detail_lines), QRectF(node._badge_rect))
    node.set_badge(None)
    node.set_detail(None)
    before = QRectF(node.boundingRect())
    layouts = []
    original = node._layout
    node._layout = lambda: (layouts.append(1), original())[1]  # type: ignore[method-assign]
    with node.batch():
        node.set_badge("1.2k/s")
        node.set_detail(detail)
        assert node.boundingRect() == before  # nothing laid out yet
    assert len(layouts) == 1
    assert (node.boundingRect(), node._detail_lines, node._badge_rect) == one_by_one
    with node.batch():  # nothing changed: nothing laid out
        node.set_badge("1.2k/s")
    assert len(layouts) == 1

"""What a newcomer sees on the canvas (issue 16): the empty-canvas hint goes with the first node."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QApplication

from engines.topology.vocabulary import NodeKind
from tests.gui.conftest import drop_from_palette


class PaintSpy(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.regions: list[QRect] = []

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            assert isinstance(event, QPaintEvent)
            self.regions.append(event.region().boundingRect())
        return False


def test_the_empty_canvas_hint_is_repainted_away_when_the_first_node_lands(window, qtbot):
    window.new_file()
    viewport = window.view.viewport()
    QApplication.processEvents()
    spy = PaintSpy()
    viewport.installEventFilter(spy)
    try:
        drop_from_palette(window, NodeKind.CLIENT, (300, 200))  # away from the centre's text
        qtbot.wait(50)
        QApplication.processEvents()
    finally:
        viewport.removeEventFilter(spy)
    # The hint is centred across the whole view: some paint after the drop must cover it all.
    assert any(r.contains(viewport.rect()) for r in spy.regions), spy.regions
    spy.regions.clear()
    viewport.installEventFilter(spy)
    try:
        window.undo_action.trigger()  # back to empty: the hint comes back over the whole view
        qtbot.wait(50)
        QApplication.processEvents()
    finally:
        viewport.removeEventFilter(spy)
    assert any(r.contains(viewport.rect()) for r in spy.regions), spy.regions

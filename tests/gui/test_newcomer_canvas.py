"""What a newcomer sees on the canvas (issue 16): the empty-canvas hint goes with the first node."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QApplication

from engines.topology.vocabulary import NodeKind
from labgui.run.canvas import count_text
from tests.gui.conftest import drop_from_palette
from tests.gui.runs import assert_run_left_nothing, open_example, wait_phase


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


@pytest.mark.timeout(200)
def test_the_canvas_shows_lost_where_it_happened_live_and_at_the_end(window, qtbot, tmp_path):
    """Example 8: the late subscriber missed what was published before it joined (defect 7)."""
    open_example(window, tmp_path, "08")
    rm, late = window.run_mode, window.scene.node_item("latecomer")
    rm.run_action.trigger()
    # live: PUB/SUB never resends, so the gap before the first message it got is certainly lost
    qtbot.waitUntil(lambda: "lost" in (late.detail or ""), timeout=40000)
    # one clock: the counters tile and the canvas show the same 'sent' (defect 9)
    prices = window.scene.node_item("prices")

    def canvas_sent() -> int:
        return int((prices.detail or "sent -1").split("sent ")[1].split(" ")[0].split("\n")[0].replace("k", "00"))

    if rm.phase == "running":
        qtbot.waitUntil(lambda: rm.dashboard.counters.values()["sent"] == canvas_sent() or rm.phase != "running",
                        timeout=5000)
    wait_phase(qtbot, window, ("ended",), 60)
    summary = rm.session.summary
    lost = summary["nodes"]["latecomer"]["lost"]
    assert lost > 0
    assert f"lost {count_text(lost)}" in late.detail
    assert "lost" not in (window.scene.node_item("dashboard").detail or "") or \
        summary["nodes"]["dashboard"]["lost"] > 0
    assert_run_left_nothing(window, timeout_s=90)


@pytest.mark.timeout(180)
def test_a_lazy_pirate_client_shows_timeouts_under_their_own_name(window, qtbot, tmp_path):
    """Example 2: the service killed and started again; the client times out and retries."""
    open_example(window, tmp_path, "02")
    rm, client = window.run_mode, window.scene.node_item("pricing-client")
    rm.run_action.trigger()
    wait_phase(qtbot, window, ("ended",), 150)
    books = rm.session.summary["nodes"]["pricing-client"]
    assert books["timeouts"] > 0
    assert f"timeouts {count_text(books['timeouts'])}" in client.detail
    if books["errors"] == 0:
        assert "errors" not in client.detail, client.detail
    else:
        assert f"errors {count_text(books['errors'])}" in client.detail
    assert_run_left_nothing(window, timeout_s=90)


README_EXAMPLE = """\
version: 1
name: request-response-http
nodes:
  - name: shop
    kind: client
    style: request-response
    transport: http
    rate: 100
    count: 500
  - name: inventory
    kind: service
    idempotent: true
links:
  - from: shop
    to: inventory
"""


def test_a_file_without_positions_opens_laid_out(window, tmp_path):
    """The README's own example has no positions: its nodes used to open on one spot."""
    path = tmp_path / "readme.topo.yaml"
    path.write_text(README_EXAMPLE)
    assert window.open_file(path)
    shop, inventory = window.scene.node_item("shop"), window.scene.node_item("inventory")
    assert not shop.sceneBoundingRect().intersects(inventory.sceneBoundingRect())
    assert shop.pos().x() < inventory.pos().x()
    assert not window.doc.is_modified()

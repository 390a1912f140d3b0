"""Open a broker during a run: its exchange, bindings and queues with live ready/unacked counts.

Example 07 (a work queue) run by hand with slow workers, so the queue holds
ready messages and each worker its prefetch unacknowledged: a double-click on
the broker draws its inside under it, filled from the management API; the
counts on the canvas are the broker's; a second double-click closes it. The
context menu of a stream consumer offers the re-read.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt

from labgui.canvas.broker_inside import BrokerInsideItem, shown_bindings
from tests.gui.conftest import _send
from tests.gui.runs import (
    assert_run_left_nothing,
    menu_action,
    needs_rabbitmq,
    node,
    open_example,
    wait_phase,
)

pytestmark = [pytest.mark.gui, pytest.mark.rabbitmq]


def slow_workers(data):
    data["scenario"] = []
    data.pop("duration_s", None)
    node(data, "orders")["count"] = 100_000
    node(data, "orders")["rate"] = 200
    for name in ("fulfil-a", "fulfil-b"):
        node(data, name)["processing_ms"] = 20  # 2 x 50/s: the queue grows, prefetch stays out
        node(data, name)["prefetch"] = 10


def double_click(window, name):
    pos = window.scene.node_item(name).pos()
    for kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
                 QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseButtonRelease):
        buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
        _send(window, kind, pos, Qt.MouseButton.LeftButton, buttons, Qt.KeyboardModifier.NoModifier)


def insides(window):
    return [i for i in window.scene.items() if isinstance(i, BrokerInsideItem)]


@needs_rabbitmq
@pytest.mark.timeout(180)
def test_double_click_a_broker_shows_its_queues_with_live_counts(window, qtbot, tmp_path):
    open_example(window, tmp_path, "07", slow_workers)
    rm = window.run_mode
    rm.run_action.trigger()
    wait_phase(qtbot, window, ("running",), 90)
    monitor = rm.session.sup.internals
    assert monitor is not None

    def holding():  # both workers hold their prefetch, the rest waits in the queue
        latest = monitor.latest("rabbit")
        q = latest[1].queues.get("orders") if latest else None
        return q is not None and q.unacked == 20 and q.ready > 0

    qtbot.waitUntil(holding, timeout=60000)
    double_click(window, "rabbit")
    [item] = insides(window)
    assert item.broker == "rabbit" and item.isVisible()

    def shows_the_broker():
        rm.broker_insides.refresh()
        queue = next((q for q in item.figure.queues if q.name == "orders"), None)
        latest = monitor.latest("rabbit")[1].queues["orders"]
        return queue is not None and (queue.ready, queue.unacked, queue.consumers) == (
            latest.ready, latest.unacked, latest.consumers) and queue.unacked == 20
    qtbot.waitUntil(shows_the_broker, timeout=10000)
    # the default exchange routes to the queue by its name: drawn as a binding
    assert ("(default)", "orders", "orders") in shown_bindings(item.figure)
    # under the broker, not over it
    assert item.pos().y() > window.scene.node_item("rabbit").pos().y()
    assert menu_action(window, window.scene.node_item("rabbit"), "inside").text().startswith("Close")

    double_click(window, "rabbit")
    assert insides(window) == []
    assert menu_action(window, window.scene.node_item("rabbit"), "inside").text().startswith("Show")

    rm.stop_action.trigger()
    wait_phase(qtbot, window, ("ended",), 90)
    peaks = rm.session.summary["broker_queues"]["rabbit/orders"]
    assert peaks["unacked_max"] == 20
    assert_run_left_nothing(window)


def by_hand_stream(data):
    data["scenario"] = []
    node(data, "orders")["count"] = 100_000
    node(data, "projector").pop("crash", None)


@needs_rabbitmq
@pytest.mark.timeout(180)
def test_reread_a_stream_from_the_service_menu(window, qtbot, tmp_path):
    open_example(window, tmp_path, "36", by_hand_stream)
    rm = window.run_mode
    rm.run_action.trigger()
    wait_phase(qtbot, window, ("running",), 90)
    qtbot.waitUntil(lambda: rm.sampler.nodes["projector"].totals.get("applied", 0) > 100, timeout=60000)
    projector = window.scene.node_item("projector")
    assert not insides(window)
    entry = menu_action(window, projector, "reread-first")
    assert entry.isEnabled()
    entry.trigger()
    qtbot.waitUntil(lambda: rm.sampler.nodes["projector"].totals.get("stream_reread", 0) > 100, timeout=90000)
    rm.stop_action.trigger()
    wait_phase(qtbot, window, ("ended",), 90)
    books = rm.session.summary["nodes"]["projector"]
    assert books["stream_rereads"] == 1 and books["stream_reread"] > 100
    assert books["duplicates_processed"] == 0 and books["duplicates_suppressed"] >= books["stream_reread"]
    assert any(e.get("event") == "reread" and e.get("offset") == "first" for e in rm.session.sup.events.since(0))
    assert_run_left_nothing(window)


def test_the_inside_draws_exchanges_bindings_and_queues(qapp):
    """Without a broker: the drawing from plain figures (default exchange only where nothing
    else routes; more queues than rows summed up; notes and redeliveries on the boxes)."""
    from PySide6.QtGui import QImage, QPainter

    from labgui.canvas.broker_inside import MAX_ROWS, InsideFigure, QueueFigure

    queues = [QueueFigure("orders.audit", 5, 2, 1, redelivered=3),
              QueueFigure("orders.ship", 0, 1, 1, note="restart: 4 → 4, survived (kept)"),
              QueueFigure("scratch", 7, 0, 0, durable=False, note="restart: 9 → gone, lost (not durable)")]
    queues += [QueueFigure(f"q{i}", i) for i in range(MAX_ROWS)]
    figure = InsideFigure(exchanges={"orders": "topic"}, queues=queues,
                          bindings=[("orders", "orders.audit", "order.#"), ("orders", "orders.ship", "order.paid"),
                                    ("", "orders.audit", "orders.audit"), ("", "scratch", "scratch")])
    assert ("(default)", "scratch", "scratch") in shown_bindings(figure)
    assert ("(default)", "orders.audit", "orders.audit") not in shown_bindings(figure)
    item = BrokerInsideItem("rabbit")
    item.set_figure(figure)
    rect = item.boundingRect()
    assert rect.height() > MAX_ROWS * 44  # rows for the queues it draws, and a line for the rest
    image = QImage(int(rect.width()) + 4, int(rect.height()) + 4, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    item.paint(painter, None)  # type: ignore[arg-type]
    painter.end()
    assert image.pixelColor(int(rect.width() / 2), 10).alpha() > 0  # something was drawn

"""A broker opened up on the canvas: its exchanges, bindings and queues, with live counts.

Drawn the way the RabbitMQ Simulator draws a broker: exchanges on the left,
queues on the right, a line per binding (with its routing key), and in each
queue a bar of ready messages (blue) and unacknowledged ones (amber). The item
only shows plain figures (`InsideFigure`); the run mode fills them from the
management API and places the item under its broker node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from labgui.canvas import theme

WIDTH = 470.0
PAD = 10.0
HEAD = 24.0
EX_W, Q_W = 150.0, 220.0
EX_H, Q_H, GAP = 30.0, 44.0, 8.0
MAX_ROWS = 10  # queues drawn; more are summed up in one line
READY, UNACKED = QColor("#1c7ed6"), QColor("#f08c00")
DEFAULT = "(default)"


@dataclass(frozen=True)
class QueueFigure:
    name: str
    ready: int = 0
    unacked: int = 0
    consumers: int = 0
    durable: bool = True
    kind: str = "classic"
    note: str = ""  # e.g. what survived the last restart
    redelivered: int = 0  # deliveries the broker flagged redelivered


@dataclass
class InsideFigure:
    """What to draw: exchanges (name -> type), queues, bindings (exchange, queue, routing key)."""

    exchanges: dict[str, str] = field(default_factory=dict)
    queues: list[QueueFigure] = field(default_factory=list)
    bindings: list[tuple[str, str, str]] = field(default_factory=list)
    note: str = ""  # a line under the title: the broker is down, no sample yet...


def _font(size: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(size)
    font.setBold(bold)
    return font


def shown_bindings(fig: InsideFigure) -> list[tuple[str, str, str]]:
    """Bindings to draw: every named exchange's; the default exchange's only for a queue that
    nothing else routes to (every queue is bound to it, by its own name)."""
    queues = {q.name for q in fig.queues}
    named = [b for b in fig.bindings if b[0] and b[1] in queues]
    bound = {b[1] for b in named}
    default = [(DEFAULT, q.name, q.name) for q in fig.queues if q.name not in bound]
    return named + default


class BrokerInsideItem(QGraphicsItem):
    """The inside of broker `broker`; `set_figure` replaces what it shows."""

    def __init__(self, broker: str) -> None:
        super().__init__()
        self.broker = broker
        self.figure = InsideFigure()
        self.setZValue(5)  # over links, under nothing that moves
        self._fonts = (_font(9.0, True), _font(8.0), _font(7.5))
        self._rect = QRectF(0, 0, WIDTH, HEAD + 40)

    def set_figure(self, figure: InsideFigure) -> None:
        self.prepareGeometryChange()
        self.figure = figure
        exchanges = self._exchanges()
        rows = max(len(exchanges) * (EX_H + GAP), min(len(figure.queues), MAX_ROWS) * (Q_H + GAP), 30.0) - GAP
        extra = 16.0 if len(figure.queues) > MAX_ROWS else 0.0
        self._rect = QRectF(0, 0, WIDTH, HEAD + (16 if figure.note else 0) + rows + extra + PAD)
        self.update()

    def _exchanges(self) -> list[tuple[str, str]]:
        used = {b[0] for b in shown_bindings(self.figure)}
        named = sorted((n, t) for n, t in self.figure.exchanges.items() if n in used or n)
        return ([(DEFAULT, "direct")] if DEFAULT in used else []) + named

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    # -- geometry shared by paint and tests ------------------------------------------------
    def _top(self) -> float:
        return HEAD + (16 if self.figure.note else 0)

    def exchange_rect(self, index: int) -> QRectF:
        return QRectF(PAD, self._top() + index * (EX_H + GAP), EX_W, EX_H)

    def queue_rect(self, index: int) -> QRectF:
        return QRectF(WIDTH - PAD - Q_W, self._top() + index * (Q_H + GAP), Q_W, Q_H)

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        bold, small, tiny = self._fonts
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor("#868e96"), 1.0, Qt.PenStyle.DashLine))
        p.setBrush(QBrush(QColor(255, 255, 255, 235)))
        p.drawRoundedRect(self._rect, 8, 8)
        p.setFont(bold)
        p.setPen(theme.TEXT)
        p.drawText(QRectF(PAD, 4, WIDTH - 2 * PAD, 18), Qt.AlignmentFlag.AlignVCenter,
                   f"inside {self.broker}")
        p.setFont(tiny)
        p.setPen(theme.MUTED)
        p.drawText(QRectF(PAD, 4, WIDTH - 2 * PAD, 18), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                   "exchanges → bindings → queues · management API, about 1 s behind")
        if self.figure.note:
            p.setFont(small)
            p.setPen(QColor("#c92a2a"))
            p.drawText(QRectF(PAD, HEAD - 2, WIDTH - 2 * PAD, 16), Qt.AlignmentFlag.AlignVCenter,
                       self.figure.note)
        exchanges = self._exchanges()
        ex_index = {name: i for i, (name, _t) in enumerate(exchanges)}
        queues = self.figure.queues[:MAX_ROWS]
        q_index = {q.name: i for i, q in enumerate(queues)}
        self._paint_bindings(p, ex_index, q_index, tiny)
        for i, (name, kind) in enumerate(exchanges):
            self._paint_exchange(p, self.exchange_rect(i), name, kind, small, tiny)
        top = max((q.ready + q.unacked for q in queues), default=0)
        for i, q in enumerate(queues):
            self._paint_queue(p, self.queue_rect(i), q, top, small, tiny)
        if len(self.figure.queues) > MAX_ROWS:
            rest = self.figure.queues[MAX_ROWS:]
            p.setFont(tiny)
            p.setPen(theme.MUTED)
            p.drawText(QRectF(WIDTH - PAD - Q_W, self._rect.bottom() - PAD - 14, Q_W, 14),
                       Qt.AlignmentFlag.AlignLeft,
                       f"+{len(rest)} more: {sum(q.ready for q in rest)} ready, "
                       f"{sum(q.unacked for q in rest)} unacked")

    def _paint_bindings(self, p: QPainter, ex_index: dict[str, int], q_index: dict[str, int],
                        font: QFont) -> None:
        p.setFont(font)
        metrics = QFontMetricsF(font)
        for exchange, queue, key in shown_bindings(self.figure):
            if exchange not in ex_index or queue not in q_index:
                continue
            a = self.exchange_rect(ex_index[exchange])
            b = self.queue_rect(q_index[queue])
            start, end = QPointF(a.right(), a.center().y()), QPointF(b.left(), b.center().y())
            p.setPen(QPen(QColor("#495057"), 1.2))
            p.drawLine(start, end)
            p.drawLine(end, end + QPointF(-6, -3))
            p.drawLine(end, end + QPointF(-6, 3))
            if key and exchange != DEFAULT:
                label = metrics.elidedText(key, Qt.TextElideMode.ElideRight, 90)
                mid = (start + end) / 2
                p.setPen(theme.MUTED)
                p.drawText(QRectF(mid.x() - 45, mid.y() - 14, 90, 12), Qt.AlignmentFlag.AlignCenter, label)

    def _paint_exchange(self, p: QPainter, r: QRectF, name: str, kind: str, font: QFont,
                        tiny: QFont) -> None:
        p.setPen(QPen(QColor("#5f3dc4"), 1.2))
        p.setBrush(QBrush(QColor("#f3f0ff")))
        p.drawRoundedRect(r, 12, 12)
        p.setFont(font)
        p.setPen(theme.TEXT)
        metrics = QFontMetricsF(font)
        p.drawText(r.adjusted(8, 1, -8, -12), Qt.AlignmentFlag.AlignVCenter,
                   metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, r.width() - 16))
        p.setFont(tiny)
        p.setPen(theme.MUTED)
        p.drawText(r.adjusted(8, 14, -8, 0), Qt.AlignmentFlag.AlignVCenter, f"exchange · {kind}")

    def _paint_queue(self, p: QPainter, r: QRectF, q: QueueFigure, top: int, font: QFont,
                     tiny: QFont) -> None:
        p.setPen(QPen(QColor("#1864ab") if q.durable else QColor("#868e96"), 1.2,
                      Qt.PenStyle.SolidLine if q.durable else Qt.PenStyle.DashLine))
        p.setBrush(QBrush(QColor("#e7f5ff")))
        p.drawRect(r)
        metrics = QFontMetricsF(font)
        p.setFont(font)
        p.setPen(theme.TEXT)
        title = q.name + ("" if q.kind == "classic" else f" ({q.kind})") + ("" if q.durable else " · not durable")
        p.drawText(QRectF(r.left() + 6, r.top() + 1, r.width() - 12, 14), Qt.AlignmentFlag.AlignVCenter,
                   metrics.elidedText(title, Qt.TextElideMode.ElideMiddle, r.width() - 12))
        p.setFont(tiny)
        counts = f"ready {q.ready} · unacked {q.unacked} · {q.consumers} consumer" + ("" if q.consumers == 1 else "s")
        p.drawText(QRectF(r.left() + 6, r.top() + 15, r.width() - 12, 12), Qt.AlignmentFlag.AlignVCenter,
                   counts)
        bar = QRectF(r.left() + 6, r.top() + 29, r.width() - 12, 6)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(QColor("#dee2e6")))
        p.drawRect(bar)
        if top > 0:
            ready_w = bar.width() * q.ready / top
            unacked_w = bar.width() * q.unacked / top
            p.setBrush(QBrush(READY))
            p.drawRect(QRectF(bar.left(), bar.top(), ready_w, bar.height()))
            p.setBrush(QBrush(UNACKED))
            p.drawRect(QRectF(bar.left() + ready_w, bar.top(), unacked_w, bar.height()))
        if not q.note and q.redelivered:
            p.setPen(theme.MUTED)
            p.drawText(QRectF(r.left() + 6, r.bottom() - 9, r.width() - 12, 10),
                       Qt.AlignmentFlag.AlignVCenter, f"redelivered {q.redelivered}")
        if q.note:
            p.setPen(QColor("#c92a2a") if "lost" in q.note or "gone" in q.note else QColor("#2b8a3e"))
            p.drawText(QRectF(r.left() + 6, r.bottom() - 9, r.width() - 12, 10),
                       Qt.AlignmentFlag.AlignVCenter,
                       QFontMetricsF(tiny).elidedText(q.note, Qt.TextElideMode.ElideRight, r.width() - 12))

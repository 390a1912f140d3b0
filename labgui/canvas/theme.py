"""Colours, shapes and glyphs: one place so the canvas, palette and panels agree.

Each node kind has a colour and a shape (client: circle, service: rounded
square, broker: hexagon) with a white glyph inside (client: paper plane, it
sends; service: gear, it works; broker: a queue of messages). Transports have
their own colours, used on links.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from engines.topology import pirate
from engines.topology.model import BrokerNode, ClientNode, ServiceNode, Topology
from engines.topology.refactor import AnyNode
from engines.topology.vocabulary import NodeKind, Transport

KIND_COLOURS = {
    NodeKind.CLIENT: QColor("#1c7ed6"),
    NodeKind.SERVICE: QColor("#7048e8"),
    NodeKind.BROKER: QColor("#f76707"),
}
KIND_LABELS = {NodeKind.CLIENT: "Client", NodeKind.SERVICE: "Service", NodeKind.BROKER: "RabbitMQ broker"}
KIND_BLURBS = {
    NodeKind.CLIENT: "Sends messages at a rate, in one style",
    NodeKind.SERVICE: "Consumes, works, may reply; keeps a database",
    NodeKind.BROKER: "A RabbitMQ node the lab starts and owns",
}
TRANSPORT_COLOURS = {
    Transport.ZMQ: QColor("#d6336c"),
    Transport.AMQP: QColor("#e8590c"),
    Transport.HTTP: QColor("#1098ad"),
    Transport.SMTP: QColor("#2b8a3e"),  # mail: greens, sending darker than reading
    Transport.IMAP: QColor("#74b816"),
}
MAIL_SERVICE, MAIL_READER = "mail-service", "mail-reader"  # glyphs of services that handle mail
SIMPLE_PIRATE, PARANOID_PIRATE = "simple-pirate", "paranoid-pirate"  # zmq queues (zguide, chapter 4)
ROLE_COLOURS = {SIMPLE_PIRATE: QColor("#a61e4d"), PARANOID_PIRATE: QColor("#a61e4d")}  # zmq's, darker
UNKNOWN_LINK = QColor("#868e96")
ERROR = QColor("#e03131")
WARNING = QColor("#f59f00")
ACCENT = QColor("#228be6")
TEXT = QColor("#212529")
MUTED = QColor("#6c757d")
CANVAS = QColor("#f8f9fa")
GRID_DOT = QColor("#ced4da")

TILE = 52.0  # the coloured shape of a node on the canvas, in scene units


def tile_path(kind: NodeKind, rect: QRectF) -> QPainterPath:
    """The outline of a node of `kind` filling `rect`."""
    path = QPainterPath()
    if kind is NodeKind.CLIENT:
        path.addEllipse(rect)
    elif kind is NodeKind.SERVICE:
        radius = rect.width() * 0.22
        path.addRoundedRect(rect, radius, radius)
    else:
        c = rect.center()
        r = rect.width() / 2
        points = [QPointF(c.x() + r * math.cos(math.radians(a)), c.y() + r * math.sin(math.radians(a)))
                  for a in range(0, 360, 60)]
        path.addPolygon(QPolygonF(points))
        path.closeSubpath()
    return path


def _plane(p: QPainter, c: QPointF, s: float) -> None:
    body = QPolygonF([QPointF(c.x() - 0.42 * s, c.y() - 0.05 * s), QPointF(c.x() + 0.42 * s, c.y() - 0.36 * s),
                      QPointF(c.x() + 0.12 * s, c.y() + 0.40 * s), QPointF(c.x() - 0.02 * s, c.y() + 0.10 * s)])
    p.drawPolygon(body)
    p.setPen(QPen(KIND_COLOURS[NodeKind.CLIENT], 0.05 * s))
    p.drawLine(QPointF(c.x() - 0.02 * s, c.y() + 0.10 * s), QPointF(c.x() + 0.42 * s, c.y() - 0.36 * s))


def _gear(p: QPainter, c: QPointF, s: float) -> None:
    outer, inner, teeth = 0.40 * s, 0.29 * s, 8
    path = QPainterPath()
    for i in range(teeth * 2):
        a0 = math.pi * i / teeth
        r = outer if i % 2 == 0 else inner
        for da in (-0.17, 0.17):
            point = QPointF(c.x() + r * math.cos(a0 + da), c.y() + r * math.sin(a0 + da))
            path.moveTo(point) if path.elementCount() == 0 else path.lineTo(point)
    path.closeSubpath()
    path.addEllipse(c, 0.13 * s, 0.13 * s)
    path.setFillRule(Qt.FillRule.OddEvenFill)
    p.drawPath(path)


def _queue(p: QPainter, c: QPointF, s: float) -> None:
    w, h = 0.80 * s, 0.40 * s
    tube = QRectF(c.x() - w / 2, c.y() - h / 2, w, h)
    p.save()
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(QColor("white"), 0.06 * s))
    p.drawRoundedRect(tube, 0.08 * s, 0.08 * s)
    p.restore()
    box = 0.14 * s
    for i in range(3):
        x = tube.left() + 0.10 * s + i * (box + 0.08 * s)
        p.drawRect(QRectF(x, c.y() - box, box, 2 * box))


def _envelope(p: QPainter, c: QPointF, s: float, open_flap: bool = False) -> None:
    """A letter: closed for a mail service (it keeps mail), open for a reader (it reads it)."""
    w, h = 0.80 * s, 0.52 * s
    body = QRectF(c.x() - w / 2, c.y() - h / 2 + (0.08 * s if open_flap else 0), w, h)
    p.drawRect(body)
    p.save()
    p.setPen(QPen(QColor("#2b8a3e"), 0.06 * s))
    p.setBrush(Qt.BrushStyle.NoBrush)
    tip = QPointF(c.x(), body.top() + h * 0.55)
    if open_flap:  # the flap folded up above the letter
        p.setBrush(QColor("white"))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawPolygon(QPolygonF([body.topLeft(), QPointF(c.x(), body.top() - 0.30 * s), body.topRight()]))
        p.setPen(QPen(QColor("#2b8a3e"), 0.06 * s))
        p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPolyline(QPolygonF([body.topLeft(), tip, body.topRight()]))
    p.restore()


def _mail_service(p: QPainter, c: QPointF, s: float) -> None:
    _envelope(p, c, s)


def _mail_reader(p: QPainter, c: QPointF, s: float) -> None:
    _envelope(p, c, s, open_flap=True)


def _simple_pirate(p: QPainter, c: QPointF, s: float) -> None:
    """A queue of requests between two arrows: what comes in waits for a worker."""
    _queue(p, QPointF(c.x(), c.y() - 0.10 * s), s * 0.85)
    p.drawPolygon(QPolygonF([QPointF(c.x() - 0.12 * s, c.y() + 0.22 * s),
                             QPointF(c.x() + 0.12 * s, c.y() + 0.30 * s),
                             QPointF(c.x() - 0.12 * s, c.y() + 0.38 * s)]))


def _paranoid_pirate(p: QPainter, c: QPointF, s: float) -> None:
    """The queue with a heartbeat trace under it: it and its workers hear each other beat."""
    _queue(p, QPointF(c.x(), c.y() - 0.12 * s), s * 0.85)
    p.save()
    p.setPen(QPen(QColor("white"), 0.06 * s))
    p.setBrush(Qt.BrushStyle.NoBrush)
    y = c.y() + 0.28 * s
    xs = [-0.40, -0.14, -0.07, 0.0, 0.07, 0.14, 0.40]
    ys = [0.0, 0.0, -0.14, 0.12, -0.06, 0.0, 0.0]
    p.drawPolyline(QPolygonF([QPointF(c.x() + x * s, y + dy * s) for x, dy in zip(xs, ys, strict=True)]))
    p.restore()


_GLYPHS = {NodeKind.CLIENT: _plane, NodeKind.SERVICE: _gear, NodeKind.BROKER: _queue}
_ROLE_GLYPHS = {MAIL_SERVICE: _mail_service, MAIL_READER: _mail_reader,
                SIMPLE_PIRATE: _simple_pirate, PARANOID_PIRATE: _paranoid_pirate}


def role(topology: Topology, node: AnyNode) -> str | None:
    """A service's role, which changes its glyph: a mail service or a reader of one, a Pirate queue."""
    if not isinstance(node, ServiceNode):
        return None
    if node.pirate is not None:
        return PARANOID_PIRATE if node.pirate.value == "paranoid" else SIMPLE_PIRATE
    if topology.receives_mail(node.name):
        return MAIL_SERVICE
    if any(topology.has_node(lk.source) and topology.receives_mail(lk.source)
           for lk in topology.links_to(node.name)):
        return MAIL_READER
    return None


def paint_tile(p: QPainter, kind: NodeKind, rect: QRectF, fill: QColor | None = None,
               outline: QPen | None = None, glyph: str | None = None) -> None:
    """Draw a node's tile with its glyph: used by canvas items and palette icons alike."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(outline or Qt.PenStyle.NoPen)
    p.setBrush(fill or KIND_COLOURS[kind])
    p.drawPath(tile_path(kind, rect))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("white"))
    _ROLE_GLYPHS.get(glyph or "", _GLYPHS[kind])(p, rect.center(), rect.width() * 0.62)
    p.restore()


def kind_icon(kind: NodeKind, size: int = 32) -> QIcon:
    pixmap = QPixmap(size * 2, size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    paint_tile(painter, kind, QRectF(1, 1, size - 2, size - 2))
    painter.end()
    return QIcon(pixmap)


def subtitle(topology: Topology, node: AnyNode) -> str:
    """The short line under a node's name: what it does, in the lab's vocabulary."""
    if isinstance(node, ClientNode):
        return f"{node.transport.value} · {node.style.value}"
    if isinstance(node, ServiceNode):
        if node.pirate is not None:
            return pirate_subtitle(topology, node)
        parts = ["idempotent" if node.idempotent else "not idempotent"]
        if pirate.queue_of(topology, node.name) is not None:
            parts.insert(0, "Pirate worker")
        mail = role(topology, node)
        if mail is not None:
            parts.insert(0, "mail service" if mail == MAIL_SERVICE else "mail reader")
        if node.crash is not None:
            parts.append(f"crashes on #{node.crash.after}")
        return " · ".join(parts)
    assert isinstance(node, BrokerNode)
    return "RabbitMQ" if node.managed else "RabbitMQ · external"


def pirate_subtitle(topology: Topology, node: ServiceNode) -> str:
    """A Pirate queue's line: its kind, and its heartbeat and liveness or its workers."""
    if node.pirate is not None and node.pirate.value == "paranoid":
        return f"Paranoid Pirate · {node.pirate_heartbeat_ms} ms × {node.pirate_liveness}"
    workers = len(pirate.workers(topology, node.name))
    return f"Simple Pirate · {workers} worker{'s' if workers != 1 else ''}"


def transport_colour(transport: Transport | None) -> QColor:
    return TRANSPORT_COLOURS.get(transport, UNKNOWN_LINK) if transport else UNKNOWN_LINK

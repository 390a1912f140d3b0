"""Run mode: open a broker on the canvas to see its exchanges, bindings and queues live.

Double-click a broker during or after a run (or "Show inside" in its context
menu) and its insides are drawn under it (labgui.canvas.broker_inside), filled
from the run's management API samples (engines.brokers.internals_monitor) 4
times a second; double-click again to close it. After a broker outage each
queue says what survived the restart (engines.brokers.survival, the broker's
figures; the ledger's exact counts come with the summary). Any edit, or the
next run, closes them all.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QPointF, QTimer
from PySide6.QtWidgets import QMenu

from engines.topology.vocabulary import NodeKind
from labgui.canvas.broker_inside import BrokerInsideItem, InsideFigure, QueueFigure

REFRESH_MS = 250


class BrokerInsides(QObject):
    """The open brokers of one run controller (labgui.run.mode.RunController)."""

    def __init__(self, ctl: Any) -> None:
        super().__init__(ctl)
        self.ctl = ctl
        self.items: dict[str, BrokerInsideItem] = {}
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self._survival: dict[str, dict[str, str]] = {}
        self._survival_at = 0
        self._survival_t = 0.0
        ctl.window.scene.node_activated.connect(self._activated)
        ctl.window.doc.edited.connect(self.close_all)
        ctl.phase_changed.connect(self._phase)

    # -- opening and closing --------------------------------------------------------------
    def can_open(self, name: str) -> bool:
        item = self.ctl.window.scene.nodes.get(name)
        return (item is not None and item.kind is NodeKind.BROKER and self.ctl.session is not None
                and getattr(self.ctl.session.sup, "internals", None) is not None)

    def toggle(self, name: str) -> None:
        if name in self.items:
            self.close(name)
        elif self.can_open(name):
            item = BrokerInsideItem(name)
            self.items[name] = item
            self.ctl.window.scene.addItem(item)
            self.refresh()
            self.timer.start()

    def close(self, name: str) -> None:
        item = self.items.pop(name, None)
        if item is not None and item.scene() is not None:
            item.scene().removeItem(item)
        if not self.items:
            self.timer.stop()

    def close_all(self) -> None:
        for name in list(self.items):
            self.close(name)

    def _activated(self, name: str) -> None:
        if self.ctl.session is not None:  # run mode, or the picture a run left
            self.toggle(name)

    def _phase(self, phase: str) -> None:
        if phase == "starting":  # a new run: the last run's insides mean nothing now
            self.close_all()
            self._survival.clear()

    # -- filling --------------------------------------------------------------------------
    def refresh(self) -> None:
        session = self.ctl.session
        monitor = getattr(session.sup, "internals", None) if session is not None else None
        if monitor is None:
            return
        self._update_survival(session.sup, monitor)
        for name, item in self.items.items():
            node = self.ctl.window.scene.nodes.get(name)
            if node is None:
                continue
            item.set_figure(self.figure(name, monitor, session.sup.states().get(name, "")))
            item.setPos(self._place(node, item))

    def _place(self, node: Any, item: BrokerInsideItem) -> QPointF:
        """Under the whole diagram (no node hidden), centred on its broker; the others' panels
        of the same row go side by side."""
        scene = self.ctl.window.scene
        bottom = max(n.sceneBoundingRect().bottom() for n in scene.nodes.values())
        left = node.pos().x() - item.boundingRect().width() / 2
        for other in self.items.values():
            if other is item:
                break
            left = max(left, other.pos().x() + other.boundingRect().width() + 12)
        return QPointF(left, bottom + 16)

    def figure(self, name: str, monitor: Any, state: str) -> InsideFigure:
        latest = monitor.latest(name)
        notes = self._survival.get(name, {})
        if latest is None:
            return InsideFigure(note="no sample yet: the management API answers once the broker is up")
        t, inside = latest
        queues = [QueueFigure(q.name, q.ready, q.unacked, q.consumers, q.durable, q.type,
                              notes.get(q.name, ""), q.redelivered)
                  for q in sorted(inside.queues.values(), key=lambda q: q.name)]
        gone = [QueueFigure(n, durable=False, note=why) for n, why in notes.items()
                if n not in inside.queues]
        note = ""
        if state in ("killed", "crashed", "exited", "starting", "paused"):
            note = f"broker {state}: the last figures it gave at {t:.1f} s"
        return InsideFigure(exchanges=dict(inside.exchanges), queues=queues + gone,
                            bindings=[(b.exchange, b.queue, b.routing_key) for b in inside.bindings],
                            note=note)

    def _update_survival(self, sup: Any, monitor: Any) -> None:
        """Per queue, a short note on what survived the last outage (recomputed as samples come)."""
        count = len(monitor.samples)
        now = time.monotonic()
        if count == self._survival_at or now - self._survival_t < 1.0:  # once a second at most
            return
        self._survival_at, self._survival_t = count, now
        from engines.brokers.survival import survival

        depths = getattr(sup, "queue_depths", None)
        origin = next((float(e.get("origin_t", 0.0)) for e in sup.events.since(0)
                       if e.get("event") == "run-started"), 0.0)
        report = survival(list(monitor.samples), sup.events.since(0), sup.topology, {}, origin,
                          depths.series if depths is not None else None)
        self._survival = {}
        for outage in report:
            for row in outage["queues"]:
                if row["before"] or row.get("gone"):  # an empty queue had nothing to lose
                    self._survival.setdefault(outage["broker"], {})[row["queue"]] = note(row)


def note(row: dict[str, Any]) -> str:
    """'restart: 142 → 0, lost (transient)' for a queue box."""
    if row.get("gone"):
        return f"restart: {row['before']} → gone with the broker, lost (not durable)"
    if row.get("after") is None:
        return f"restart: {row['before']} before, not sampled after yet"
    lost = row["after"] < row["before"] and (not row["durable"] or row.get("persistent") is False)
    why = "not durable" if not row["durable"] else ("transient" if row.get("persistent") is False else "kept")
    after = "gone" if row.get("gone") else str(row["after"])
    return f"restart: {row['before']} → {after}, {'lost' if lost else 'survived'} ({why})"


def attach(ctl: Any) -> BrokerInsides:
    ctl.broker_insides = BrokerInsides(ctl)
    return ctl.broker_insides  # type: ignore[no-any-return]


def menu_entry(ctl: Any, name: str, menu: QMenu) -> None:
    """'Show inside' / 'Close inside' for a broker in run mode's context menu."""
    insides: BrokerInsides | None = getattr(ctl, "broker_insides", None)
    if insides is None:
        return
    is_open = name in insides.items
    entry = menu.addAction("Close its &inside" if is_open else "Show &inside (exchanges, bindings, queues)")
    entry.setObjectName("run-inside")
    entry.setToolTip("Its exchanges, bindings and queues with ready and unacked counts, live "
                     "(double-click the broker does the same)")
    entry.setEnabled(is_open or insides.can_open(name))
    entry.triggered.connect(lambda _c=False: insides.toggle(name))

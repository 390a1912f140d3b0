"""The run's event log (states, scenario steps, faults by hand) and each node's own log on demand.

Events are few (a handful per node), so a list widget that appends what is new
on each timer tick is enough. A node's log is the tail of its file in the run
directory, read only while its panel is shown, at most once a second.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from labgui.run.log_clock import to_run_clock

TAIL_BYTES = 48 * 1024
EVENT_COLOURS = {
    "manual": "#1864ab", "scenario": "#862e9c", "killed": "#e03131", "crashed": "#c92a2a",
    "kill": "#e03131", "error": "#e03131", "escalate": "#e03131", "paused": "#e67700",
    "ready": "#2b8a3e", "gave-up": "#e67700", "run-ended": "#212529", "interrupted": "#e67700",
    "leader-change": "#5f3dc4", "failover": "#1864ab", "reconnect": "#1864ab",
}
SKIP_FIELDS = {"run_t", "origin_t", "t", "wall", "event", "node", "link", "pid", "run_dir", "role", "at_s"}


def describe(event: dict[str, Any], t: float) -> str:
    """One line: run-clock time, what, which node, and what else the event says."""
    kind, node = str(event.get("event", "")), event.get("node") or event.get("link")
    if kind in ("manual", "scenario"):
        who = "by hand" if kind == "manual" else "scenario"
        head = f"{event.get('action')} {node}  ({who})"
    else:
        head = f"{kind} {node}" if node else kind
    skip = SKIP_FIELDS | ({"action"} if kind in ("manual", "scenario") else set())
    extra = ", ".join(f"{k}={v}" for k, v in event.items() if k not in skip and v not in (None, ""))
    return f"{t:7.2f} s   {head}" + (f"   {extra}" if extra else "")


class EventLogPanel(QListWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eventLog")
        self.setUniformItemSizes(True)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setAlternatingRowColors(True)

    def add_events(self, events: list[dict[str, Any]], shift: float) -> None:
        if not events:
            return
        at_end = self.verticalScrollBar().value() >= self.verticalScrollBar().maximum() - 2
        for event in events:
            item = QListWidgetItem(describe(event, float(event.get("t", 0.0)) - shift))
            colour = EVENT_COLOURS.get(str(event.get("event")))
            if colour:
                item.setForeground(QBrush(QColor(colour)))
            if event.get("event") in ("manual", "scenario"):
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            item.setData(Qt.ItemDataRole.UserRole, event)
            self.addItem(item)
        if at_end:
            self.scrollToBottom()

    def lines(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

    def events(self) -> list[dict[str, Any]]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]


def log_path(run_dir: Path, name: str, kind: str) -> Path:
    """Where a node writes its log: a broker's newest RabbitMQ log, or the node's node.log."""
    if kind == "broker":
        base = run_dir / "brokers" / name.replace("/", ".")  # a cluster member: brokers/rabbit.2
        logs = sorted((base / "log").glob("*.log"), key=lambda p: p.stat().st_mtime if p.exists() else 0)
        return logs[-1] if logs else base / "console.log"
    return run_dir / "nodes" / name / "node.log"


def tail(path: Path, limit: int = TAIL_BYTES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - limit))
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return text if size <= limit else text.split("\n", 1)[-1]


class NodeLogPanel(QWidget):
    """Pick a node; see the end of its log, followed while the run goes on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("nodeLog")
        self.run_dir: Path | None = None
        self.kinds: dict[str, str] = {}
        self.clock: Callable[[], float | None] = lambda: None  # the run clock's zero, wall time
        self.choice = QComboBox()
        self.path_label = QLabel("")
        self.path_label.setStyleSheet("color: #868e96;")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)  # long lines wrap, never cut
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(7.5, font.pointSizeF() - 1))
        self.text.setFont(QFont(font))
        top = QHBoxLayout()
        top.addWidget(QLabel("Node:"))
        top.addWidget(self.choice)
        top.addWidget(self.path_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.text)
        self.choice.currentTextChanged.connect(lambda _name: self.refresh())
        self._shown = ""

    def set_run(self, run_dir: Path | None, kinds: dict[str, str]) -> None:
        self.run_dir, self.kinds = run_dir, kinds
        current = self.choice.currentText()
        self.choice.blockSignals(True)
        self.choice.clear()
        self.choice.addItems(list(kinds))
        if current in kinds:
            self.choice.setCurrentText(current)
        self.choice.blockSignals(False)
        self._shown = ""
        self.refresh()

    def show_node(self, name: str) -> None:
        self.choice.setCurrentText(name)
        self.refresh()

    def refresh(self) -> None:
        name = self.choice.currentText()
        if self.run_dir is None or not name:
            self.text.setPlainText("")
            self.path_label.setText("")
            return
        path = log_path(self.run_dir, name, self.kinds.get(name, ""))
        self.path_label.setText(str(path))
        self.path_label.setToolTip(str(path))
        text = tail(path) or f"(nothing in {path.name} yet)"
        origin = self.clock()
        if origin is not None:  # the same clock as the plots, the timeline and the report
            text = to_run_clock(text, origin)
        if text != self._shown:
            self._shown = text
            bar = self.text.verticalScrollBar()
            at_end = bar.value() >= bar.maximum() - 2
            self.text.setPlainText(text)
            if at_end:
                bar.setValue(bar.maximum())

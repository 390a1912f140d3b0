"""From a counter to a message: a counter's message IDs, and the chosen one's sequence diagram.

Click a counter tile (lost, in doubt, a duplicate kind...) during or after a
run, or use Run > Messages...: the dialog lists the IDs behind each counter
(live: recomputed from the run's files when opened or refreshed; after the
run: ids.json), and draws the chosen message's story with the same SVG as
the HTML report (engines.trace.svg), its path selected on the canvas.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt
from PySide6.QtSvgWidgets import QSvgWidget
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engines.trace import svg
from engines.trace.ids import COUNTERS
from engines.trace.load import RunTraces, open_run
from engines.trace.rundata import RunDirError
from engines.trace.story import UnknownMessage

IdsSource = Callable[[], dict[str, dict[str, Any]]]
Highlight = Callable[[list[str], list[str]], None]


class MessagesDialog(QDialog):
    """Counter -> IDs -> sequence diagram for one run directory."""

    def __init__(self, run_dir: Path, parent: QWidget | None = None, ids_source: IdsSource | None = None,
                 highlight: Highlight | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messagesDialog")
        self.setWindowTitle(f"Messages – {Path(run_dir).name}")
        self.resize(1100, 640)
        self.run_dir = Path(run_dir)
        self.ids_source = ids_source
        self.highlight = highlight
        self.run: RunTraces | None = None
        self.ids: dict[str, dict[str, Any]] = {}
        self.counter = QComboBox()
        self.counter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.counter.currentIndexChanged.connect(self._fill_ids)
        self.list = QListWidget()
        self.list.setObjectName("messageIds")
        self.list.currentTextChanged.connect(self.show_message)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.more = QLabel("")
        self.more.setWordWrap(True)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.counter, 1)
        row.addWidget(self.refresh_button)
        lv.addLayout(row)
        lv.addWidget(self.list, 1)
        lv.addWidget(self.more)
        self.diagram = QSvgWidget()
        self.diagram.setObjectName("sequenceDiagram")
        self.scroller = QScrollArea()
        self.scroller.setWidget(self.diagram)
        self.scroller.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.scroller, 1)
        rv.addWidget(self.notes)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([300, 800])
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self.refresh()

    def refresh(self) -> None:
        """Read the run again (live: the IDs so far)."""
        try:
            self.run = open_run(self.run_dir)
            self.ids = self.ids_source() if self.ids_source is not None else self.run.ids
        except (RunDirError, OSError) as exc:
            self.run, self.ids = None, {}
            self.notes.setText(f"Cannot read this run: {exc}")
        keep = self.current_counter()
        self.counter.blockSignals(True)
        self.counter.clear()
        for name in COUNTERS:
            count = int((self.ids.get(name) or {}).get("count", 0))
            self.counter.addItem(f"{name.replace('_', ' ')} ({count})", name)
        self.counter.blockSignals(False)
        if keep:
            self.choose_counter(keep)
        else:
            self._fill_ids()

    def current_counter(self) -> str | None:
        data = self.counter.currentData()
        return str(data) if data else None

    def choose_counter(self, name: str) -> None:
        i = self.counter.findData(name)
        if i >= 0:
            self.counter.setCurrentIndex(i)
        self._fill_ids()

    def _fill_ids(self) -> None:
        name = self.current_counter()
        data = self.ids.get(name or "") or {}
        ids = list(data.get("ids", []))
        self.list.clear()
        self.list.addItems(ids)
        more = int(data.get("count", 0)) - len(ids)
        self.more.setText(f"{more} more not listed" if more > 0 else "")
        if ids:
            self.list.setCurrentRow(0)
        else:
            self.diagram.load(QByteArray())
            self.diagram.setFixedSize(1, 1)

    def show_message(self, text_id: str) -> None:
        if not text_id or self.run is None:
            return
        try:
            story = self.run.story(text_id)
        except UnknownMessage as exc:
            self.notes.setText(str(exc))
            return
        data = QByteArray(svg.render(story).encode("utf-8"))
        self.diagram.load(data)
        self.diagram.setFixedSize(self.diagram.renderer().defaultSize())
        self.notes.setText("\n".join(story.notes))
        self.story = story
        if self.highlight is not None:
            self.highlight(story.lifelines, [f"{a}->{b}" for a, b in story.path])


class _TileClicks(QObject):
    """Opens the dialog on the counter whose tile was clicked (no change to the tiles themselves)."""

    def __init__(self, open_on: Callable[[str], None], parent: QObject) -> None:
        super().__init__(parent)
        self.open_on = open_on

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.MouseButtonRelease:
            key = str(watched.property("counterKey") or "")
            if key in COUNTERS:
                self.open_on(key)
        return False


def install_tile_clicks(tiles: dict[str, QWidget], open_on: Callable[[str], None], parent: QObject) -> None:
    clicks = _TileClicks(open_on, parent)
    for key, tile in tiles.items():
        if key in COUNTERS:
            tile.setProperty("counterKey", key)
            tile.setCursor(Qt.CursorShape.PointingHandCursor)
            tile.installEventFilter(clicks)
            tile.setToolTip(tile.toolTip() + "\nClick: the IDs of these messages and their stories")


def attach(controller: Any) -> None:
    """Wire the run view (labgui.run.mode.RunController): counter tiles and Run > Messages...."""
    from PySide6.QtGui import QAction

    def open_on(counter: str | None = None) -> None:
        session = controller.session
        if session is None:
            controller.window.show_message("No run yet: run the topology (F5), or File > Open Run...")
            return
        sup = session.sup
        live = bool(controller.active)
        dialog = MessagesDialog(sup.run_dir, controller.qwindow,
                                ids_source=(lambda: ids_now(sup)) if live else None,
                                highlight=lambda nodes, links: controller.window.scene.select(nodes, links))
        if counter:
            dialog.choose_counter(counter)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        for hook in getattr(controller, "messages_hooks", ()):  # e.g. labgui.run.explain_view: the why
            hook(dialog)
        dialog.show()
        controller.messages_dialog = dialog

    from engines.trace.load import ids_now

    install_tile_clicks(controller.dashboard.counters.tiles, open_on, controller)
    action = QAction("&Messages behind the counters...", controller.qwindow)
    action.setToolTip("The message IDs behind each counter, and each message's sequence diagram")
    action.triggered.connect(lambda: open_on(None))
    for top in controller.window.menuBar().actions():
        if top.text() == "&Run" and top.menu() is not None:
            top.menu().addAction(action)
    controller.messages_action = action

"""The editor window: canvas in the middle, palette left, inspector right, problems below.

It wires the parts together and owns nothing of the topology: the document
holds it, commands change it, the scene and panels show it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolBar,
    QWidget,
)

from engines.topology import examples
from engines.topology.model import Topology
from engines.topology.problems import Problem
from engines.topology.vocabulary import NodeKind
from labgui.app.actions import EditorActions
from labgui.app.files import FileController
from labgui.app.guide import Guide
from labgui.canvas import refusal_callout
from labgui.canvas.link_item import LinkItem
from labgui.canvas.node_item import NodeItem
from labgui.canvas.scene import CanvasScene
from labgui.canvas.view import CanvasView
from labgui.document import commands
from labgui.document.document import TopologyDocument
from labgui.editor import annotate, keyboard_link, timeline
from labgui.editor.clipboard import ClipboardController
from labgui.editor.fields import TextEditor
from labgui.editor.inspector import Inspector
from labgui.editor.palette import Palette, make_node
from labgui.editor.problems_panel import ProblemsPanel
from labgui.lessons import menu as lessons_menu
from labgui.replay import menu as replay_menu
from labgui.run.mode import RunController

APP_NAME = "Topology Lab"
STATUS_MS = 8000


class MainWindow(QMainWindow):
    def __init__(self, topology: Topology | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.doc = TopologyDocument(topology, self)
        self.scene = CanvasScene(self.doc, self)
        self.view = CanvasView(self.scene)
        self.palette_panel = Palette()
        self.inspector = Inspector(self.scene)
        self.problems = ProblemsPanel(self.doc)
        self.files = FileController(self.doc, self)
        self.clipboard = ClipboardController(self.scene)
        self.editor_actions = EditorActions(self)
        self.undo_action = self.doc.undo_stack.createUndoAction(self, "&Undo")
        self.redo_action = self.doc.undo_stack.createRedoAction(self, "&Redo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.undo_action.setIconText("Undo")  # the toolbar keeps a short label; menus say what
        self.redo_action.setIconText("Redo")
        self.undo_action.setIcon(self.style().standardIcon(self.style().StandardPixmap.SP_ArrowBack))
        self.redo_action.setIcon(self.style().standardIcon(self.style().StandardPixmap.SP_ArrowForward))
        self.setCentralWidget(self.view)
        self._docks()
        self._menus()
        self._toolbar()
        self._status()
        self.run_mode = RunController(self)
        self.guide = Guide(self)  # welcome, the example's lesson, help on the selection, shortcuts
        self.guide.add_to_menu(self.help_menu)
        self.edit_menu.addAction(keyboard_link.install(self))  # Ctrl+K: link two selected nodes
        self.timeline = timeline.install(self)  # the scenario as tracks, a playhead during runs
        self.annotate = annotate.install(self)  # notes, boxes and groups on the canvas
        self.refusal_callout = refusal_callout.install(self.view)  # refused links, with quick fixes
        self.open_run_action = replay_menu.attach(self)  # File > Open Run..., Compare Runs...
        self.lessons = lessons_menu.attach(self)  # the Lessons menu and the lesson panel
        self._wire()
        self._update_title()
        self._update_actions()
        self.resize(1280, 800)

    # -- layout -----------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock{title}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _docks(self) -> None:
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.palette_dock = self._dock("Palette", self.palette_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self.problems_dock = self._dock("Problems", self.problems, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([self.palette_dock, self.inspector_dock], [215, 315], Qt.Orientation.Horizontal)
        self.resizeDocks([self.problems_dock], [90], Qt.Orientation.Vertical)

    def _menus(self) -> None:
        a = self.editor_actions
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addActions([a.new, a.open])
        self.recent_menu = file.addMenu("Open &Recent")
        self.examples_menu = file.addMenu("&Examples")
        for path in examples.examples():
            action = self.examples_menu.addAction(path.name.removesuffix(".topo.yaml"))
            action.triggered.connect(lambda _c=False, p=path: self.open_file(p))
        file.addSeparator()
        file.addActions([a.save, a.save_as])
        file.addSeparator()
        file.addAction(a.quit)
        edit = self.edit_menu = bar.addMenu("&Edit")
        edit.addActions([self.undo_action, self.redo_action])
        edit.addSeparator()
        edit.addActions([a.cut, a.copy, a.paste, a.duplicate, a.delete])
        edit.addSeparator()
        edit.addActions([a.select_all, a.auto_layout])
        view = bar.addMenu("&View")
        view.addActions([a.zoom_in, a.zoom_out, a.zoom_reset, a.fit])
        view.addSeparator()
        view.addAction(a.snap)
        view.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.problems_dock):
            view.addAction(dock.toggleViewAction())
        self.help_menu = bar.addMenu("&Help")
        self.help_menu.addAction(a.about)
        self._fill_recent()

    def _toolbar(self) -> None:
        a = self.editor_actions
        self.toolbar = QToolBar("Main", self)
        self.toolbar.setObjectName("mainToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for group in ([a.new, a.open, a.save], [self.undo_action, self.redo_action],
                      [a.duplicate, a.delete], [a.auto_layout, a.fit, a.zoom_in, a.zoom_out]):
            self.toolbar.addActions(group)
            self.toolbar.addSeparator()
        self.addToolBar(self.toolbar)

    def _status(self) -> None:
        bar = self.statusBar()
        self.problem_label = QLabel()
        self.count_label = QLabel()
        self.zoom_label = QLabel()
        for label in (self.problem_label, self.count_label, self.zoom_label):
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)

    def _wire(self) -> None:
        a, d = self.editor_actions, self.doc
        a.new.triggered.connect(self.new_file)
        a.open.triggered.connect(lambda: self.open_file(None))
        a.save.triggered.connect(self.files.save)
        a.save_as.triggered.connect(lambda: self.files.save_as())
        a.quit.triggered.connect(self.close)
        a.cut.triggered.connect(self.clipboard.cut)
        a.copy.triggered.connect(self.clipboard.copy)
        a.paste.triggered.connect(self.clipboard.paste)
        a.duplicate.triggered.connect(self.clipboard.duplicate)
        a.delete.triggered.connect(self.delete_selection)
        a.select_all.triggered.connect(lambda: self.scene.select(list(self.scene.nodes), list(self.scene.links)))
        a.auto_layout.triggered.connect(self.auto_layout)
        a.zoom_in.triggered.connect(self.view.zoom_in)
        a.zoom_out.triggered.connect(self.view.zoom_out)
        a.zoom_reset.triggered.connect(self.view.reset_zoom)
        a.fit.triggered.connect(self.view.fit_to_view)
        a.snap.toggled.connect(self._set_snap)
        a.about.triggered.connect(self._about)
        self.files.message.connect(self.show_message)
        self.files.path_changed.connect(self._update_title)
        self.files.recent_changed.connect(self._fill_recent)
        self.scene.message.connect(self.show_message)
        self.scene.selectionChanged.connect(self._update_actions)
        self.scene.node_activated.connect(self._edit_name)
        self.scene.context_requested.connect(self._context_menu)
        self.view.node_dropped.connect(self.add_node)
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.palette_panel.activated.connect(self.add_node_in_view)
        self.problems.problem_chosen.connect(self.show_problem)
        self.problems.count_changed.connect(self._show_counts)
        d.modified_changed.connect(self._update_title)
        d.edited.connect(self._update_counts)
        d.topology_replaced.connect(self._update_counts)
        QGuiApplication.clipboard().dataChanged.connect(self._update_actions)
        self._update_counts()
        self.problems.refresh()
        self.zoom_label.setText("100 %")

    # -- file operations -----------------------------------------------------------------------
    def start(self, path: Path | str | None) -> None:
        """Open the file at launch, after offering any recovery; then fit it in view."""
        self.files.start(path)
        QTimer.singleShot(0, self.view.fit_to_view)

    def open_file(self, path: Path | str | None) -> bool:
        if self.files.open(path):
            self.view.fit_to_view()
            return True
        return False

    def new_file(self) -> bool:
        if self.files.new():
            self.view.resetTransform()
            self.view.centerOn(0, 0)
            return True
        return False

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = self.files.recent.paths()
        names = [path.name for path in paths]
        for path in paths:  # two files of one name are told apart by their folder
            action = self.recent_menu.addAction(
                path.name if names.count(path.name) == 1 else f"{path.name} — {path.parent}")
            action.setToolTip(str(path))
            action.triggered.connect(lambda _c=False, p=path: self.open_file(p))
        if paths:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)
        self.recent_menu.setEnabled(bool(paths))

    def _clear_recent(self) -> None:
        self.files.recent.clear()
        self._fill_recent()

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.files.display_name}[*] — {APP_NAME}")
        self.setWindowModified(self.doc.is_modified())

    def title_text(self) -> str:
        """The title as the window manager shows it (the '[*]' becomes '*' when modified)."""
        return self.windowTitle().replace("[*]", "*" if self.isWindowModified() else "")

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.run_mode.may_close():  # a run is on: asked, and stopping in order first
            event.ignore()
            return
        if self.files.closing():
            self.run_mode.shutdown()  # a run in progress ends with the window: nothing outlives it
            event.accept()
        else:
            event.ignore()

    # -- editing ----------------------------------------------------------------------------------
    def add_node(self, kind: NodeKind, position: QPointF) -> str | None:
        if self.doc.locked:
            return None
        node = make_node(self.doc.topology, kind, position)
        commands.push(self.doc, commands.AddNodeCommand(self.doc, node))
        self.scene.select([node.name])
        self.show_message(f"Added {kind.value} '{node.name}'"
                          + (": drag from its + handle to link it" if kind is not NodeKind.SERVICE else ""))
        return node.name

    def add_node_in_view(self, kind: NodeKind) -> str | None:
        """Place a node at the middle of the view, below any node already there."""
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        spot = QPointF(centre)
        taken = [QPointF(*n.position) for n in self.doc.topology.nodes]
        while any((spot - p).manhattanLength() < 90 for p in taken):
            spot += QPointF(0, 110)
        return self.add_node(kind, spot)

    def delete_selection(self) -> None:
        nodes, links = self.scene.selected_nodes(), self.scene.selected_links()
        if nodes or links:
            commands.push(self.doc, commands.RemoveCommand(self.doc, nodes, links))

    def auto_layout(self) -> None:
        command = commands.AutoLayoutCommand(self.doc)
        if command.ops:
            commands.push(self.doc, command)
        self.view.fit_to_view()

    def _set_snap(self, on: bool) -> None:
        for item in self.scene.nodes.values():
            item.snap = on
        self.scene.snap = on  # new items read it too

    def _edit_name(self, name: str) -> None:
        self.scene.select([name])
        self.inspector.rebuild()
        editor = self.inspector.editors.get("name")
        if isinstance(editor, TextEditor):
            editor.line.setFocus()
            editor.line.selectAll()

    def show_problem(self, problem: Problem) -> None:
        self.scene.mark(problem.node, problem.link)
        item: NodeItem | LinkItem | None = (self.scene.nodes.get(problem.node or "")
                                            or self.scene.links.get(problem.link or ""))
        if item is not None:
            self.view.ensureVisible(item, 60, 60)
        self.show_message(problem.message + (f" — {problem.hint}" if problem.hint else ""))

    def _context_menu(self, item: object, screen_pos: QPoint) -> None:
        menu = self.build_context_menu(item)
        if not menu.isEmpty():
            menu.exec(screen_pos)

    def build_context_menu(self, item: object) -> QMenu:
        """The right-click menu for an item (or the empty canvas); during a run, run mode's own."""
        a = self.editor_actions
        menu = QMenu(self)
        if self.run_mode.active:
            return self.run_mode.context_menu(item, menu)
        if isinstance(item, NodeItem):
            menu.addActions([a.copy, a.duplicate, a.delete])
        elif isinstance(item, LinkItem):
            menu.addAction(a.delete)
        else:
            menu.addActions([a.paste, a.select_all, a.auto_layout, a.fit])
        self.annotate.extend_menu(item, menu)
        return menu

    # -- run-mode seam -------------------------------------------------------------------------------
    def set_editing_locked(self, locked: bool, reason: str = "Running — stop the run to edit") -> None:
        """Lock every way of editing (canvas, palette, inspector, actions) and say so on the canvas."""
        self.doc.set_locked(locked)
        self.scene.set_editable(not locked)
        self.inspector.set_read_only(locked)
        self.palette_panel.setEnabled(not locked)
        self.view.set_locked_text(reason if locked else "")
        self._update_actions()

    # -- status -------------------------------------------------------------------------------------
    def has_recent_files(self) -> bool:
        return bool(self.files.recent.paths())

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, STATUS_MS)

    def _update_actions(self) -> None:
        a = self.editor_actions
        editable = not self.doc.locked
        has_nodes = bool(self.scene.selected_nodes())
        has_any = has_nodes or bool(self.scene.selected_links())
        a.copy.setEnabled(has_nodes)
        a.cut.setEnabled(editable and has_nodes)
        a.duplicate.setEnabled(editable and has_nodes)
        a.delete.setEnabled(editable and has_any)
        a.paste.setEnabled(editable and self.clipboard.can_paste())
        a.auto_layout.setEnabled(editable)
        self.undo_action.setEnabled(editable and self.doc.undo_stack.canUndo())
        self.redo_action.setEnabled(editable and self.doc.undo_stack.canRedo())
        if annotations := getattr(self, "annotate", None):
            annotations.update_actions()

    def _update_counts(self) -> None:
        topo = self.doc.topology
        n, k = len(topo.nodes), len(topo.links)
        self.count_label.setText(f"{n} node{'' if n == 1 else 's'} · {k} link{'' if k == 1 else 's'}")

    def _show_counts(self, errors: int, warnings: int) -> None:
        if not errors and not warnings:
            self.problem_label.setText("✔ ready to run")
            self.problem_label.setStyleSheet("color: #2b8a3e;")
        else:
            self.problem_label.setText(f"✖ {errors} error{'s' if errors != 1 else ''}   "
                                       f"⚠ {warnings} warning{'s' if warnings != 1 else ''}")
            self.problem_label.setStyleSheet("color: #c92a2a;" if errors else "color: #e67700;")
        self.problems_dock.setWindowTitle(f"Problems ({errors + warnings})" if errors + warnings else "Problems")

    def _about(self) -> None:
        QMessageBox.about(self, APP_NAME, "<b>Topology Lab</b><br>Draw clients, services and RabbitMQ "
                          "brokers; run them as real processes; count every lost and duplicated message.")

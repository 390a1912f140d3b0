"""The guide dock: Welcome (first start), the open example's Lesson, Help for the selection, Shortcuts.

It only reads: the document for the lesson, the inspector for what is
selected and which fields it shows, the window's actions for the shortcuts.
The words are in labgui.app.guide_text. The welcome shows itself on the first
start only (a marker in the user state folder); Help > Welcome brings it back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabWidget, QTextBrowser

from engines.topology import examples
from labgui.app import guide_text
from labgui.app.storage import state_dir
from labgui.lessons import menu as lessons_menu

WELCOMED = "welcomed"


def _browser(name: str) -> QTextBrowser:
    view = QTextBrowser()
    view.setObjectName(name)
    view.setOpenLinks(False)
    view.setOpenExternalLinks(False)
    return view


class GuidePanel(QTabWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("guide")
        self.welcome = _browser("guideWelcome")
        self.lesson = _browser("guideLesson")
        self.help = _browser("guideHelp")
        self.shortcuts = _browser("guideShortcuts")
        for view, title in ((self.welcome, "Welcome"), (self.lesson, "Lesson"), (self.help, "Help"),
                            (self.shortcuts, "Shortcuts")):
            self.addTab(view, title)
        welcome = guide_text.welcome_html(examples.examples())
        at = welcome.find("<ol>")  # the lessons come before the examples
        self.welcome.setHtml(welcome[:at] + lessons_menu.welcome_html() + welcome[at:] if at >= 0 else welcome)


class Guide:
    """Owns the guide dock of one window and keeps its tabs current."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.panel = GuidePanel()
        qwindow: QMainWindow = window
        self.dock = QDockWidget("Guide", qwindow)
        self.dock.setObjectName("dockGuide")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        qwindow.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        qwindow.tabifyDockWidget(window.inspector_dock, self.dock)
        window.inspector_dock.raise_()
        self.panel.welcome.anchorClicked.connect(self._open_link)
        window.doc.topology_replaced.connect(self.show_lesson)
        window.doc.edited.connect(self._later)
        window.scene.selectionChanged.connect(self._later)
        self.welcome_action = QAction("&Welcome and examples", qwindow)
        self.welcome_action.triggered.connect(lambda: self.show_tab(self.panel.welcome))
        self.help_action = QAction("&Help on the selection", qwindow)
        self.help_action.setShortcut(QKeySequence.StandardKey.HelpContents)  # F1
        self.help_action.triggered.connect(lambda: self.show_tab(self.panel.help))
        self.shortcuts_action = QAction("&Keyboard shortcuts", qwindow)
        self.shortcuts_action.setShortcut(QKeySequence("Ctrl+/"))
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        qwindow.addActions([self.help_action, self.shortcuts_action])
        self.show_lesson()

    def add_to_menu(self, menu: Any) -> None:
        menu.insertActions(menu.actions()[0] if menu.actions() else None,
                           [self.welcome_action, self.help_action, self.shortcuts_action])

    # -- tabs -------------------------------------------------------------------------------------
    def show_tab(self, view: QTextBrowser) -> None:
        if view is self.panel.help:
            self.refresh_help()
        self.dock.show()
        self.dock.raise_()
        self.panel.setCurrentWidget(view)

    def first_start(self) -> bool:
        """Show the welcome if this user never saw it; True if it did."""
        marker = state_dir() / WELCOMED
        if marker.exists():
            return False
        try:
            marker.write_text("1\n", encoding="ascii")
        except OSError:
            pass
        self.show_tab(self.panel.welcome)
        return True

    def show_lesson(self) -> None:
        self.panel.lesson.setHtml(guide_text.lesson_html(self.window.doc.topology))
        self._later()

    def _later(self) -> None:
        QTimer.singleShot(0, self.panel, self.refresh_help)  # dropped if the window is gone

    def refresh_help(self) -> None:
        """Help for what is selected now (one node or link), with the fields the inspector shows."""
        scene, topology = self.window.scene, self.window.doc.topology
        nodes, links = scene.selected_nodes(), scene.selected_links()
        model: Any = None
        if len(nodes) == 1 and not links and topology.has_node(nodes[0]):
            model = topology.node(nodes[0])
        elif len(links) == 1 and not nodes:
            model = next((lk for lk in topology.links if lk.key == links[0]), None)
        fields = list(type(model).model_fields) if model is not None else []
        shown = [f for f in self.window.inspector.editors if f in fields]
        ordered = shown + [f for f in fields if f not in shown]
        self.panel.help.setHtml(guide_text.item_help_html(model, ordered))

    def show_shortcuts(self) -> None:
        pairs = []
        for action in self.window.findChildren(QAction):
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            text = action.text().replace("&", "")
            if keys and text and (keys, text) not in pairs:
                pairs.append((keys, text))
        self.panel.shortcuts.setHtml(guide_text.shortcuts_html(sorted(pairs, key=lambda p: p[1])))
        self.show_tab(self.panel.shortcuts)

    def _open_link(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("example:"):
            self.window.open_file(Path(text.removeprefix("example:")))
        elif text.startswith("lesson:"):
            self.window.lessons.open(Path(text.removeprefix("lesson:")))

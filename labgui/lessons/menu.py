"""The Lessons menu: every shipped lesson in order, and Next/Previous step from the keyboard."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from engines.lessons import catalog
from engines.lessons.loader import load
from engines.topology.filememo import per_file
from engines.topology.problems import TopologyError
from labgui.lessons.controller import LessonController
from labgui.lessons.host import LessonHost


@per_file
def title_of(path: Path) -> str:
    """A lesson's menu entry: its number and title (the file name if it does not load)."""
    number = path.name.split("-", 1)[0]
    try:
        return f"&{number.lstrip('0') or number}. {load(path).lesson.title}"
    except TopologyError:
        return path.name


def attach(window: LessonHost) -> LessonController:
    """Add the Lessons menu (before Help) and the lesson panel to the window."""
    qwindow = cast(QMainWindow, window)
    controller = LessonController(window)
    menu = QMenu("&Lessons", qwindow)
    menu.setObjectName("lessonsMenu")
    for path in catalog.lessons():
        action = menu.addAction(title_of(path))
        action.setObjectName(f"lesson-{path.name.removesuffix('.lesson.yaml')}")
        action.setToolTip(str(path))
        action.triggered.connect(lambda _c=False, p=path: controller.open(p))
    menu.addSeparator()
    steps = [("Ne&xt lesson step", "Ctrl+Alt+Right", controller.next_step),
             ("Pre&vious lesson step", "Ctrl+Alt+Left", controller.previous_step),
             ("Run this &step", "Ctrl+Alt+R", controller.run)]
    for text, keys, slot in steps:
        action = QAction(text, qwindow)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        menu.addAction(action)
        qwindow.addAction(action)
    menu.addAction(controller.dock.toggleViewAction())
    bar = qwindow.menuBar()
    help_menu = next((a for a in bar.actions() if a.text() == "&Help"), None)
    bar.insertMenu(help_menu, menu) if help_menu is not None else bar.addMenu(menu)
    return controller


def welcome_html() -> str:
    """The lessons as the welcome view lists them, before the examples (links 'lesson:PATH')."""
    from html import escape

    rows = "".join(f'<li><a href="lesson:{escape(str(p))}">{escape(title_of(p).replace("&", "", 1))}</a></li>'
                   for p in catalog.lessons())
    return ("<h3>Lessons: predict, run, explain</h3><p>Six guided lessons, one per section of the source "
            "text, in order (also in the <b>Lessons</b> menu): each asks you to predict the numbers, "
            f"runs the real system and sets the ledger's answer beside yours.</p><ol>{rows}</ol>"
            "<h3>Examples</h3>")

"""What the lesson panel needs of the window that holds it (the main window offers it)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import QMenuBar, QStatusBar

from labgui.canvas.view import CanvasView
from labgui.document.document import TopologyDocument
from labgui.run.mode import RunController


class Recovery(Protocol):
    def discard(self, original: Path | None) -> None: ...


class LessonFiles(Protocol):
    @property
    def path(self) -> Path | None: ...

    @property
    def recovery(self) -> Recovery: ...

    def open(self, path: Path | str | None = None, *, ask_first: bool = True) -> bool: ...


class LessonHost(Protocol):
    doc: TopologyDocument
    run_mode: RunController
    view: CanvasView

    @property
    def files(self) -> LessonFiles: ...

    def open_file(self, path: Path | str | None) -> bool: ...

    def show_message(self, text: str) -> None: ...

    def menuBar(self) -> QMenuBar: ...  # noqa: N802 (Qt's names)

    def statusBar(self) -> QStatusBar: ...  # noqa: N802

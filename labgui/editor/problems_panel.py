"""The problems panel: validation results, live; clicking one selects and marks what it concerns."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from engines.topology.problems import Problem, Severity
from labgui.canvas import theme
from labgui.document.document import TopologyDocument

PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 1


def severity_icon(severity: Severity, size: int = 14) -> QIcon:
    pixmap = QPixmap(size * 2, size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(theme.ERROR if severity is Severity.ERROR else theme.WARNING)
    p.drawEllipse(1, 1, size - 2, size - 2)
    p.setPen(QColor("white"))
    font = p.font()
    font.setBold(True)
    font.setPointSizeF(size * 0.5)
    p.setFont(font)
    p.drawText(0, 0, size, size, Qt.AlignmentFlag.AlignCenter, "!")
    p.end()
    return QIcon(pixmap)


def describe(problem: Problem) -> str:
    where = problem.subject or ("topology" if not problem.path else str(problem.path[0]))
    text = f"{where}: {problem.message}"
    return f"{text} — {problem.hint}" if problem.hint else text


class ProblemsPanel(QListWidget):
    """One row per problem, errors first; `problem_chosen(problem)` on click."""

    problem_chosen = Signal(object)
    count_changed = Signal(int, int)  # errors, warnings

    def __init__(self, document: TopologyDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.setAlternatingRowColors(True)
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        document.problems_changed.connect(self.refresh)
        self.refresh()

    def sizeHint(self) -> QSize:
        return QSize(400, 72)  # a few rows; the canvas deserves the height

    def refresh(self) -> None:
        self.clear()
        problems = sorted(self.doc.problems, key=lambda p: p.severity is not Severity.ERROR)
        for problem in problems:
            item = QListWidgetItem(severity_icon(problem.severity), describe(problem))
            item.setData(PROBLEM_ROLE, problem)
            item.setToolTip(str(problem))
            self.addItem(item)
        if not problems:
            item = QListWidgetItem("No problems: this topology is ready to run.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            item.setForeground(theme.MUTED)
            self.addItem(item)
        errors = sum(p.severity is Severity.ERROR for p in problems)
        self.count_changed.emit(errors, len(problems) - errors)

    def problems(self) -> list[Problem]:
        return [p for i in range(self.count()) if (p := self.item(i).data(PROBLEM_ROLE)) is not None]

    def choose(self, row: int) -> None:
        """Act as a click on a row (used by keyboard and tests)."""
        self.setCurrentRow(row)
        self._clicked(self.item(row))

    def _clicked(self, item: QListWidgetItem) -> None:
        problem = item.data(PROBLEM_ROLE)
        if problem is not None:
            self.problem_chosen.emit(problem)

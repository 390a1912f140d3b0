"""The end of a run: the expectations' verdicts, the ledger's summary, and the HTML report if any.

The summary is the one the headless runner prints (`engines.runtime.table`),
so the GUI and the terminal never disagree. The report itself is written by
`engines.report`; this panel only offers to open `report.html` when the run
directory has one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engines.runtime.table import format_summary
from engines.topology import expectations

PASS, FAIL, WARN = "#2b8a3e", "#e03131", "#e67700"
SHORT = 600


def short(message: str, limit: int = SHORT) -> str:
    """A message cut to fit a dialog; the whole of it stays in the Result panel."""
    if len(message) <= limit:
        return message
    return message[:limit].rsplit("\n", 1)[0] + "\n… (the whole message is in the Result panel)"


def outcome_colour(total: dict[str, Any], has_expectations: bool, failed: bool) -> str:
    """Red for a failed expectation, or for losses and double charges nobody expected; amber for
    losses the expectations foresee, or doubt; green only when nothing went wrong."""
    if failed:
        return FAIL
    harm = bool(total.get("lost") or total.get("duplicates_processed"))
    if harm:
        return WARN if has_expectations else FAIL
    return WARN if total.get("in_doubt") else PASS


class ResultPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultPanel")
        self.run_dir: Path | None = None
        self.report_problem: str | None = None
        self.report_viewer: QTextBrowser | None = None
        self.headline = QLabel("No run yet.")
        self.headline.setWordWrap(True)
        self.verdicts = QListWidget()
        self.verdicts.setMaximumHeight(90)
        self.table = QPlainTextEdit()
        self.table.setReadOnly(True)
        self.table.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.table.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.open_report = QPushButton("Open HTML report")
        self.open_folder = QPushButton("Open run folder")
        self.open_report.clicked.connect(self._open_report)
        self.open_folder.clicked.connect(self._open_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_report)
        buttons.addWidget(self.open_folder)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.headline)
        layout.addWidget(self.verdicts)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._set_buttons()

    @property
    def report_path(self) -> Path | None:
        if self.run_dir is None:
            return None
        path = self.run_dir / "report.html"
        return path if path.exists() else None

    def _set_buttons(self, building: bool = False) -> None:
        self.open_folder.setEnabled(self.run_dir is not None)
        has_report = self.report_path is not None and not building
        self.open_report.setEnabled(has_report)
        self.open_report.setText("Building the HTML report…" if building else "Open HTML report")
        self.open_report.setToolTip(str(self.report_path) if has_report else
                                    "The report is being built" if building else
                                    self.report_problem or "This run has no report.html")

    def show_report(self, building: bool, problem: str | None = None) -> None:
        """The run's report.html (engines.report): being built, there, or why it is not."""
        self.report_problem = f"No report: {problem}" if problem else None
        self._set_buttons(building)

    def show_running(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.headline.setText(f"Running… the verdicts come at the end. Run folder: {run_dir}")
        self.headline.setStyleSheet("")
        self.verdicts.clear()
        self.table.setPlainText("")
        self.report_problem = None
        self._set_buttons()

    def show_failure(self, message: str) -> None:
        """The reason in full below (a broker's boot log can be long), its first line on top."""
        self.headline.setText(f"The run could not go on: {short(message)}")
        self.headline.setStyleSheet(f"color: {FAIL}; font-weight: bold;")
        self.table.setPlainText(message)
        self._set_buttons()

    def show_summary(self, summary: dict[str, Any]) -> None:
        verdicts = summary.get("expectations", [])
        failed = [v for v in verdicts if not v["passed"]]
        total = summary["total"]
        line = (f"Run ended after {total.get('duration_s', 0):g} s: {total.get('sent', 0)} sent, "
                f"{total.get('processed', 0)} processed, "
                f"{total.get('lost', 0)} lost, {total.get('in_doubt', 0)} in doubt, "
                f"{total.get('duplicates_processed', 0)} double charges.")
        if verdicts:
            line += (f"  {len(verdicts) - len(failed)} of {len(verdicts)} expectations passed."
                     if failed else f"  All {len(verdicts)} expectations passed.")
        colour = outcome_colour(total, bool(verdicts), bool(failed))
        if colour != PASS and not failed and (total.get("lost") or total.get("duplicates_processed")):
            line += "  Messages were lost or applied twice" + (": as the expectations foresee." if verdicts
                                                               else ".")
        self.headline.setText(line)
        self.headline.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.verdicts.clear()
        for v in verdicts:
            detail = expectations.detail(v["problem"], v["measured"], v.get("values"))
            item = QListWidgetItem(f"{'✔ PASS' if v['passed'] else '✖ FAIL'}   {v['text']}   ({detail})")
            item.setForeground(QBrush(QColor(PASS if v["passed"] else FAIL)))
            self.verdicts.addItem(item)
        self.table.setPlainText(format_summary(summary))
        self._set_buttons()

    def verdict_lines(self) -> list[str]:
        return [self.verdicts.item(i).text() for i in range(self.verdicts.count())]

    def _open_report(self) -> None:
        """In the desktop's browser; where there is none (no launcher), inside the app."""
        path = self.report_path
        if path is not None and not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self.show_report_inside(path)

    def show_report_inside(self, path: Path) -> QTextBrowser:
        viewer = QTextBrowser()
        viewer.setObjectName("reportViewer")
        viewer.setWindowTitle(f"Report — {path.parent.name}")
        viewer.setOpenExternalLinks(False)
        viewer.setSearchPaths([str(path.parent)])  # the plots' PNGs beside the page
        viewer.setSource(QUrl.fromLocalFile(str(path)))
        viewer.resize(900, 700)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.show()
        self.report_viewer = viewer
        return viewer

    def _open_folder(self) -> None:
        if self.run_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.run_dir)))


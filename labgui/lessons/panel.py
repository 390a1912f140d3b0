"""The lesson panel: goal and step, the questions to predict, Run, the answers beside the ledger.

Only widgets: the controller (labgui.lessons.controller) fills it and reacts
to its buttons. Tab order follows the page: the step, each prediction, Run,
the results, Previous, Next.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engines.lessons.model import Question

PICK = "— choose —"


class LessonPanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("lessonPanel")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.title = QLabel()
        self.title.setObjectName("lessonTitle")
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-size: 14px; font-weight: bold;")
        self.step_label = QLabel()
        self.step_label.setObjectName("lessonStep")
        self.step_label.setWordWrap(True)
        self.step_label.setStyleSheet("font-weight: bold; color: #1c5d99;")
        self.text = QTextBrowser()
        self.text.setObjectName("lessonText")
        self.text.setOpenLinks(False)
        self.text.setMinimumHeight(120)
        self.questions_box = QGroupBox("Predict before you run")
        self.questions_box.setObjectName("lessonQuestions")
        self.form = QVBoxLayout(self.questions_box)  # each question's words above its field, full width
        self.form.setSpacing(4)
        self.editors: dict[str, QLineEdit | QComboBox] = {}
        row = QHBoxLayout()
        self.run_button = QPushButton("▶ Run this step (F5)")
        self.run_button.setObjectName("lessonRun")
        self.run_button.setToolTip("Run the topology as this step sets it; your predictions are kept")
        self.compare_button = QPushButton("Open side by side")
        self.compare_button.setObjectName("lessonCompare")
        self.compare_button.setToolTip("Replay the two runs on one time slider (the compare window)")
        row.addWidget(self.run_button)
        row.addWidget(self.compare_button)
        row.addStretch(1)
        self.status = QLabel()
        self.status.setObjectName("lessonStatus")
        self.status.setWordWrap(True)
        self.results = QTextBrowser()
        self.results.setObjectName("lessonResults")
        self.results.setMinimumHeight(160)
        nav = QHBoxLayout()
        self.previous_button = QPushButton("◀ &Previous")
        self.previous_button.setObjectName("lessonPrevious")
        self.next_button = QPushButton("&Next ▶")
        self.next_button.setObjectName("lessonNext")
        nav.addWidget(self.previous_button)
        nav.addStretch(1)
        nav.addWidget(self.next_button)
        lay.addWidget(self.title)
        lay.addWidget(self.step_label)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.questions_box)
        lay.addLayout(row)
        lay.addWidget(self.status)
        lay.addWidget(self.results, 4)
        lay.addLayout(nav)
        self.setMinimumWidth(340)

    def set_questions(self, questions: list[Question], answers: dict[str, str]) -> None:
        """One editor per question, holding the learner's earlier answer if any."""
        while self.form.count():
            item = self.form.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:  # hidden now: deleteLater waits for the event loop
                widget.hide()
                widget.deleteLater()
        self.editors = {}
        for q in questions:
            label = QLabel(q.ask)
            label.setWordWrap(True)
            editor: QLineEdit | QComboBox
            if q.kind == "choice":
                editor = QComboBox()
                editor.addItems([PICK] + [c.label for c in q.choices])
                if answers.get(q.id):
                    editor.setCurrentText(answers[q.id])
            else:
                editor = QLineEdit(answers.get(q.id, ""))
                editor.setValidator(QDoubleValidator())
                editor.setPlaceholderText("your prediction (a number)")
            editor.setObjectName(f"predict-{q.id}")
            label.setBuddy(editor)
            self.form.addWidget(label)
            self.form.addWidget(editor)
            self.editors[q.id] = editor
        self.questions_box.setVisible(bool(questions))
        self._tab_order()

    def predictions(self) -> dict[str, str]:
        """The answers given so far ('' for a question left open)."""
        out = {}
        for qid, editor in self.editors.items():
            if isinstance(editor, QComboBox):
                out[qid] = "" if editor.currentText() == PICK else editor.currentText()
            else:
                out[qid] = editor.text().strip()
        return out

    def set_inputs_enabled(self, enabled: bool) -> None:
        for editor in self.editors.values():
            editor.setEnabled(enabled)

    def _tab_order(self) -> None:
        chain: list[QWidget] = [self.text, *self.editors.values(), self.run_button, self.compare_button,
                                self.results, self.previous_button, self.next_button]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)
        first_editor = next(iter(self.editors.values()), None)
        self.setFocusProxy(first_editor if first_editor is not None else self.run_button)
        self.text.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

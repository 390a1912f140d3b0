"""One open lesson in one window: its steps, the variant each applies, predictions, runs, comparison.

Entering a step applies its variant to the canvas as one undoable edit (or
opens the variant's file as an untitled copy when it is another topology).
Run goes through the window's run controller, so a lesson run is an ordinary
run; when it ends the ledger's summary answers the step's questions and the
run is kept, per variant, for the comparison step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QTabBar

from engines.lessons import judge
from engines.lessons.loader import LoadedLesson, load
from engines.topology.expectations import evaluate_all
from engines.topology.problems import TopologyError
from labgui.document import commands
from labgui.editor import dialogs
from labgui.lessons import words
from labgui.lessons.host import LessonHost
from labgui.lessons.panel import LessonPanel
from labgui.lessons.variant_command import variant_command
from labgui.run.session import ENDED, FAILED, FINISHING, RUNNING, STARTING


@dataclass
class LessonRun:
    variant: str
    run_dir: Path | None
    summary: dict[str, Any] | None


class LessonController(QObject):
    def __init__(self, window: LessonHost) -> None:
        qwindow = cast(QMainWindow, window)
        super().__init__(qwindow)
        self.window, self.qwindow = window, qwindow
        self.loaded: LoadedLesson | None = None
        self.index = 0
        self.runs: dict[str, LessonRun] = {}
        self.answers: dict[str, str] = {}
        self.compare_windows: list[Any] = []
        self._file: Path | None = None  # the topology file the canvas shows (a lesson's copy)
        self._applied_at: int | None = None  # the undo index right after the last variant applied
        self._running: str | None = None  # the variant of the run in progress
        self.panel = LessonPanel()
        self.dock = QDockWidget("Lesson", qwindow)
        self.dock.setObjectName("dockLesson")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        # left: under the palette while editing, the whole column during a run (the palette hides)
        qwindow.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        self.dock.hide()
        p = self.panel
        p.run_button.clicked.connect(self.run)
        p.compare_button.clicked.connect(self.open_comparison)
        p.next_button.clicked.connect(self.next_step)
        p.previous_button.clicked.connect(self.previous_step)
        window.run_mode.phase_changed.connect(self._phase)

    # -- opening and moving -----------------------------------------------------------------------
    def open(self, path: Path) -> bool:
        try:
            loaded = load(path)
        except TopologyError as exc:
            dialogs.show_problems(self.qwindow, "Cannot open lesson", str(path), exc.problems)
            return False
        if self.window.run_mode.active:
            dialogs.show_error(self.qwindow, "Cannot open lesson", "A run is on: stop it first (Shift+F5).")
            return False
        self.loaded, self.runs, self.answers, self._file = loaded, {}, {}, None
        self.panel.title.setText(loaded.lesson.title)
        self.dock.setWindowTitle(f"Lesson — {loaded.name}")
        self.dock.show()
        self.dock.raise_()
        self.qwindow.resizeDocks([self.dock], [420], Qt.Orientation.Horizontal)
        QTimer.singleShot(0, self._hide_stray_tab_bars)
        return self.go(0)

    def go(self, index: int) -> bool:
        """Show step `index`, applying its variant; False if the variant could not be applied."""
        if self.loaded is None or self.window.run_mode.active:
            return False
        self.answers.update(self.panel.predictions())
        steps = self.loaded.lesson.steps
        self.index = max(0, min(index, len(steps) - 1))
        step = steps[self.index]
        applied = self.apply(step.variant) if step.variant else True
        self.panel.step_label.setText(f"Step {self.index + 1} of {len(steps)}: {step.title}")
        label = self.loaded.lesson.variants[step.variant].label if step.variant else None
        self.panel.text.setHtml(words.step_html(self.loaded.lesson, self.index, label))
        self.panel.set_questions(step.questions, self.answers)
        self.panel.run_button.setVisible(bool(step.variant))
        self.panel.compare_button.setVisible(bool(step.compare))
        self.panel.previous_button.setEnabled(self.index > 0)
        self.panel.next_button.setEnabled(self.index < len(steps) - 1)
        self.panel.set_inputs_enabled(True)
        self.panel.status.setText("" if applied else "This step's settings could not be applied (see the message).")
        self._show_results()
        QTimer.singleShot(0, self.panel.setFocus)
        return applied

    def next_step(self) -> None:
        self.go(self.index + 1)

    def previous_step(self) -> None:
        self.go(self.index - 1)

    def apply(self, name: str) -> bool:
        """Make the canvas the variant: open its file if needed, then one undoable edit."""
        assert self.loaded is not None
        target = self.loaded.variants[name].model_copy(deep=True)
        file = self.loaded.files[name]
        doc = self.window.doc
        try:
            command = variant_command(doc, target, f"Lesson: {self.loaded.lesson.variants[name].label or name}")
        except ValueError:
            command = None
            if not self._open_copy(file):
                return False
            try:
                command = variant_command(doc, target, f"Lesson: {name}")
            except ValueError as exc:
                self.window.show_message(str(exc))
                return False
        if command is not None:
            try:
                commands.push(doc, command)
            except commands.EditRefused as exc:
                self.window.show_message(str(exc))
                return False
            self.window.show_message(f"Step {self.index + 1}: {command.text()} applied (Ctrl+Z undoes it)")
        self._applied_at = doc.undo_stack.index()
        return True

    def _open_copy(self, file: Path) -> bool:
        """Open a lesson's topology as an untitled copy; unsaved edits of the learner's own are asked."""
        doc = self.window.doc
        ours = self._applied_at is not None and doc.undo_stack.index() == self._applied_at
        files = self.window.files
        if ours:  # only the lesson's own edits: nothing of the learner's to keep or to recover
            files.recovery.discard(files.path)
        opened = (files.open(file, ask_first=False) if ours or not doc.is_modified()
                  else self.window.open_file(file))
        if opened:
            self._file = file
            QTimer.singleShot(0, self.window.view.fit_to_view)
        return bool(opened)

    # -- running ------------------------------------------------------------------------------------
    def run(self) -> bool:
        if self.loaded is None:
            return False
        step = self.loaded.lesson.steps[self.index]
        if not step.variant:
            return False
        self.answers.update(self.panel.predictions())
        open_questions = [q for q in step.questions if not self.answers.get(q.id)]
        if open_questions:
            answer = QMessageBox.question(
                self.qwindow, "Predict first?",
                f"{len(open_questions)} of {len(step.questions)} questions have no prediction yet. "
                "Predicting first is the point of the lesson. Run anyway?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                self.panel.setFocus()
                return False
        return bool(self.window.run_mode.run())

    def _hide_stray_tab_bars(self) -> None:
        """Qt's main-window layout can leave a tab bar of tabified docks (Problems | Scenario
        timeline) it no longer uses visible over the lesson dock once the docks move; hide it."""
        if not self.dock.isVisible():
            return
        area = self.dock.geometry()
        for bar in self.qwindow.findChildren(QTabBar):
            if bar.parent() is self.qwindow and bar.isVisible() and bar.geometry().intersects(area):
                bar.hide()

    def _phase(self, phase: str) -> None:
        if self.loaded is None:
            return
        QTimer.singleShot(0, self._hide_stray_tab_bars)
        step = self.loaded.lesson.steps[self.index]
        busy = phase in (STARTING, RUNNING, FINISHING)
        for button in (self.panel.run_button, self.panel.next_button, self.panel.previous_button,
                       self.panel.compare_button):
            button.setEnabled(not busy)
        if busy:
            self.panel.set_inputs_enabled(False)
            if self._running is None:
                self._running = step.variant
                given = sum(1 for q in step.questions if self.answers.get(q.id))
                note = (f"your {given} prediction{'s are' if given != 1 else ' is'} locked in"
                        if given else "no prediction was made")
                self.panel.status.setText(f"● Running ({note}). The ledger answers when the run ends.")
            return
        if phase not in (ENDED, FAILED):
            return
        name, self._running = self._running, None
        self.panel.previous_button.setEnabled(self.index > 0)
        self.panel.next_button.setEnabled(self.index < len(self.loaded.lesson.steps) - 1)
        self.panel.set_inputs_enabled(True)
        session = self.window.run_mode.session
        if name is None or session is None:
            return
        if phase == FAILED or session.summary is None:
            self.panel.status.setText(f"✖ The run could not finish: {session.error or 'see the Result panel'}")
            return
        self.runs[name] = LessonRun(name, session.sup.run_dir, session.summary)
        self.panel.status.setText("■ Run ended: the ledger's answers are below. Next step: Alt+N.")
        self._show_results()

    def _show_results(self) -> None:
        assert self.loaded is not None
        step = self.loaded.lesson.steps[self.index]
        html = ""
        if step.compare:
            runs = [self.runs.get(v) for v in step.compare]
            labels = [self.loaded.lesson.variants[v].label or v for v in step.compare]
            missing = [f"'{labels[i]}' (step {self._step_of(v)})" for i, v in enumerate(step.compare) if runs[i] is None]
            self.panel.compare_button.setEnabled(not missing)
            html = words.comparison_html(labels, [r.summary if r else None for r in runs]) if not missing else (
                "<p>Run " + " and ".join(missing) + " first: the comparison sets those two runs side by side.</p>")
        elif step.variant and step.variant in self.runs:
            done = self.runs[step.variant]
            summary = done.summary or {}
            outcomes = [judge.compare(q, self.answers.get(q.id), judge.answer(q, summary)) for q in step.questions]
            checks = self.loaded.lesson.variants[step.variant].checks
            scoped = {**summary.get("nodes", {}), **summary.get("links", {})}
            verdicts = evaluate_all(checks, summary.get("total", {}), scoped)
            explained = words.explanations(done.run_dir)  # the run's own words (engines.explain)
            html = words.outcomes_html(step, outcomes, verdicts, explained) + words.counters_html(summary, explained)
        self.panel.results.setHtml(html)

    def _step_of(self, variant: str) -> int:
        assert self.loaded is not None
        return next((i + 1 for i, s in enumerate(self.loaded.lesson.steps) if s.variant == variant), 0)

    def open_comparison(self) -> Any:
        """The two runs of the comparison step in the replay's compare window."""
        assert self.loaded is not None
        step = self.loaded.lesson.steps[self.index]
        dirs = [self.runs[v].run_dir for v in step.compare if v in self.runs]
        if len(dirs) != 2 or None in dirs:
            return None
        from engines.trace.rundata import RunDirError
        from labgui.replay.compare_window import open_compare

        try:
            view = open_compare([d for d in dirs if d is not None])
        except RunDirError as exc:
            dialogs.show_error(self.qwindow, "Cannot compare these runs", str(exc))
            return None
        self.compare_windows.append(view)
        return view

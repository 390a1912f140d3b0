"""Every question the editor asks the user, in one module so tests can answer them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from engines.topology.problems import Problem

FILTER = "Topology files (*.topo.yaml);;YAML files (*.yaml *.yml);;All files (*)"


def ask_unsaved_changes(parent: QWidget, name: str) -> str:
    """'save', 'discard' or 'cancel'."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                      f"'{name}' has changes that are not saved.", parent=parent)
    box.setInformativeText("Save them before going on?")
    box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                           | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")


def ask_recover(parent: QWidget, name: str, saved_at: datetime) -> bool:
    answer = QMessageBox.question(
        parent, "Recover unsaved changes?",
        f"The editor closed without saving '{name}'. Changes autosaved at "
        f"{saved_at:%H:%M:%S on %d %b} can be recovered.\n\nRecover them?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes


def show_problems(parent: QWidget, title: str, path: str, problems: list[Problem]) -> None:
    box = QMessageBox(QMessageBox.Icon.Critical, title, f"'{path}' cannot be opened:", parent=parent)
    lines = [str(p) for p in problems]
    shown = lines[:8] + ([f"... and {len(lines) - 8} more (Show Details)"] if len(lines) > 8 else [])
    box.setInformativeText("\n".join(shown) + "\n\nThe document you had open is unchanged.")
    box.setDetailedText("\n".join(lines))
    box.exec()


def show_error(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.critical(parent, title, text)


def ask_open_path(parent: QWidget, directory: str) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Open topology", directory, FILTER)
    return Path(name) if name else None


def ask_save_path(parent: QWidget, suggested: str) -> Path | None:
    name, _ = QFileDialog.getSaveFileName(parent, "Save topology as", suggested, FILTER)
    return Path(name) if name else None


def ask_quit_during_run(parent: QWidget) -> str:
    """A run is on and the window is closing: 'stop' (in order, with its summary and report),
    'kill' (everything now, summary only) or 'cancel'."""
    box = QMessageBox(QMessageBox.Icon.Question, "A run is on",
                      "Quit while the topology is running?", parent=parent)
    box.setInformativeText("Stop it in order first (clients, then services, then brokers), so the run "
                           "keeps its summary and report; or kill every process now.")
    stop = box.addButton("Stop the run, then quit", QMessageBox.ButtonRole.AcceptRole)
    kill = box.addButton("Kill it and quit now", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(stop)
    box.exec()
    clicked = box.clickedButton()
    return "stop" if clicked is stop else "kill" if clicked is kill else "cancel"

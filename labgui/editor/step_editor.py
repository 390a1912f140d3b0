"""Edit one scenario step from the timeline: its time (or message count), a delay's latency and
jitter, a lossy link's loss. Opened by a double-click on a block; Apply is one undo step.

A small non-modal popup beside the block, not a dialog: Escape or a click
elsewhere closes it without a change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engines.topology.model import Action, Step
from labgui.document import commands


def _spin(value: float, top: float, suffix: str, decimals: int = 1, step: float = 1.0) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, top)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setSuffix(suffix)
    box.setValue(value)
    return box


class StepEditor(QFrame):
    """The fields of one step; `apply` hands the changed ones to `commit` (one undo step)."""

    def __init__(self, step: Step, commit: Callable[..., None], parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("stepEditor")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.step, self.commit = step, commit
        form = QFormLayout()
        self.at_s: QDoubleSpinBox | None = None
        self.after: QSpinBox | None = None
        if step.after_messages is not None:
            self.after = QSpinBox()
            self.after.setRange(1, 2_000_000_000)
            self.after.setValue(step.after_messages)
            self.after.setSuffix(" messages sent")
            form.addRow("After", self.after)
        else:
            self.at_s = _spin(step.at_s or 0.0, 86400.0, " s", 1, 0.5)
            form.addRow("At", self.at_s)
        self.latency = self.jitter = self.loss = None
        if step.action is Action.DELAY:
            self.latency = _spin(step.latency_ms, 600_000.0, " ms", 1, 10.0)
            self.jitter = _spin(step.jitter_ms, 600_000.0, " ms", 1, 5.0)
            form.addRow("Latency", self.latency)
            form.addRow("Jitter", self.jitter)
        if step.action is Action.LOSSY:
            self.loss = _spin(step.loss * 100, 100.0, " %", 1, 5.0)
            self.loss.setToolTip("The fraction of messages the link drops, in per cent")
            form.addRow("Loss", self.loss)
        title = QLabel(f"<b>{step.action.value}</b> {step.target}")
        self.error = QLabel()
        self.error.setStyleSheet("color: #c92a2a;")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.apply)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def fields(self) -> dict[str, Any]:
        """The fields that differ from the step's."""
        out: dict[str, Any] = {}
        if self.at_s is not None and self.at_s.value() != self.step.at_s:
            out["at_s"] = round(self.at_s.value(), 3)
        if self.after is not None and self.after.value() != self.step.after_messages:
            out["after_messages"] = self.after.value()
        if self.latency is not None and self.latency.value() != self.step.latency_ms:
            out["latency_ms"] = self.latency.value()
        if self.jitter is not None and self.jitter.value() != self.step.jitter_ms:
            out["jitter_ms"] = self.jitter.value()
        if self.loss is not None and round(self.loss.value() / 100, 4) != self.step.loss:
            out["loss"] = round(self.loss.value() / 100, 4)
        return out

    def apply(self) -> None:
        fields = self.fields()
        if fields:
            try:
                self.commit(**fields)
            except commands.EditRefused as exc:
                self.error.setText(str(exc))
                self.error.show()
                return
        self.close()

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.apply()
            return
        super().keyPressEvent(event)

    def show_at(self, global_pos: QPoint) -> None:
        self.adjustSize()
        self.move(global_pos)
        self.show()

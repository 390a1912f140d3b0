"""Form editors generated from pydantic fields: enums, bools, numbers, text, optionals, `crash`.

Each editor emits `committed(value)` when the user is done with a value (Enter,
focus out, a click, a spin step) and `edited(value)` while typing, so the
inspector can validate as you type and push one undoable command per change.
An optional number shows its unset state as the spin box's lowest value with a
word ("free port", "until duration") rather than a separate checkbox.
"""

from __future__ import annotations

import types
import typing
from enum import Enum
from typing import Any

from pydantic.fields import FieldInfo
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engines.topology.model import Crash, CrashPoint

INT_MAX = 2**31 - 1
UNSET_WORDS = {
    "port": "free port",
    "count": "until duration",
    "duration_s": "no limit",
    "hwm": "default",
    "url": "managed by the lab",
    "channel": "derived",
    "name": "from->to",
    "delivery_limit": "no limit",
    "dead_letter_exchange": 'none ("" = default exchange)',
    "dead_letter_routing_key": "the message's own",
    "fail_every": "never",
    "heavy_every": "none",
    "message_ttl_ms": "forever",
    "expires_ms": "never",
    "expiration_ms": "none",
    "max_length": "no limit",
    "max_length_bytes": "no limit",
}
LABELS = {
    "rate": "Rate (msg/s)",
    "payload_bytes": "Payload (bytes)",
    "timeout_ms": "Timeout (ms)",
    "duration_s": "Duration (s)",
    "processing_ms": "Processing (ms)",
    "collect_ms": "Collect (ms)",
    "join_after_ms": "Join after (ms)",
    "in_flight": "In flight",
    "hwm": "High-water mark",
    "pirate": "Pirate queue",
    "pirate_heartbeat_ms": "Heartbeat (ms)",
    "pirate_liveness": "Liveness (beats)",
    "pirate_interval_init_ms": "Back-off first (ms)",
    "pirate_interval_max_ms": "Back-off max (ms)",
    "url": "External URL",
    "bind": "Bind address",
    "ack": "Ack mode",
    "idempotency_key": "Idempotency key",
    "resend_in_doubt": "Resend in doubt",
    "restart_on_crash": "Restart on crash",
    "lazy_pirate": "Lazy Pirate",
    "queue_type": "Queue type",
    "exchange_type": "Exchange type",
    "routing_key": "Routing key",
    "immediate": "ZMQ_IMMEDIATE",
    "router_mandatory": "ROUTER_MANDATORY",
    "req_resend": "REQ resends on timeout",
    "req_relaxed": "REQ_RELAXED",
    "req_correlate": "REQ_CORRELATE",
    "store": "Shared store",
    "delivery_limit": "Delivery limit",
    "dead_letter_exchange": "Dead-letter exchange",
    "dead_letter_routing_key": "Dead-letter key",
    "reject_fraction": "Reject fraction",
    "reject_nth": "Reject every Nth",
    "fail_every": "Fail every Nth",
    "message_ttl_ms": "Message TTL (ms)",
    "expires_ms": "Queue expires (ms)",
    "expiration_ms": "Message expiration (ms)",
    "max_length": "Max length",
    "max_length_bytes": "Max length (bytes)",
    "auto_delete": "Auto-delete",
    "reply_to": "Reply to",
    "reply_mandatory": "Mandatory replies",
    "heartbeat_s": "Heartbeat (s)",
    "heavy_every": "Heavy every Nth",
    "heavy_ms": "Heavy extra (ms)",
    "handler_thread": "Work in a thread",
    "stream_offset": "Stream offset",
}


def label_for(field: str) -> str:
    return LABELS.get(field, field.replace("_", " ").capitalize())


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, optional?) for `X | None` and `Optional[X]`."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), type(None) in typing.get_args(annotation)
    return annotation, False


def bounds(info: FieldInfo) -> tuple[float | None, float | None, bool]:
    """(lowest, highest, lowest is exclusive) from Field(ge=, gt=, le=)."""
    low = high = None
    exclusive = False
    for meta in info.metadata:
        if getattr(meta, "ge", None) is not None:
            low = meta.ge
        if getattr(meta, "gt", None) is not None:
            low, exclusive = meta.gt, True
        if getattr(meta, "le", None) is not None:
            high = meta.le
    return low, high, exclusive


class CompactDoubleSpinBox(QDoubleSpinBox):
    """Shows 14 rather than 14.00, and 0.5 rather than 0.50."""

    def textFromValue(self, value: float) -> str:
        return f"{value:.{self.decimals()}f}".rstrip("0").rstrip(".")


class FieldEditor(QObject):
    """Wraps one widget; `value()` is what the model would store."""

    committed = Signal(object)
    edited = Signal(object)

    def __init__(self, field: str, widget: QWidget) -> None:
        super().__init__(widget)
        self.field = field
        self.widget = widget
        # Size hints of spin boxes (their widest value) and combos (their longest item) would
        # otherwise make the form wider than the inspector.
        for part in [widget, *widget.findChildren(QWidget)]:
            if isinstance(part, QAbstractSpinBox):
                part.setMinimumWidth(60)
            elif isinstance(part, QComboBox):
                part.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                part.setMinimumContentsLength(6)  # with the widest label, the form fits the inspector
        self.shown: Any = None  # the model's value as last shown: Escape goes back to it
        for part in [widget, *widget.findChildren(QLineEdit)]:
            part.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Escape takes back what was typed and not yet committed (the model's value returns)."""
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) \
                and event.key() == Qt.Key.Key_Escape:
            self.show(self.shown)
            self.edited.emit(self.value())  # the error under the field goes with the typing
            return True
        return False

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def silence(self) -> None:
        """Stop emitting for good: the form is being replaced (a dying editor must not commit)."""
        self.blockSignals(True)
        self.widget.blockSignals(True)
        for child in self.widget.findChildren(QWidget):
            child.blockSignals(True)

    def show(self, value: Any) -> None:
        """Show a model value without emitting anything."""
        self.shown = value
        self.widget.blockSignals(True)
        try:
            self.set_value(value)
        finally:
            self.widget.blockSignals(False)


class EnumEditor(FieldEditor):
    """A combo of the enum's values; an optional field (a service link's style) adds "default"."""

    def __init__(self, field: str, enum: type[Enum], optional: bool = False) -> None:
        combo = QComboBox()
        if optional:
            combo.addItem("default", None)
        for member in enum:
            combo.addItem(member.value, member)
        super().__init__(field, combo)
        self.combo = combo
        self.enum = enum
        combo.currentIndexChanged.connect(lambda _i: self.committed.emit(self.value()))

    def value(self) -> Any:
        return self.combo.currentData()

    def set_value(self, value: Any) -> None:
        self.combo.setCurrentIndex(self.combo.findData(None if value is None else self.enum(value)))


class BoolEditor(FieldEditor):
    def __init__(self, field: str) -> None:
        box = QCheckBox()
        super().__init__(field, box)
        self.box = box
        box.clicked.connect(lambda _c: self.committed.emit(self.value()))

    def value(self) -> Any:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        self.box.setChecked(bool(value))


class NumberEditor(FieldEditor):
    def __init__(self, field: str, kind: type, info: FieldInfo, optional: bool) -> None:
        low, high, exclusive = bounds(info)
        is_int = kind is int
        step = 1 if is_int else 0.01
        lowest = (low if low is not None else 0) + (step if exclusive else 0)
        self.unset_at = lowest - step if optional else None
        bottom = self.unset_at if self.unset_at is not None else lowest
        spin: QSpinBox | QDoubleSpinBox
        if is_int:
            spin = QSpinBox()
            spin.setRange(int(bottom), int(high) if high is not None else INT_MAX)
        else:
            spin = CompactDoubleSpinBox()
            spin.setDecimals(2)
            spin.setRange(float(bottom), float(high) if high is not None else 1e9)
        if optional:
            spin.setSpecialValueText(UNSET_WORDS.get(field, "unset"))
        spin.setKeyboardTracking(False)
        spin.setAccelerated(True)
        super().__init__(field, spin)
        self.spin = spin
        self.is_int = is_int
        spin.valueChanged.connect(lambda _v: self.committed.emit(self.value()))

    def value(self) -> Any:
        v = self.spin.value()
        if self.unset_at is not None and v <= self.unset_at:
            return None
        return int(v) if self.is_int else float(v)

    def set_value(self, value: Any) -> None:
        self.spin.setValue(self.unset_at if value is None else value)  # type: ignore[arg-type]


class TextEditor(FieldEditor):
    def __init__(self, field: str, optional: bool) -> None:
        line = QLineEdit()
        if optional:
            line.setPlaceholderText(UNSET_WORDS.get(field, "unset"))
        line.setClearButtonEnabled(optional)
        super().__init__(field, line)
        self.line = line
        self.optional = optional
        line.textEdited.connect(lambda _t: self.edited.emit(self.value()))
        line.editingFinished.connect(lambda: self.committed.emit(self.value()))

    def value(self) -> Any:
        text = self.line.text().strip()
        if self.optional and text in ('""', "''"):
            return ""  # an empty value that is set (the default exchange), unlike an empty box
        return None if self.optional and not text else text

    def set_value(self, value: Any) -> None:
        if self.optional and value == "":
            self.line.setText('""')
            return
        self.line.setText("" if value is None else str(value))
        self.line.setCursorPosition(0)  # show the start of a long name, not its end


class _PlainText(QPlainTextEdit):
    focus_lost = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.focus_lost.emit()


class LinesEditor(FieldEditor):
    """Multi-line text; a list of lines (expectations) or one string (description)."""

    def __init__(self, field: str, as_list: bool) -> None:
        box = _PlainText()
        box.setTabChangesFocus(True)
        box.setFixedHeight(72 if as_list else 96)
        if as_list:  # one expectation per line: wrapping would split them mid-word
            box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        super().__init__(field, box)
        self.box = box
        self.as_list = as_list
        box.textChanged.connect(lambda: self.edited.emit(self.value()))
        box.focus_lost.connect(lambda: self.committed.emit(self.value()))

    def value(self) -> Any:
        text = self.box.toPlainText()
        if self.as_list:
            return [line.strip() for line in text.splitlines() if line.strip()]
        return text.strip() + ("\n" if "\n" in text.strip() else "")

    def set_value(self, value: Any) -> None:
        text = "\n".join(value) if self.as_list else (value or "").rstrip("\n")
        if text != self.box.toPlainText():
            self.box.setPlainText(text)


class CrashEditor(FieldEditor):
    """`crash: {after, point}` or none: a checkbox, a message number and a point."""

    def __init__(self, field: str) -> None:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(3)
        self.enabled = QCheckBox("on message")
        self.enabled.setToolTip("Crash once, on this message of its life, at this point of the handling")
        self.after = QSpinBox()
        self.after.setRange(1, INT_MAX)
        self.after.setPrefix("#")
        self.after.setKeyboardTracking(False)
        self.point = QComboBox()
        for member in CrashPoint:
            self.point.addItem(member.value, member)
        column.addWidget(self.enabled)  # one above the other: side by side they widened the
        column.addWidget(self.after)  # form past the inspector, which cut its right edge
        column.addWidget(self.point)
        super().__init__(field, box)
        self.enabled.clicked.connect(self._emit)
        self.after.valueChanged.connect(self._emit)
        self.point.currentIndexChanged.connect(self._emit)

    def _emit(self, *_args: Any) -> None:
        self._sync()
        self.committed.emit(self.value())

    def _sync(self) -> None:
        self.after.setEnabled(self.enabled.isChecked())
        self.point.setEnabled(self.enabled.isChecked())

    def value(self) -> Any:
        if not self.enabled.isChecked():
            return None
        return {"after": self.after.value(), "point": self.point.currentData()}

    def set_value(self, value: Any) -> None:
        for w in (self.enabled, self.after, self.point):
            w.blockSignals(True)
        crash = Crash.model_validate(value) if isinstance(value, dict) else value
        self.enabled.setChecked(crash is not None)
        point = crash.point if crash is not None else Crash.model_fields["point"].default
        self.point.setCurrentIndex(self.point.findData(point))
        if crash is not None:
            self.after.setValue(crash.after)
        self._sync()
        for w in (self.enabled, self.after, self.point):
            w.blockSignals(False)


def editor_for(field: str, info: FieldInfo) -> FieldEditor:
    """The editor a model field calls for, from its annotation and constraints."""
    kind, optional = unwrap(info.annotation)
    if kind is Crash:
        return CrashEditor(field)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return EnumEditor(field, kind, optional)
    if kind is bool:
        return BoolEditor(field)
    if kind in (int, float):
        return NumberEditor(field, kind, info, optional)
    return TextEditor(field, optional)


def error_label() -> QLabel:
    label = QLabel()
    label.setObjectName("fieldError")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.hide()
    return label

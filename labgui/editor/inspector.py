"""The inspector: a form built from the model for the selected node, link, or the topology.

Fields that matter for the node's kind, style and transport
(`engines.topology.relevance`) come first, the rest under "More settings". Text is
validated as you type through pydantic and the error shown under the field;
every accepted change is one undoable command, and a refused one is never
written (the message stays, the editor goes back to the model's value).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFormLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from engines.topology import expectations, relevance
from engines.topology.model import BrokerNode, ClientNode, Link, Topology
from engines.topology.problems import Severity
from engines.topology.refactor import AnyNode
from labgui.canvas import theme
from labgui.canvas.scene import CanvasScene
from labgui.document import commands
from labgui.document.document import TopologyDocument
from labgui.editor.fields import (
    BoolEditor,
    FieldEditor,
    LinesEditor,
    NumberEditor,
    TextEditor,
    editor_for,
    error_label,
    label_for,
)

HIDDEN = {"kind", "position", "source", "target"}
TOPOLOGY_FIELDS = ("name", "description", "duration_s", "expectations")


def transports_of(topology: Topology, model: Any) -> set[str]:
    """The transports a node speaks: a client its own, a broker amqp, a service what feeds it."""
    if isinstance(model, ClientNode):
        return {model.transport.value}
    if isinstance(model, BrokerNode):
        return {"amqp"}
    if isinstance(model, Link):
        return set()
    feeding: set[str] = set()
    for link in topology.links:
        if link.target == model.name and topology.has_node(link.source):
            source = topology.node(link.source)
            if isinstance(source, ClientNode):
                feeding.add(source.transport.value)
            elif isinstance(source, BrokerNode):
                feeding.add("amqp")
    return feeding


def applies(topology: Topology, model: Any, field: str) -> bool:
    """A setting whose description names a transport ('amqp: ...') applies only to a node that
    speaks it (an unlinked service shows them all): the inspector hides the others."""
    description = type(model).model_fields[field].description or ""
    word = description.split(":", 1)[0].split(" ", 1)[0] if ":" in description[:30] else ""
    if word not in ("zmq", "amqp", "http"):
        return True
    spoken = transports_of(topology, model)
    return not spoken or word in spoken


class Inspector(QScrollArea):
    """Edits whatever the canvas has selected; with nothing selected, the topology itself."""

    def __init__(self, scene: CanvasScene, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.doc: TopologyDocument = scene.doc
        self.editors: dict[str, FieldEditor] = {}
        self.errors: dict[str, QLabel] = {}
        self.target: tuple[str, str] | None = None  # ("node", name) | ("link", key) | ("topology", "")
        self._fields: list[str] = []
        self._problems: QVBoxLayout | None = None
        self.read_only = False
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the form fits
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setMinimumWidth(300)
        self._rebuild_timer = QTimer(self)
        self._rebuild_timer.setSingleShot(True)
        self._rebuild_timer.setInterval(0)
        self._rebuild_timer.timeout.connect(self.rebuild)
        scene.selectionChanged.connect(self._rebuild_timer.start)
        for signal in (self.doc.node_changed, self.doc.node_moved, self.doc.link_added,
                       self.doc.link_removed, self.doc.topology_changed):
            signal.connect(self._refresh)
        self.doc.problems_changed.connect(self._fill_problems)
        self.doc.node_renamed.connect(self._renamed)
        self.doc.link_changed.connect(self._link_renamed)
        self.doc.node_removed.connect(self._rebuild_timer.start)
        self.doc.topology_replaced.connect(self._rebuild_timer.start)
        self.rebuild()

    # -- what to show -------------------------------------------------------------------
    def _current_target(self) -> tuple[str, str] | None:
        nodes, links = self.scene.selected_nodes(), self.scene.selected_links()
        if len(nodes) + len(links) > 1:
            return None
        if nodes:
            return ("node", nodes[0])
        if links:
            return ("link", links[0])
        return ("topology", "")

    def _model(self) -> AnyNode | Link | Topology | None:
        assert self.target is not None
        kind, key = self.target
        topo = self.doc.topology
        if kind == "node":
            return topo.node(key) if topo.has_node(key) else None
        if kind == "link":
            return topo.link(key) if topo.has_link(key) else None
        return topo

    def _field_order(self, model: Any) -> tuple[list[str], list[str]]:
        topo = self.doc.topology
        if isinstance(model, Topology):
            return list(TOPOLOGY_FIELDS), []
        if isinstance(model, Link):
            first = relevance.link_fields(topo, model)
        else:
            first = ["name", *relevance.node_fields(topo, model)]
        rest = [f for f in type(model).model_fields if f not in first and f not in HIDDEN
                and applies(topo, model, f)]
        return first, rest

    # -- building the form ----------------------------------------------------------------------
    def rebuild(self) -> None:
        focused = next((f for f, e in self.editors.items() if e.widget.hasFocus()), None)
        self.target = self._current_target()
        self._problems = None
        for editor in self.editors.values():
            editor.silence()
        self.editors.clear()
        self.errors.clear()
        page = QWidget()
        page.setObjectName("inspectorPage")
        column = QVBoxLayout(page)
        column.setContentsMargins(12, 10, 12, 10)
        column.setSpacing(6)
        model = self._model() if self.target else None
        if model is None:
            count = len(self.scene.selectedItems())
            column.addWidget(self._heading(f"{count} items selected" if count else "Nothing selected"))
            column.addWidget(self._note("Select a single node or link to edit it."))
            self._fields = []
        else:
            first, rest = self._field_order(model)
            self._fields = first + rest
            column.addWidget(self._header(model))
            holder = QWidget()
            self._problems = QVBoxLayout(holder)
            self._problems.setContentsMargins(0, 4, 0, 0)
            column.addWidget(holder)
            self._fill_problems()
            form = self._new_form()  # one form, so both sections share one label column
            if first:
                form.addRow(self._section("Settings that matter here" if rest else "Settings"))
                self._add_rows(form, model, first)
            if rest:
                form.addRow(self._section("More settings" if first else "Settings"))
                self._add_rows(form, model, rest)
            column.addLayout(form)
            if isinstance(model, Topology) and model.scenario:
                column.addWidget(self._section("Scenario"))
                for step in model.scenario:
                    when = f"at {step.at_s:g} s" if step.at_s is not None else f"after {step.after_messages} msgs"
                    column.addWidget(self._note(f"{when}: {step.action.value} {step.target}"))
        column.addStretch(1)
        page.setEnabled(not self.read_only)
        page.setStyleSheet(
            "#inspectorTitle { font-size: 12pt; font-weight: bold; }"
            "#inspectorSection { color: #495057; font-weight: bold; margin-top: 8px;"
            " border-bottom: 1px solid #dee2e6; padding-bottom: 2px; }"
            "#inspectorNote { color: #6c757d; }"
            "#fieldError { color: #c92a2a; font-size: 8pt; }"
            "#problemError { color: #c92a2a; } #problemWarning { color: #e67700; }"
        )
        old = self.takeWidget()
        if old is not None:
            old.deleteLater()
        self.setWidget(page)
        if focused in self.editors:
            self.editors[focused].widget.setFocus()

    def _header(self, model: Any) -> QWidget:
        box = QWidget()
        row = QVBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        if isinstance(model, Topology):
            title, sub = "Topology", f"{len(model.nodes)} nodes · {len(model.links)} links"
        elif isinstance(model, Link):
            transport = self.doc.topology.link_transport(model)
            title = f"{model.source} → {model.target}"
            sub = f"link · {transport.value if transport else 'no transport yet'}"
        elif isinstance(model, BrokerNode):
            title = model.name
            sub = "RabbitMQ broker the lab starts and owns" if model.managed else "External RabbitMQ broker"
        else:
            title, sub = model.name, f"{theme.KIND_LABELS[model.kind]} · {theme.subtitle(self.doc.topology, model)}"
        heading = self._heading(title)
        row.addWidget(heading)
        row.addWidget(self._note(sub))
        return box

    def _heading(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("inspectorTitle")
        label.setWordWrap(True)
        return label

    def _note(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("inspectorNote")
        label.setWordWrap(True)
        return label

    def _section(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("inspectorSection")
        return label

    def _fill_problems(self) -> None:
        """List the problems of what is shown, above its form."""
        if self._problems is None or self.target is None:
            return
        while self._problems.count():
            taken = self._problems.takeAt(0)
            old = taken.widget() if taken is not None else None
            if old is not None:
                old.deleteLater()
        kind, key = self.target
        problems = (self.doc.problems_for_node(key) if kind == "node" else
                    self.doc.problems_for_link(key) if kind == "link" else
                    [p for p in self.doc.problems if p.node is None and p.link is None])
        for p in problems:
            text = ("✖ " if p.severity is Severity.ERROR else "⚠ ") + p.message + (f" — {p.hint}" if p.hint else "")
            label = QLabel(text)
            label.setWordWrap(True)
            label.setObjectName("problemError" if p.severity is Severity.ERROR else "problemWarning")
            self._problems.addWidget(label)

    def _new_form(self) -> QFormLayout:
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(5)
        return form

    def _add_rows(self, form: QFormLayout, model: Any, fields: list[str]) -> None:
        info = type(model).model_fields
        for field in fields:
            if isinstance(model, Topology) and field in ("description", "expectations"):
                editor: FieldEditor = LinesEditor(field, as_list=field == "expectations")
            else:
                editor = editor_for(field, info[field])
            editor.show(getattr(model, field))
            label = QLabel(label_for(field))
            tip = info[field].description or ""
            label.setToolTip(tip)
            editor.widget.setToolTip(tip)
            error = error_label()
            holder = QWidget()
            stack = QVBoxLayout(holder)
            stack.setContentsMargins(0, 0, 0, 0)
            stack.setSpacing(1)
            if isinstance(editor, BoolEditor):  # a click anywhere on a wide checkbox misses it
                stack.addWidget(editor.widget, 0, Qt.AlignmentFlag.AlignLeft)
            else:
                stack.addWidget(editor.widget)
            stack.addWidget(error)
            form.addRow(label, holder)
            # Bound to what the form was built for: a late focus-out still edits the right thing.
            editor.committed.connect(lambda value, f=field, t=self.target: self.apply(f, value, t))
            editor.edited.connect(lambda value, f=field: self.check(f, value))
            self.editors[field] = editor
            self.errors[field] = error

    # -- editing ----------------------------------------------------------------------------------
    def check(self, field: str, value: Any) -> str | None:
        """Validate a value being typed; show the error under the field. Writes nothing."""
        model = self._model()
        message = None
        try:
            if isinstance(model, Topology):
                commands.topology_with(model, field, value)
                if field == "expectations":
                    for text in value:
                        expectations.parse(text)
            elif isinstance(model, Link):
                commands.link_with(model, field, value)
            elif model is not None:
                commands.node_with(model, field, value)
                if field == "name" and value != model.name and self.doc.topology.has_node(value):
                    message = f"'{value}' is already the name of another node"
        except (commands.EditRefused, expectations.ExpectationError) as exc:
            message = str(exc)
        self._show_error(field, message)
        return message

    def apply(self, field: str, value: Any, target: tuple[str, str] | None = None) -> bool:
        """Push one undoable change, or show why it is refused and restore the model's value."""
        target = target or self.target
        assert target is not None
        kind, key = target
        topo = self.doc.topology
        if (kind == "node" and not topo.has_node(key)) or (kind == "link" and not topo.has_link(key)):
            return False  # it went away (undo, delete) before the edit landed
        try:
            if kind == "node":
                commands.change_node(self.doc, key, field, value)
            elif kind == "link":
                commands.change_link(self.doc, key, field, value)
            else:
                commands.change_topology(self.doc, field, value)
        except commands.EditRefused as exc:
            self._show_error(field, f"Not applied: {exc}")
            editor = self.editors.get(field) if target == self.target else None
            if editor is not None and not isinstance(editor, (TextEditor, LinesEditor)):
                editor.show(getattr(self._model(), field))
            return False
        self._show_error(field, None)
        return True

    def _show_error(self, field: str, message: str | None) -> None:
        label = self.errors.get(field)
        if label is None:
            return
        label.setText(message or "")
        label.setVisible(bool(message))
        editor = self.editors[field]
        editor.widget.setStyleSheet("border: 1px solid #e03131;" if message and
                                    not isinstance(editor, NumberEditor) else "")

    def set_read_only(self, read_only: bool) -> None:
        """Run mode: show values, accept no edits."""
        self.read_only = read_only
        form = self.widget()
        if form is not None:
            form.setEnabled(not read_only)

    # -- following the document --------------------------------------------------------------------
    def _refresh(self, *_args: Any) -> None:
        """Rebuild after the document changed (focus is kept on the field that had it)."""
        if self.target is not None:
            self._rebuild_timer.start()

    def _renamed(self, old: str, new: str) -> None:
        if self.target == ("node", old):
            self.target = ("node", new)
        self._refresh()

    def _link_renamed(self, old: str, new: str) -> None:
        if self.target == ("link", old):
            self.target = ("link", new)
        self._refresh()

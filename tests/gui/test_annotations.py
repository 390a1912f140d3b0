"""Annotations on the canvas (issue 20, item 5): add, edit in place, move, resize, group, undo,
copy and paste, save and reopen, read-only during a run."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from engines.topology import topofile
from engines.topology.model import AnnotationKind
from labgui.canvas.annotation_items import AnnotationItem
from tests.gui.conftest import drag


def items(window) -> list[AnnotationItem]:
    window.scene.annotations.flush()
    return window.scene.annotations.items


def free_point(window, item: AnnotationItem) -> QPointF:
    """A point of the item that no node or link covers (notes lie under them)."""
    rect = item.sceneBoundingRect()
    for fx in (0.5, 0.2, 0.8):
        for fy in (0.5, 0.3, 0.7):
            point = QPointF(rect.left() + rect.width() * fx, rect.top() + rect.height() * fy)
            if window.scene.items(point)[0] in (item, item.text):
                return point
    raise AssertionError("the note is covered everywhere")


def type_text(qtbot, window, text: str, finish=Qt.Key.Key_Return, modifier=Qt.KeyboardModifier.NoModifier):
    for line_no, line in enumerate(text.split("\n")):
        if line_no:
            qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Return)
        qtbot.keyClicks(window.view.viewport(), line)
    qtbot.keyClick(window.view.viewport(), finish, modifier)
    QApplication.processEvents()


def test_note_added_by_keyboard_edited_in_place_moved_resized_undone_and_saved(window, qtbot, tmp_path, opened):
    opened("03")
    window.activateWindow()
    window.view.setFocus()
    stack = window.doc.undo_stack
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    [note] = items(window)
    assert note.ann.kind is AnnotationKind.NOTE and note.text.editing()  # typing goes into the note
    assert not any(note.sceneBoundingRect().intersects(n.sceneBoundingRect())  # placed clear of them
                   for n in window.scene.nodes.values())
    # Backspace and Delete edit the text; they do not delete the selection (the Delete action)
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Backspace)
    type_text(qtbot, window, "Single point\nof failure", Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert [a.text for a in window.doc.topology.annotations] == ["Single point\nof failure"]
    assert stack.undoText() == "Edit note"
    # drag it by its middle: one undo step; the position snaps to the grid
    [note] = items(window)
    start = free_point(window, note)
    drag(window, start, start + QPointF(63, 41))
    ann = window.doc.topology.annotations[0]
    assert stack.undoText() == "Move 1 annotation"
    assert ann.position[0] % 10 == 0 and ann.position[1] % 10 == 0
    # resize from the grip
    [note] = items(window)
    note.setSelected(True)
    grip = note.mapToScene(note.grip().center())
    drag(window, grip, grip + QPointF(80, 30))
    assert window.doc.topology.annotations[0].size == (290.0, 100.0)  # the grip sits 6 px inside the corner
    # Escape takes back a half-typed edit
    [note] = items(window)
    note.edit_text()
    type_text(qtbot, window, "oops", Qt.Key.Key_Escape)
    assert window.doc.topology.annotations[0].text == "Single point\nof failure"
    # undo all the way back, then redo
    for expected in ("Resize note", "Move 1 annotation", "Edit note", "Add note"):
        assert stack.undoText() == expected
        stack.undo()
    assert window.doc.topology.annotations == [] and items(window) == []
    while stack.canRedo():
        stack.redo()
    saved = tmp_path / "annotated.topo.yaml"
    assert window.files.save_as(saved)
    text = saved.read_text()
    assert "annotations:\n  - kind: note\n    text: |-\n      Single point\n      of failure\n" in text
    assert "size: [290, 100]" in text
    window.doc.mark_saved()
    assert window.open_file(saved)
    [note] = items(window)
    assert note.ann.text == "Single point\nof failure" and note.rect().width() == 290


def test_group_follows_its_nodes_rename_delete_and_paste(window, qtbot, opened):
    opened("03")
    window.scene.select(["rabbit"])
    window.annotate.group.trigger()
    type_text(qtbot, window, "Single point of failure")
    [group] = items(window)
    assert group.ann.kind is AnnotationKind.GROUP and group.ann.nodes == ["rabbit"]
    assert group.ann.text == "Single point of failure"
    rabbit = window.scene.nodes["rabbit"]
    assert group.sceneBoundingRect().contains(rabbit.sceneBoundingRect())
    # the frame follows its node while it is dragged, and after
    drag(window, rabbit.pos(), rabbit.pos() + QPointF(0, 200))
    [group] = items(window)
    assert group.sceneBoundingRect().contains(window.scene.nodes["rabbit"].sceneBoundingRect())
    # a rename follows into the group; undo takes both back
    from labgui.document import commands
    commands.change_node(window.doc, "rabbit", "name", "hub")
    assert window.doc.topology.annotations[0].nodes == ["hub"]
    window.doc.undo_stack.undo()
    assert window.doc.topology.annotations[0].nodes == ["rabbit"]
    # copy the broker and its group, paste: a second group around the copy
    window.scene.select(["rabbit"])
    window.editor_actions.copy.trigger()
    window.editor_actions.paste.trigger()
    anns = window.doc.topology.annotations
    assert [a.nodes for a in anns] == [["rabbit"], ["rabbit-2"]]
    window.doc.undo_stack.undo()
    # deleting the only member deletes the group; undo brings both back, framed again
    window.scene.select(["rabbit"])
    window.editor_actions.delete.trigger()
    assert window.doc.topology.annotations == [] and items(window) == []
    window.doc.undo_stack.undo()
    [group] = items(window)
    assert group.members == [window.scene.nodes["rabbit"]]


def test_box_from_the_context_menu_delete_key_and_read_only_in_run_mode(window, qtbot, opened):
    opened("03")
    menu = window.build_context_menu(None)
    texts = [a.text() for a in menu.actions()]
    assert "Add &Note" in texts and "Add &Box" in texts
    window.annotate.box.trigger()
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Escape)  # keep the default title
    [box] = items(window)
    assert box.ann.kind is AnnotationKind.BOX and box.zValue() < 0  # behind the nodes
    box.setSelected(True)
    menu = window.build_context_menu(None)
    assert "&Edit Annotation Text" in [a.text() for a in menu.actions()]
    assert window.editor_actions.delete.isEnabled()
    window.editor_actions.delete.trigger()
    assert window.doc.topology.annotations == []
    window.doc.undo_stack.undo()
    window.set_editing_locked(True)
    [box] = items(window)
    assert not box.flags() & box.GraphicsItemFlag.ItemIsMovable
    box.edit_text()
    assert not box.text.editing()
    window.set_editing_locked(False)


def test_a_shipped_example_teaches_with_an_annotation() -> None:
    root = Path(__file__).resolve().parents[2] / "topologies"
    topo = topofile.load(root / "12-broker-failure-rabbitmq.topo.yaml").topology
    assert any(a.kind is AnnotationKind.GROUP and a.nodes == ["rabbit"] and "single point of failure"
               in a.text.lower() for a in topo.annotations)

"""New, Open, Save, Save As, recent files, examples, prompts, bad files, autosave and recovery."""

from __future__ import annotations

import os
import time

import pytest
from PySide6.QtWidgets import QApplication

from engines.topology import topofile
from engines.topology.vocabulary import NodeKind
from labgui.app.mainwindow import MainWindow
from tests.conftest import EXAMPLES
from tests.gui.conftest import drop_from_palette

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name.split("-")[0])
def test_every_example_opens_and_saves_byte_identical(window, example, tmp_path):
    assert window.open_file(example)
    assert window.doc.problems == [] or all(p.severity.value == "warning" for p in window.doc.problems)
    assert len(window.scene.nodes) == len(window.doc.topology.nodes)
    target = tmp_path / example.name
    assert window.files.save_as(target)
    assert target.read_bytes() == example.read_bytes()
    assert window.title_text() == f"{example.name} — Topology Lab"


def test_save_and_reload_give_an_equal_model(window, opened, tmp_path, qtbot):
    path = opened("13")
    drop_from_palette(window, NodeKind.SERVICE, (500, 200))
    window.scene.select(["rabbit"])
    window.scene.connect_nodes("rabbit", "service")
    assert window.doc.is_modified() and window.title_text().startswith(f"{path.name}*")
    window.editor_actions.save.trigger()
    assert not window.doc.is_modified() and "*" not in window.title_text()
    assert path.read_text() == topofile.dumps(window.doc.topology)
    edited = window.doc.topology.model_copy(deep=True)
    other = MainWindow()
    try:
        assert other.open_file(path)
        assert other.doc.topology == edited
    finally:
        other.close()
    assert window.files.recent.paths()[0] == path.resolve()


def test_save_as_asks_for_a_path_and_adds_the_suffix(window, answer, tmp_path):
    drop_from_palette(window, NodeKind.CLIENT, (0, 0))
    answer("ask_save_path", tmp_path / "mine")
    window.editor_actions.save.trigger()  # untitled: Save means Save As
    saved = tmp_path / "mine.topo.yaml"
    assert saved.is_file() and window.files.path == saved
    assert window.title_text() == "mine.topo.yaml — Topology Lab"
    assert "problem" in window.statusBar().currentMessage()  # a lone client cannot run yet


def test_a_bad_file_is_refused_in_a_dialog_and_the_document_kept(window, opened, answer, tmp_path):
    opened("12")
    before = topofile.dumps(window.doc.topology)
    bad = tmp_path / "bad.topo.yaml"
    bad.write_text("version: 1\nname: x\nnodes:\n  - {name: a, kind: client, rate: -1}\n")
    answer("show_problems")
    assert not window.open_file(bad)
    (name, args), = answer.asked
    assert name == "show_problems"
    problems = args[3]
    assert any("rate" in p.message and p.line == 4 for p in problems)
    assert topofile.dumps(window.doc.topology) == before
    assert window.files.path.name.startswith("12-")


def test_a_draft_with_semantic_errors_opens_with_its_problems(window, tmp_path):
    draft = tmp_path / "draft.topo.yaml"
    draft.write_text("version: 1\nname: draft\nnodes:\n  - {name: lonely, kind: client}\n")
    assert window.open_file(draft)
    assert "client has no target" in window.problems.problems()[0].message
    assert window.scene.node_item("lonely").problems


def test_prompt_before_losing_changes(window, opened, answer, example_copy):
    path = opened("12")
    drop_from_palette(window, NodeKind.SERVICE, (0, 300))
    answer("ask_unsaved_changes", "cancel")
    assert not window.new_file()
    assert window.doc.topology.has_node("service")
    assert not window.open_file(example_copy("01"))
    assert window.files.path == path
    answer("ask_unsaved_changes", "discard")
    assert window.new_file()
    assert window.doc.topology.nodes == [] and window.files.path is None
    drop_from_palette(window, NodeKind.SERVICE, (0, 0))
    answer("ask_unsaved_changes", "save")
    answer("ask_save_path", path.parent / "kept.topo.yaml")
    assert window.open_file(example_copy("01"))
    assert "service" in (path.parent / "kept.topo.yaml").read_text()
    assert answer.names().count("ask_unsaved_changes") == 4


def test_closing_with_changes_asks_and_cancel_keeps_the_window(window, answer):
    drop_from_palette(window, NodeKind.CLIENT, (0, 0))
    answer("ask_unsaved_changes", "cancel")
    assert not window.close()
    assert window.isVisible()


def test_examples_and_recent_menus(window, example_copy):
    names = [a.text() for a in window.examples_menu.actions()]
    assert names == [p.name.removesuffix(".topo.yaml") for p in EXAMPLES]
    window.examples_menu.actions()[0].trigger()
    assert window.files.example == EXAMPLES[0] and window.files.path is None
    copy = example_copy("05")
    window.open_file(copy)
    recent = [a.text() for a in window.recent_menu.actions() if a.text() and a.text() != "Clear list"]
    assert recent[:2] == [copy.name, EXAMPLES[0].name]


def test_autosave_then_recover_after_a_crash(window, opened, answer, qtbot):
    path = opened("12")
    drop_from_palette(window, NodeKind.SERVICE, (0, 300))
    wanted = topofile.dumps(window.doc.topology)
    window.files.autosave_timer.setInterval(30)
    window.files.autosave_timer.start()
    recovery = window.files.recovery.file_for(path)
    qtbot.waitUntil(recovery.is_file, timeout=2000)
    assert recovery.read_text() == wanted
    assert path.read_text() != wanted
    # The editor "crashes": a new one starts on the same file and offers the recovery.
    answer("ask_recover", True)
    second = MainWindow()
    try:
        second.start(path)
        assert answer.names() == ["ask_recover"]
        assert topofile.dumps(second.doc.topology) == wanted
        assert second.doc.is_modified() and second.title_text().startswith(f"{path.name}*")
        second.files.save()
        assert path.read_text() == wanted and not recovery.exists()
    finally:
        second.close()


def test_declined_or_stale_recovery_is_not_offered_again(window, opened, answer, qtbot):
    path = opened("12")
    store = window.files.recovery
    store.write(path, "version: 1\nname: stale\n")
    old = time.time() - 60
    os.utime(store.file_for(path), (old, old))
    assert store.find(path) is None  # older than the file: not offered
    store.write(path, topofile.dumps(window.doc.topology))
    answer("ask_recover", False)
    assert window.open_file(path)
    assert answer.names() == ["ask_recover"] and store.find(path) is None


def test_untitled_work_is_recovered_at_start(answer, qtbot, state_dir):
    first = MainWindow()
    drop_from_palette(first, NodeKind.CLIENT, (0, 0))
    assert first.files.autosave() is not None
    first.doc.mark_saved()  # the crash: nothing cleans up
    first.deleteLater()
    answer("ask_recover", True)
    second = MainWindow()
    try:
        second.start(EXAMPLES[0])
        assert second.files.path is None and second.doc.topology.has_node("client")
    finally:
        second.doc.mark_saved()
        second.close()
    QApplication.processEvents()


def test_starting_on_a_file_that_does_not_exist_creates_it_on_save(window, tmp_path):
    path = tmp_path / "fresh.topo.yaml"
    window.start(path)
    assert window.files.path == path and window.doc.topology.name == "fresh"
    assert not path.exists()
    drop_from_palette(window, NodeKind.SERVICE, (0, 0))
    window.editor_actions.save.trigger()
    assert "name: fresh" in path.read_text() and "service" in path.read_text()


def test_undoing_back_to_the_saved_state_drops_the_recovery_copy(window, opened):
    path = opened("12")
    drop_from_palette(window, NodeKind.SERVICE, (0, 300))
    assert window.files.autosave() is not None
    window.undo_action.trigger()
    assert not window.doc.is_modified()
    window.files.autosave()
    assert not window.files.recovery.file_for(path).exists()


def test_an_example_opens_as_an_untitled_copy_and_save_never_overwrites_it(window, answer, tmp_path):
    """Issue 16, defect 5: Ctrl+S on an edited example used to overwrite the shipped file."""
    example = next(p for p in EXAMPLES if p.name.startswith("12-"))
    shipped = example.read_bytes()
    assert window.open_file(example)
    assert window.files.path is None and "(example: an untitled copy)" in window.title_text()
    drop_from_palette(window, NodeKind.SERVICE, (0, 300))
    answer("ask_save_path", tmp_path / "mine.topo.yaml")
    window.editor_actions.save.trigger()  # Ctrl+S
    assert answer.names() == ["ask_save_path"], "Save must ask where, like any untitled document"
    assert answer.asked[0][1][1].endswith(example.name)  # it suggests the example's name elsewhere
    assert example.read_bytes() == shipped
    assert window.files.path == tmp_path / "mine.topo.yaml" and "service" in window.files.path.read_text()


def test_open_recent_tells_two_files_of_one_name_apart(window, tmp_path, example_copy):
    first = example_copy("05")
    other = tmp_path / "other"
    other.mkdir()
    second = other / first.name
    second.write_bytes(first.read_bytes())
    window.open_file(first)
    window.open_file(second)
    texts = [a.text() for a in window.recent_menu.actions() if a.text() and a.text() != "Clear list"]
    assert texts[:2] == [f"{first.name} — {other}", f"{first.name} — {tmp_path}"]

"""Copy, paste, duplicate and cut keep the links between the copied nodes and nothing else."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication

from labgui.editor.clipboard import CLEARANCE, FRAGMENT_MIME
from tests.gui.conftest import drag

pytestmark = pytest.mark.gui


def test_copy_paste_keeps_links_among_copied_nodes(window, opened):
    opened("09")  # catalogue -> rabbit -> search-index, recommendations
    drag(window, (-60, 40), (600, 150))  # rubber band: catalogue, rabbit, search-index
    assert window.scene.selected_nodes() == ["catalogue", "rabbit", "search-index"]
    window.editor_actions.copy.trigger()
    assert QGuiApplication.clipboard().mimeData().hasFormat(FRAGMENT_MIME)
    assert "catalogue" in QGuiApplication.clipboard().text()  # readable YAML for a text editor
    window.editor_actions.paste.trigger()
    topo = window.doc.topology
    assert [n.name for n in topo.nodes][-3:] == ["catalogue-2", "rabbit-2", "search-index-2"]
    assert [lk.key for lk in topo.links][-2:] == ["catalogue-2->rabbit-2", "rabbit-2->search-index-2"]
    assert topo.link("catalogue-2->rabbit-2").channel == "catalogue"  # settings travel with the copy
    dx = topo.node("rabbit-2").position[0] - topo.node("rabbit").position[0]
    assert dx > 0 and topo.node("rabbit-2").position[1] - topo.node("rabbit").position[1] == dx
    # issue 16: the paste lands clear of every node already there, not on top of the originals
    pasted = [topo.node(f"{n}-2").position for n in ("catalogue", "rabbit", "search-index")]
    others = [n.position for n in topo.nodes if not n.name.endswith("-2")]
    assert not any(abs(x - ox) < CLEARANCE and abs(y - oy) < CLEARANCE for x, y in pasted for ox, oy in others)
    assert window.scene.selected_nodes() == ["catalogue-2", "rabbit-2", "search-index-2"]
    window.editor_actions.paste.trigger()  # a second paste lands further away, with fresh names
    assert topo.node("rabbit-3").position[0] > topo.node("rabbit-2").position[0]
    assert window.doc.undo_stack.undoText() == "Paste 3 nodes"


def test_duplicate_copies_without_the_clipboard_and_frees_fixed_ports(window, opened, qtbot):
    opened("12")
    window.scene.select(["payments"])
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "payments"))
    window.inspector.editors["port"].widget.setValue(7001)
    QGuiApplication.clipboard().clear()
    window.editor_actions.duplicate.trigger()
    copy = window.doc.topology.node("payments-2")
    assert copy.port is None and copy.processing_ms == 1
    assert not window.clipboard.can_paste()
    assert window.doc.topology.links_to("payments-2") == []  # its feeder was not copied


def test_cut_removes_and_paste_brings_back_under_the_same_names(window, opened):
    opened("12")
    window.scene.select(["rabbit", "payments"])
    window.editor_actions.cut.trigger()
    assert [n.name for n in window.doc.topology.nodes] == ["checkout"]
    assert window.doc.topology.links == []
    window.editor_actions.paste.trigger()
    topo = window.doc.topology
    assert [n.name for n in topo.nodes] == ["checkout", "rabbit", "payments"]
    assert [lk.key for lk in topo.links] == ["rabbit->payments"]


def test_edit_actions_follow_the_selection_and_clipboard(window, opened):
    opened("12")
    window.scene.select([])
    assert not window.editor_actions.copy.isEnabled() and not window.editor_actions.delete.isEnabled()
    window.scene.select(["rabbit"])
    assert window.editor_actions.copy.isEnabled() and window.editor_actions.duplicate.isEnabled()
    window.editor_actions.copy.trigger()
    assert window.editor_actions.paste.isEnabled()

"""Random edits through the editor's own paths: the canvas always mirrors the document, validation
never fails, and undoing everything gives back the starting file byte for byte."""

from __future__ import annotations

import random

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from engines.topology import topofile
from engines.topology.vocabulary import NodeKind, Style, Transport
from labgui.document import commands
from tests.gui.test_undo import scene_matches_document

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edit_sequences_undo_to_the_start(window, opened, seed):
    opened("09")
    start = topofile.dumps(window.doc.topology)
    rng = random.Random(seed)
    doc, scene = window.doc, window.scene

    def names() -> list[str]:
        return [n.name for n in doc.topology.nodes]

    for _ in range(120):
        action = rng.choice(["add", "link", "change", "rename", "move", "delete", "paste", "undo", "redo",
                             "layout"])
        if action == "add":
            window.add_node(rng.choice(list(NodeKind)), QPointF(rng.randint(-300, 900), rng.randint(-300, 600)))
        elif action == "link" and len(names()) > 1:
            scene.connect_nodes(*rng.sample(names(), 2))
        elif action == "change" and doc.topology.clients():
            client = rng.choice(doc.topology.clients()).name
            field, value = rng.choice([("transport", rng.choice(list(Transport))),
                                       ("style", rng.choice(list(Style))), ("rate", rng.randint(0, 500))])
            commands.change_node(doc, client, field, value)
        elif action == "rename" and names():
            old = rng.choice(names())
            new = f"n{rng.randint(0, 30)}"
            if not doc.topology.has_node(new):
                commands.change_node(doc, old, "name", new)
        elif action == "move" and names():
            name = rng.choice(names())
            x, y = doc.topology.node(name).position
            commands.push(doc, commands.MoveNodesCommand(doc, {name: ((x, y), (x + 10, y - 20))}))
        elif action == "delete" and names():
            keys = [lk.key for lk in doc.topology.links]
            scene.select(rng.sample(names(), 1), rng.sample(keys, min(1, len(keys))))
            window.delete_selection()
        elif action == "paste" and names():
            scene.select(rng.sample(names(), min(2, len(names()))))
            window.clipboard.duplicate()
        elif action == "undo" and doc.undo_stack.canUndo():
            window.undo_action.trigger()
        elif action == "redo" and doc.undo_stack.canRedo():
            window.redo_action.trigger()
        elif action == "layout":
            window.auto_layout()
        doc.validate_now()
        QApplication.processEvents()
        if doc.topology.nodes:
            scene_matches_document(window)
        assert set(scene.links) == {lk.key for lk in doc.topology.links}

    while doc.undo_stack.canUndo():
        window.undo_action.trigger()
    assert topofile.dumps(doc.topology) == start
    scene_matches_document(window)

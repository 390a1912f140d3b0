"""Linking by keyboard: select two nodes (click, Ctrl+click, or Ctrl+A on a pair) and press Ctrl+K.

The direction is the one the rules allow (a client or broker sends; a service
does not originate), with the same quick fix as a drag (a client with no link
yet takes the transport that fits); when both directions are allowed, the
node selected first sends.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QKeySequence


def link_selection(scene: Any) -> bool:
    """Link the two selected nodes; the status bar says what happened or why not."""
    nodes = scene.selected_nodes()
    if len(nodes) != 2:
        scene.message.emit("Link by keyboard: select exactly two nodes, then press Ctrl+K")
        return False
    first, second = nodes
    for source, target in ((first, second), (second, first)):
        if scene.refusal(source, target) is None or scene.transport_fix(source, target) is not None:
            return bool(scene.connect_nodes(source, target))
    return bool(scene.connect_nodes(first, second))  # refused: says why


def install(window: Any) -> QAction:
    action = QAction("&Link the two selected nodes", window)
    action.setObjectName("linkSelection")
    action.setShortcut(QKeySequence("Ctrl+K"))
    action.setToolTip("Select two nodes, press Ctrl+K: they are linked in the direction messages can flow")
    action.triggered.connect(lambda: link_selection(window.scene))
    window.addAction(action)
    return action

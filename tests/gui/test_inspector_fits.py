"""The inspector's form fits its dock at the default window size (issue 16, checked under Xvfb:
a service's crash row made the form 18 px wider than the inspector, which cut every field's
right edge and the problem text)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from tests.conftest import EXAMPLES


def test_every_node_of_every_example_fits_the_inspector(window):
    too_wide = []
    for path in EXAMPLES:
        assert window.open_file(path)
        for node in window.doc.topology.nodes:
            window.scene.select([node.name])
            QApplication.processEvents()
            inspector = window.inspector
            need, room = inspector.widget().minimumSizeHint().width(), inspector.viewport().width()
            if need > room:
                too_wide.append((path.name[:2], node.name, need, room))
        window.doc.mark_saved()
    assert not too_wide

"""The PySide6 6.12 trap (shared/PERFORMANCE.md): emitting signals must not leak away `True`."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, Signal

pytestmark = pytest.mark.gui


class Emitter(QObject):
    flag = Signal(bool)
    name = Signal(str)


def test_thousands_of_emits_keep_the_refcount_of_true(qapp):
    emitter = Emitter()
    seen = []
    emitter.flag.connect(seen.append)
    emitter.name.connect(lambda _n: None)
    before = sys.getrefcount(True)
    for _ in range(5000):
        emitter.flag.emit(True)
        emitter.name.emit("node")
    seen.clear()
    assert sys.getrefcount(True) >= before - 5, "Signal.emit drops references to True: PySide6 6.12?"


def test_editor_signals_keep_the_refcount_of_true(qapp):
    from labgui.document.document import TopologyDocument

    doc = TopologyDocument()
    before = sys.getrefcount(True)
    for _ in range(3000):
        doc.modified_changed.emit(True)
        doc.node_moved.emit("x")
    assert sys.getrefcount(True) >= before - 5

"""Screenshots of the editor at 1280x800, written to test-output/ to be looked at.

With LAB_UPDATE_SCREENSHOTS=1 the README's picture (docs/images/editor.png) is
rewritten as well.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from engines.topology.vocabulary import Transport
from tests.conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.gui

OUT = ROOT / "test-output"
README_IMAGE = ROOT / "docs" / "images" / "editor.png"


def shoot(window, name: str) -> Path:
    QApplication.processEvents()
    OUT.mkdir(exist_ok=True)
    image = window.grab()
    assert (image.width(), image.height()) == (1280, 800)
    path = OUT / name
    assert image.save(str(path))
    return path


def test_screenshot_of_the_default_example(window, qtbot):
    example = next(p for p in EXAMPLES if p.name.startswith("12-"))
    window.open_file(example)
    window.scene.select(["checkout"])
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "checkout"))
    window.view.fit_to_view()
    path = shoot(window, "editor.png")
    if os.environ.get("LAB_UPDATE_SCREENSHOTS") == "1":
        README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        README_IMAGE.write_bytes(path.read_bytes())


def test_screenshot_of_problems_marked_on_the_canvas(window, qtbot):
    window.open_file(next(p for p in EXAMPLES if p.name.startswith("09-")))
    window.scene.select(["catalogue"])
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "catalogue"))
    combo = window.inspector.editors["transport"].widget
    combo.setCurrentIndex(combo.findData(Transport.HTTP))
    qtbot.waitUntil(lambda: len(window.problems.problems()) >= 2)
    window.problems.choose(0)
    shoot(window, "editor-problems.png")


def test_screenshot_of_an_empty_document(window):
    window.new_file()
    shoot(window, "editor-empty.png")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name.split("-")[0])
def test_screenshot_of_each_example(window, example):
    window.open_file(example)
    shoot(window, f"example-{example.name.removesuffix('.topo.yaml')}.png")

"""Autosave and recovery when the editor process itself is SIGKILLed mid-edit.

The editor runs offscreen in its own process (tests/hardening/drive_editor.py)
and keeps editing through the undo commands while its real autosave timer
writes recovery copies; it is killed at some moment of that. A new editor
(this test's, with pytest-qt) finds the copy, offers it, and gets back a
complete topology with the edits up to the last autosave at least.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engines.topology.drafts import load_draft
from labgui.app.mainwindow import MainWindow
from tests.conftest import ROOT

DRIVER = ROOT / "tests" / "hardening" / "drive_editor.py"


def _edit_then_die(target: str) -> tuple[str, int]:
    """Run the driver until it has autosaved, let it edit a little longer, SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    driver = subprocess.Popen([sys.executable, str(DRIVER), target], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = driver.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("autosaved "), driver.communicate(timeout=10)
        _, name, number = line.split()
        time.sleep(random.uniform(0.1, 0.8))  # mid-edit: edits every 50 ms, autosaves every 200 ms
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=10)
        return name, int(number)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait(timeout=10)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("untitled", [False, True], ids=["file", "untitled"])
def test_sigkilled_editor_mid_edit_is_recovered(untitled, example_copy, answer, qtbot, tmp_path: Path):
    path = None if untitled else example_copy("12")
    before = None if path is None else path.read_text()
    name, autosaved = _edit_then_die("new" if path is None else str(path))
    assert path is None or path.read_text() == before, "autosave never writes the user's file"
    answer("ask_recover", True)
    editor = MainWindow()
    try:
        editor.start(path)
        assert answer.names() == ["ask_recover"]
        topo = editor.doc.topology
        service = next(n for n in topo.nodes if n.name == name)
        assert service.processing_ms == 7.5
        assert topo.description.startswith("edit ") and int(topo.description[5:]) >= autosaved
        assert editor.doc.is_modified()
        target = path or tmp_path / "recovered.topo.yaml"
        assert editor.files.save() if path else editor.files.save_as(target)
        assert load_draft(target).topology.description == topo.description  # a draft: service unlinked
        assert editor.files.recovery.find(path) is None, "saving drops the recovery copy"
    finally:
        editor.doc.mark_saved()
        editor.close()

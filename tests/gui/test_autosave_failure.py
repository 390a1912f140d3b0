"""A failed autosave is said in the status bar (once), not swallowed; and so is its recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.topology.vocabulary import NodeKind
from tests.gui.conftest import drop_from_palette

pytestmark = pytest.mark.gui


def test_a_failed_autosave_is_said_once(window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the recovery folder should be")
    good_dir = window.files.recovery.dir
    window.files.recovery.dir = blocker / "recovery"  # a real failure: mkdir under a file
    try:
        said: list[str] = []
        window.files.message.connect(said.append)
        drop_from_palette(window, NodeKind.CLIENT, (0, 0))
        assert window.files.autosave() is None
        assert len(said) == 1 and said[0].startswith("Autosave failed") and "not protected" in said[0]
        assert "Autosave failed" in window.statusBar().currentMessage()
        drop_from_palette(window, NodeKind.SERVICE, (200, 0))
        assert window.files.autosave() is None
        assert len(said) == 1  # once per failing streak
        window.files.recovery.dir = good_dir
        drop_from_palette(window, NodeKind.SERVICE, (400, 0))
        assert window.files.autosave() is not None
        assert said[-1].startswith("Autosave works again")
    finally:
        window.files.recovery.dir = good_dir

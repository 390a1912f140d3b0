"""File > Open of a file that used to crash the loader shows its problem in a dialog."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hardening.test_loader_crashes import DEEP_FLOW, TIMESTAMP

pytestmark = pytest.mark.gui


@pytest.mark.parametrize(("text", "line"), [(DEEP_FLOW, 3), (TIMESTAMP, 2)], ids=["deep", "timestamp"])
def test_file_open_shows_the_problem(window, answer, tmp_path: Path, text: str, line: int) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.topo.yaml"
    bad.write_text(text, encoding="utf-8")
    answer("show_problems")
    assert not window.open_file(bad)
    (name, args), = answer.asked
    assert name == "show_problems" and args[3] and args[3][0].line == line

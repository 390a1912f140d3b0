"""Sharp edges of the CLI: reruns into the same --out, and what decides a run's length."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

QUICK = """version: 1
name: quick
nodes:
  - {name: c, kind: client, style: notification, transport: zmq, rate: 0, count: 50}
  - {name: s, kind: service}
links:
  - {from: c, to: s}
expectations:
  - lost == 0
"""


def _labgui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "labgui", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)


@pytest.mark.timeout(180)
def test_labgui_test_reruns_into_the_same_out_folder(tmp_path: Path) -> None:
    topo = tmp_path / "quick.topo.yaml"
    topo.write_text(QUICK, encoding="utf-8")
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file")
    for _ in range(2):
        result = _labgui("test", str(topo), "--out", str(out))
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    runs = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(runs) == 2 and all((p / "summary.json").is_file() for p in runs), runs
    assert (out / "notes.txt").read_text() == "the user's own file"


def test_run_help_says_what_decides_a_runs_length() -> None:
    text = " ".join(_labgui("run", "--help").stdout.split())
    assert "every client has finished" in text and "last scenario step" in text, text
    assert "duration_s" in text

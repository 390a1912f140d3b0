"""Inputs that crashed the loader: each now gets one located line, never a traceback.

A file nested ~1,000 levels deep (PyYAML's composer recurses), `!!timestamp`
on a non-date (PyYAML raises AttributeError), a FIFO (reading it blocks
forever) and /dev/zero (reading it never ends). `validate DIR` reports every
bad file and goes on to the next; the editor's File > Open shows the problem (tests/gui/test_open_bad_files.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engines.topology import topofile
from engines.topology.problems import TopologyError
from tests.conftest import ROOT

GOOD = """version: 1
name: good
nodes:
  - {name: c, kind: client, style: notification, transport: zmq, count: 10}
  - {name: s, kind: service}
links:
  - {from: c, to: s}
"""
DEEP_FLOW = "version: 1\nname: deep\nnodes: " + "[" * 1000 + "]" * 1000 + "\n"
DEEP_BLOCK = "version: 1\nname: deep\nnodes:\n" + "".join("  " * i + "- \n" for i in range(1000)) + "\n"
DEEP_DASHES = "version: 1\nname: deep\nnodes: \n  " + "- " * 1000 + "x\n"
TIMESTAMP = "version: 1\nname: !!timestamp not-a-date\nnodes: []\n"

CASES = {"deep-flow": (DEEP_FLOW, 3), "deep-block": (DEEP_BLOCK, None), "deep-dashes": (DEEP_DASHES, 4),
         "timestamp": (TIMESTAMP, 2)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_crashing_text_gets_one_located_problem(name: str) -> None:
    text, line = CASES[name]
    with pytest.raises(TopologyError) as info:
        topofile.loads(text, f"{name}.topo.yaml")
    (problem,) = info.value.problems
    rendered = str(problem)
    assert "\n" not in rendered and rendered.startswith(f"{name}.topo.yaml:"), rendered
    assert problem.line is not None
    if line is not None:
        assert problem.line == line, rendered


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "labgui", "validate", *map(str, paths)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.timeout(90)
def test_fifo_and_dev_zero_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.topo.yaml"
    os.mkfifo(fifo)
    result = _validate(fifo, Path("/dev/zero"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"{fifo}:") and "not a regular file" in lines[0], lines
    assert lines[1].startswith("/dev/zero:") and "not a regular file" in lines[1], lines
    assert lines[2] == "2 of 2 file(s) invalid"


@pytest.mark.timeout(90)
def test_validate_dir_goes_on_past_bad_files(tmp_path: Path) -> None:
    for name, (text, _) in CASES.items():
        (tmp_path / f"{name}.topo.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "zz-good.topo.yaml").write_text(GOOD, encoding="utf-8")
    result = _validate(tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert f"{tmp_path / 'zz-good.topo.yaml'}: ok" in result.stdout
    problems = [line for line in result.stderr.splitlines() if line.startswith(str(tmp_path))]
    assert len(problems) == len(CASES), result.stderr
    assert result.stderr.strip().endswith(f"{len(CASES)} of {len(CASES) + 1} file(s) invalid")

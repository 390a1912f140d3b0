"""Topology files as tests: `labgui test` and the pytest plugin report each expectation's value."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from engines.cli import main as cli_main
from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(120)

QUICK = textwrap.dedent("""\
    version: 1
    name: quick
    nodes:
      - {name: feed, kind: client, style: notification, transport: zmq, rate: 0, count: 500}
      - {name: sink, kind: service}
    links:
      - {from: feed, to: sink}
    expectations:
      - lost == 0
      - sink.processed == {processed}
    """)


def _write(tmp_path, processed: int):
    path = tmp_path / f"quick-{processed}.topo.yaml"
    path.write_text(QUICK.replace("{processed}", str(processed)))
    return path


def test_labgui_test_passes_and_fails_with_measured_values(tmp_path, capsys):
    good, bad = _write(tmp_path, 500), _write(tmp_path, 499)
    junit = tmp_path / "junit.xml"
    code = cli_main(["test", str(good), str(bad), "--out", str(tmp_path / "runs"),
                     "--junitxml", str(junit)])
    out = capsys.readouterr().out
    assert code == 1
    assert "PASS  sink.processed == 500  (measured 500)" in out
    assert "FAIL  sink.processed == 499  (measured 500)" in out
    assert "1 passed, 1 failed" in out
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    failure = suite.find("testcase[@name='quick-499.topo.yaml']/failure")
    assert failure is not None and "measured 500" in failure.get("message", "")
    assert (tmp_path / "runs" / "quick-500" / "report.html").exists()


def test_an_invalid_file_is_an_error_not_a_crash(tmp_path, capsys):
    path = tmp_path / "broken.topo.yaml"
    path.write_text("version: 1\nname: broken\nnodes:\n  - {name: a, kind: client, rate: -1}\n")
    assert cli_main(["test", str(path)]) == 1
    out = capsys.readouterr().out
    assert "ERROR  invalid topology" in out and "field 'rate'" in out


def _pytest(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:topology_lab", "-p", "engines.testing.pytest_plugin",
         "-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path), *args],
        capture_output=True, text=True, timeout=110, env=env, cwd=tmp_path)


def test_pytest_collects_topology_files_and_fails_with_the_table(tmp_path):
    good, bad = _write(tmp_path, 500), _write(tmp_path, 499)
    proc = _pytest(tmp_path, "--basetemp", str(tmp_path / "bt"), str(good), str(bad))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed, 1 passed" in proc.stdout
    assert "quick-499.topo.yaml: expectations not met" in proc.stdout
    assert "FAIL  sink.processed == 499  (measured 500)" in proc.stdout
    # by default only the failed run has a report, and the failure says where it is
    reported = re.search(r"report: (\S+report\.html)", proc.stdout)
    assert reported and Path(reported.group(1)).is_file() and "quick-499" in reported.group(1)
    assert [p.parent.name for p in (tmp_path / "bt").rglob("report.html")] == ["quick-499"]
    assert len(list((tmp_path / "bt").rglob("summary.json"))) == 2  # both ran


def test_pytest_lab_reports_all_keeps_a_passing_runs_report(tmp_path):
    good = _write(tmp_path, 500)
    proc = _pytest(tmp_path, "--basetemp", str(tmp_path / "bt"), "--lab-reports", "all", str(good))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [p.parent.name for p in (tmp_path / "bt").rglob("report.html")] == ["quick-500"]
    wrong = _pytest(tmp_path, "--lab-reports", "some", str(good))
    assert wrong.returncode == 4 and "invalid choice: 'some'" in wrong.stderr

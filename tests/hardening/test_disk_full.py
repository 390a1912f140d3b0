"""The disk fills up mid-run: "disk full" said once, the run stops in order, nothing truncated.

The run directory is on a 2 MiB tmpfs of its own (mounting needs root: the
test is skipped elsewhere). Once the clients run, the test fills the
filesystem to the last byte. `labgui run` must then say "disk full" once, stop
the run in order (no traceback of its own), print the summary, and leave
either no summary.json or a whole one; what it wrote before stays.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

TOPOLOGY = """
version: 1
name: disk-full
nodes:
  - {name: events, kind: client, style: notification, transport: zmq, rate: 200, count: 100000}
  - {name: worker, kind: service}
links:
  - {from: events, to: worker}
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(mount: Path) -> Path:
    filler = mount / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass
        try:
            while True:
                handle.write(b"\0")
        except OSError:
            pass
    return filler


@pytest.mark.timeout(120)
def test_disk_full_mid_run_is_said_once_and_nothing_is_truncated(small_disk: Path, tmp_path: Path) -> None:
    topo = tmp_path / "disk-full.topo.yaml"
    topo.write_text(TOPOLOGY, encoding="utf-8")
    run_dir = small_disk / "run"
    runner = subprocess.Popen([sys.executable, "-m", "labgui", "run", str(topo), "--out", str(run_dir),
                               "--duration", "30"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            events = run_dir / "events.jsonl"
            if events.exists() and "run-started" in events.read_text(encoding="utf-8"):
                break
            assert runner.poll() is None, runner.communicate()
            time.sleep(0.05)
        time.sleep(1.0)  # mid-run
        filler = _fill(small_disk)
        out, err = runner.communicate(timeout=90)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.communicate()
    said = (out + err).lower().count("disk full")
    assert said == 1, f"'disk full' said {said} times:\n{err[-3000:]}"
    assert "Traceback" not in err, err[-3000:]
    assert runner.returncode == 1, err[-3000:]
    assert "events" in out and "worker" in out  # the summary table was printed
    summary = run_dir / "summary.json"
    if summary.exists():
        assert json.loads(summary.read_text(encoding="utf-8"))["topology"] == "disk-full"
    assert not list(run_dir.glob(".summary.json*")), "a temporary summary was left"
    filler.unlink()
    assert (run_dir / "events.jsonl").stat().st_size > 0  # what was written is kept
    assert "run-started" in (run_dir / "events.jsonl").read_text(encoding="utf-8")

"""Saving is atomic: a process SIGKILLed at any moment of a save leaves the old file or the new one.

A child process saves two big topologies (about 1 MB of YAML each) in turn,
as fast as it can, with the lab's writer (`engines.topology.topofile.write_atomic`,
what `save` and the editor's autosave use); the test kills it at random
moments and reads the file each time. The same harness with a naive writer
(open, write) finds broken files, which shows the check can fail.
"""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engines.topology import topofile
from engines.topology.model import ClientNode, ServiceNode, Topology
from tests.conftest import ROOT

CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from engines.topology.topofile import write_atomic
    target, naive = Path(sys.argv[1]), sys.argv[4] == "naive"
    texts = [Path(sys.argv[2]).read_text(), Path(sys.argv[3]).read_text()]
    print("saving", flush=True)
    i = 0
    while True:
        if naive:
            target.write_text(texts[i % 2])
        else:
            write_atomic(target, texts[i % 2])
        i += 1
""")


def _big(version: int) -> str:
    nodes: list[ClientNode | ServiceNode] = []
    links = []
    for i in range(100):
        nodes += [ClientNode(name=f"c{i}", rate=version * 10), ServiceNode(name=f"s{i}")]
        links.append({"from": f"c{i}", "to": f"s{i}"})
    description = "\n".join(f"version {version}, line {i} of a long description" for i in range(20000))
    return topofile.dumps(Topology(name=f"big-v{version}", nodes=nodes, links=links,
                                   description=description))


@pytest.fixture(scope="module")
def texts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, set[str]]:
    folder = tmp_path_factory.mktemp("texts")
    a, b = folder / "a.txt", folder / "b.txt"
    a.write_text(_big(1))
    b.write_text(_big(2))
    return a, b, {a.read_text(), b.read_text()}


def _kill_while_saving(target: Path, a: Path, b: Path, writer: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(target), str(a), str(b), writer],
                             env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "saving\n"  # type: ignore[union-attr]
        time.sleep(random.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
    return target.read_text(encoding="utf-8", errors="replace")


@pytest.mark.timeout(120)
def test_a_save_killed_at_any_moment_leaves_the_old_or_the_new_file(tmp_path: Path, texts) -> None:
    a, b, whole = texts
    target = tmp_path / "big.topo.yaml"
    target.write_text(a.read_text())
    for attempt in range(12):
        found = _kill_while_saving(target, a, b, "atomic")
        assert found in whole, f"kill {attempt}: a broken file of {len(found)} characters"
    assert topofile.load(target).topology.name in ("big-v1", "big-v2")
    interrupted = list(tmp_path.glob(".big.topo.yaml.*.tmp"))  # what a kill inside a save leaves
    assert interrupted, "no kill landed inside a save: the test proved nothing"


@pytest.mark.timeout(120)
def test_the_same_harness_catches_a_naive_writer(tmp_path: Path, texts) -> None:
    a, b, whole = texts
    target = tmp_path / "big.topo.yaml"
    target.write_text(a.read_text())
    broken = 0
    for _ in range(30):
        broken += _kill_while_saving(target, a, b, "naive") not in whole
        if broken:
            break
    assert broken, "30 kills of a naive writer never left a broken file: the harness proves nothing"


def test_save_keeps_the_files_permissions_and_uses_the_atomic_writer(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "shared.topo.yaml"
    topology = Topology(name="small", nodes=[ClientNode(name="c"), ServiceNode(name="s")],
                        links=[{"from": "c", "to": "s"}])
    topofile.save(topology, target)
    os.chmod(target, 0o640)
    topofile.save(topology, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    calls: list[Path] = []
    monkeypatch.setattr(topofile, "write_atomic", lambda path, text: calls.append(path))
    topofile.save(topology, target)
    assert calls == [target]

"""Saving keeps what the user made of the file: symlinks, hard links, owner, mode, a read-only folder.

`write_atomic` (Save, Save As, the CLI's writes) writes a temporary file and
renames it over the target. Done naively that replaced a symlink by a plain
file (the real file kept the old text), broke hard links, gave the file to
the saver, and could not save a writable file in a folder the saver cannot
write. It now follows the link, keeps owner and mode, and where a rename
would lose something (a hard link, an owner it cannot give back, a folder it
cannot write) writes in place after a backup copy, removed once the new text
is safely down.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from engines.topology.topofile import write_atomic
from tests.conftest import ROOT

OLD, NEW = "version: 1\nname: old\n", "version: 1\nname: new\n"


def test_saving_through_a_symlink_writes_the_real_file(tmp_path: Path) -> None:
    real = tmp_path / "real" / "t.topo.yaml"
    real.parent.mkdir()
    real.write_text(OLD)
    link = tmp_path / "link.topo.yaml"
    link.symlink_to(real)
    write_atomic(link, NEW)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == NEW and link.read_text() == NEW
    assert sorted(p.name for p in real.parent.iterdir()) == ["t.topo.yaml"]  # no temporary left


def test_saving_a_hard_linked_file_keeps_the_link(tmp_path: Path) -> None:
    first = tmp_path / "a.topo.yaml"
    first.write_text(OLD)
    second = tmp_path / "b.topo.yaml"
    os.link(first, second)
    write_atomic(first, NEW)
    assert second.read_text() == NEW
    assert first.stat().st_ino == second.stat().st_ino and first.stat().st_nlink == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.topo.yaml", "b.topo.yaml"]


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_owner_and_mode_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "t.topo.yaml"
    path.write_text(OLD)
    os.chown(path, 12345, 23456)
    os.chmod(path, 0o640)
    write_atomic(path, NEW)
    info = path.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (12345, 23456, 0o640)
    assert path.read_text() == NEW


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder another user can reach (pytest's own are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="lab-save-"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        for child in path.rglob("*"):
            child.chmod(0o700) if child.is_dir() else None
        subprocess.run(["rm", "-rf", str(path)], check=False)


def _save_as(uid: int, path: Path, text: str) -> subprocess.CompletedProcess[str]:
    code = ("import os, sys\nfrom pathlib import Path\nfrom engines.topology.topofile import write_atomic\n"
            "import contextlib, platformdirs, tempfile\n"  # before losing root
            "uid = int(sys.argv[3])\nos.setgroups([])\nos.setgid(uid)\nos.setuid(uid)\n"
            "write_atomic(Path(sys.argv[1]), sys.argv[2])\n")
    return subprocess.run([sys.executable, "-c", code, str(path), text, str(uid)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "HOME": "/nonexistent",
                               "LAB_STATE_DIR": ""}, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(os.geteuid() != 0, reason="acting as another user needs root")
def test_a_writable_file_in_a_read_only_folder_is_saved_in_place(shared_dir: Path) -> None:
    nobody = 65534
    folder = shared_dir / "ro"
    folder.mkdir()
    path = folder / "t.topo.yaml"
    path.write_text(OLD)
    os.chown(path, nobody, nobody)
    os.chmod(path, 0o644)
    os.chmod(folder, 0o755)  # root's folder: nobody may write the file, not the folder
    result = _save_as(nobody, path, NEW)
    assert result.returncode == 0, result.stderr[-2000:]
    assert path.read_text() == NEW
    info = path.stat()
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (nobody, 0o644)
    assert sorted(p.name for p in folder.iterdir()) == ["t.topo.yaml"]


@pytest.mark.skipif(os.geteuid() != 0, reason="acting as another user needs root")
def test_a_file_of_another_owner_stays_theirs_when_the_saver_may_write_it(shared_dir: Path) -> None:
    nobody = 65534
    path = shared_dir / "t.topo.yaml"  # root's folder and file, group-writable for nobody's group
    path.write_text(OLD)
    os.chown(path, 0, nobody)
    os.chmod(path, 0o664)
    os.chmod(shared_dir, 0o777)  # nobody could rename over it, but would then own it
    result = _save_as(nobody, path, NEW)
    assert result.returncode == 0, result.stderr[-2000:]
    info = path.stat()
    assert path.read_text() == NEW and (info.st_uid, info.st_gid) == (0, nobody)
    assert stat.S_IMODE(info.st_mode) == 0o664

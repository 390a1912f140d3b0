"""Writing a file the way an editor must: atomic where it can be, and never losing what the user set up.

A rename over the target is atomic (a crash leaves the old or the new file),
but a rename replaces the directory entry: done blindly it turns a symlink
into a plain file (the real file keeps the old text), breaks a hard link,
gives the file to whoever saved it, and fails in a folder the saver cannot
write even when the file itself is writable. So: follow the symlink and write
its target; copy mode, owner and group onto the temporary file; and where a
rename would lose something (a hard-linked file, an owner the saver cannot
give back, a folder it cannot write) write in place instead, after a backup
copy that is removed once the new text is on disk (a crash in between leaves
the backup beside the file, or in the user's state folder).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

import platformdirs


def _umask() -> int:
    """The process umask, read without changing it (os.umask would race other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # a folder we cannot open still got the rename
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class _InPlace(Exception):
    """A rename would lose something: write in place."""


def write_atomic(path: Path, text: str) -> None:
    """Replace the text of `path` (through symlinks) keeping its links, owner and mode."""
    path = Path(os.path.realpath(path))
    data = text.encode("utf-8")
    try:
        info: os.stat_result | None = path.stat()
    except FileNotFoundError:
        info = None
    if info is not None and info.st_nlink > 1:
        _write_in_place(path, data)  # a rename would leave the other names on the old text
        return
    try:
        _write_renamed(path, data, info)
    except _InPlace:
        _write_in_place(path, data)


def _write_renamed(path: Path, data: bytes, info: os.stat_result | None) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except PermissionError:
        if info is None:
            raise
        raise _InPlace from None  # a writable file in a folder we cannot write
    try:
        os.fchmod(fd, stat.S_IMODE(info.st_mode) if info else 0o666 & ~_umask())
        if info is not None:
            mine = os.fstat(fd)
            if (mine.st_uid, mine.st_gid) != (info.st_uid, info.st_gid):
                try:
                    os.fchown(fd, info.st_uid, info.st_gid)
                except PermissionError:
                    raise _InPlace from None  # renaming would give the file to us
                os.fchmod(fd, stat.S_IMODE(info.st_mode))  # chown may clear set-id bits
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _backup_places(path: Path) -> list[Path]:
    state = os.environ.get("LAB_STATE_DIR") or platformdirs.user_state_dir("topology-lab")
    return [path.parent, Path(state) / "backups", Path(tempfile.gettempdir())]


def _backup(path: Path) -> Path:
    """A private copy of the current text, in the first place that takes it."""
    old = path.read_bytes()
    last: OSError | None = None
    for folder in _backup_places(path):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".bak", dir=folder)
        except OSError as exc:
            last = exc
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(old)
            handle.flush()
            os.fsync(handle.fileno())
        return Path(name)
    raise last or OSError(f"no place for a backup of {path}")


def _write_in_place(path: Path, data: bytes) -> None:
    backup = _backup(path)
    with open(path, "r+b") as handle:
        handle.write(data)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())
    backup.unlink(missing_ok=True)

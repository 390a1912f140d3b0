"""Where the editor keeps its own state: recent files and crash-recovery copies (no Qt).

Everything lives in one user state directory (platformdirs), or in
`$LAB_STATE_DIR` when set, which is how tests keep to a temporary folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import platformdirs

from engines.topology.topofile import write_atomic

RECENT_MAX = 10


def state_dir() -> Path:
    path = Path(os.environ.get("LAB_STATE_DIR") or platformdirs.user_state_dir("topology-lab"))
    path.mkdir(parents=True, exist_ok=True)
    return path


class RecentFiles:
    """Most recently opened or saved files first, at most RECENT_MAX, missing ones dropped."""

    def __init__(self, directory: Path | None = None) -> None:
        self.file = (directory or state_dir()) / "recent.json"

    def paths(self) -> list[Path]:
        try:
            items = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [Path(p) for p in items if isinstance(p, str) and Path(p).is_file()]

    def add(self, path: Path) -> None:
        path = Path(path).resolve()
        items = [p for p in self.paths() if p != path]
        items.insert(0, path)
        try:
            write_atomic(self.file, json.dumps([str(p) for p in items[:RECENT_MAX]], indent=1))
        except OSError:
            pass  # a read-only state dir costs the list, not the edit

    def clear(self) -> None:
        self.file.unlink(missing_ok=True)


@dataclass(frozen=True)
class Recovery:
    """An autosaved copy of unsaved changes to `original` (None: an untitled document)."""

    file: Path
    original: Path | None

    @property
    def saved_at(self) -> datetime:
        return datetime.fromtimestamp(self.file.stat().st_mtime)

    def text(self) -> str:
        return self.file.read_text(encoding="utf-8")


class RecoveryStore:
    """One recovery file per document, written by autosave, deleted when changes are saved or dropped."""

    def __init__(self, directory: Path | None = None) -> None:
        self.dir = (directory or state_dir()) / "recovery"

    def file_for(self, original: Path | None) -> Path:
        if original is None:
            return self.dir / "untitled.topo.yaml"
        resolved = str(Path(original).resolve())
        digest = hashlib.sha1(resolved.encode()).hexdigest()[:10]
        return self.dir / f"{digest}-{Path(original).name}"

    def write(self, original: Path | None, text: str) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        target = self.file_for(original)
        write_atomic(target, text)
        return target

    def find(self, original: Path | None) -> Recovery | None:
        """The recovery for `original` if it is newer than the file itself."""
        target = self.file_for(original)
        if not target.is_file():
            return None
        if original is not None and Path(original).is_file() and \
                Path(original).stat().st_mtime >= target.stat().st_mtime:
            return None
        return Recovery(target, Path(original) if original is not None else None)

    def discard(self, original: Path | None) -> None:
        self.file_for(original).unlink(missing_ok=True)

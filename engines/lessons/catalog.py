"""Where the shipped lessons live (`lessons/` at the project root) and their order (by file name)."""

from __future__ import annotations

from pathlib import Path

LESSONS_DIR = Path(__file__).resolve().parents[2] / "lessons"


def lessons() -> list[Path]:
    return sorted(LESSONS_DIR.glob("*.lesson.yaml"))


def in_lessons_dir(path: Path) -> bool:
    """A file shipped with the lessons (a lesson or one of its own topologies)."""
    try:
        return LESSONS_DIR.resolve() in path.resolve().parents
    except OSError:
        return False

"""The per-file memo behind the welcome view and Lessons menu: fresh when the file changes."""

from __future__ import annotations

import os
from pathlib import Path

from engines.topology.filememo import per_file


def test_read_once_while_unchanged_and_again_after_an_edit(tmp_path: Path) -> None:
    reads: list[str] = []

    @per_file
    def first_line(path: Path) -> str:
        text = path.read_text(encoding="utf-8")
        reads.append(text)
        return text.splitlines()[0]

    lesson = tmp_path / "01-x.lesson.yaml"
    lesson.write_text("title: one\n", encoding="utf-8")
    assert first_line(lesson) == first_line(lesson) == "title: one"
    assert len(reads) == 1
    lesson.write_text("title: two, longer\n", encoding="utf-8")  # another size
    assert first_line(lesson) == "title: two, longer"
    lesson.write_text("title: 2, longer!\n", encoding="utf-8")  # same size, later time
    os.utime(lesson, ns=(lesson.stat().st_atime_ns, lesson.stat().st_mtime_ns + 10_000_000))
    assert first_line(lesson) == "title: 2, longer!"
    assert len(reads) == 3


def test_a_missing_file_is_asked_every_time(tmp_path: Path) -> None:
    calls: list[Path] = []

    @per_file
    def describe(path: Path) -> str:
        calls.append(path)
        return "missing" if not path.exists() else path.read_text(encoding="utf-8")

    gone = tmp_path / "gone.topo.yaml"
    assert describe(gone) == describe(gone) == "missing"
    gone.write_text("now here", encoding="utf-8")
    assert describe(gone) == "now here"
    assert len(calls) == 3

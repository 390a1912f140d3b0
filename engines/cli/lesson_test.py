"""The lesson half of `labgui test`: lesson files (or folders of them) run variant by variant.

A path that is a `*.lesson.yaml`, or a folder holding lessons, is taken here;
the topologies such a folder ships for its lessons run through the lessons'
variants, not on their own.
"""

from __future__ import annotations

import threading
from pathlib import Path

from engines.lessons.loader import SUFFIX, find_lessons, load
from engines.lessons.runner import run_lesson
from engines.testing.runner import TopologyResult
from engines.topology.problems import TopologyError


def split(paths: list[str]) -> tuple[list[str], list[str]]:
    """(lesson paths, the other paths)."""
    lessons: list[str] = []
    others: list[str] = []
    for item in paths:
        p = Path(item)
        is_lesson = p.name.endswith(SUFFIX) or (p.is_dir() and any(p.rglob(f"*{SUFFIX}")))
        (lessons if is_lesson else others).append(item)
    return lessons, others


def run(paths: list[str], out: Path | None, k: str | None, stop: threading.Event) -> list[TopologyResult]:
    """Run every lesson's variants, printing each variant's checks and the ledger's answers."""
    results: list[TopologyResult] = []
    for path in find_lessons(paths):
        if k and k not in path.name:
            continue
        print(f"== {path}", flush=True)
        try:
            loaded = load(path)
        except TopologyError as exc:
            print(f"ERROR  the lesson does not load:\n{exc}")
            results.append(TopologyResult(path, path.name, error=str(exc)))
            continue

        def show(done: object) -> None:
            from engines.lessons.runner import VariantResult

            assert isinstance(done, VariantResult)
            r = done.result
            verdict = "PASS" if r.passed else ("ERROR" if r.error else "FAIL")
            print(f"-- variant {done.name}\n{done.table()}\n-> {verdict} in {r.seconds:.1f} s", flush=True)

        for done in run_lesson(loaded, out, should_stop=stop.is_set, on_result=show):
            results.append(done.result)
    return results

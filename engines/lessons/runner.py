"""Run a lesson's variants headless and judge each one's checks: `labgui test` and the pytest plugin.

Each variant runs as real processes through the same Supervisor as a topology
file, one after the other; the questions are answered from each run's ledger
so a terminal shows what the GUI would show a learner.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engines.lessons import judge
from engines.lessons.loader import LoadedLesson
from engines.testing.runner import TopologyResult, run_topology


@dataclass
class VariantResult:
    name: str
    result: TopologyResult
    answers: list[judge.LedgerAnswer] = field(default_factory=list)

    def table(self) -> str:
        lines = [self.result.table()]
        lines += [f"  ?  {a.question.ask}  -> {a.text()}" for a in self.answers]
        return "\n".join(lines)


def run_variant(loaded: LoadedLesson, name: str, out_root: Path | None,
                should_stop: Callable[[], bool] | None = None) -> VariantResult:
    """Run one variant to its end; never raises for a failed run (the result says why)."""
    topology = loaded.variants[name]
    result = TopologyResult(loaded.file, f"{loaded.name}/{name}")
    if not run_topology(topology, result, f"{loaded.name}-{name}", out_root, time.monotonic(),
                        should_stop=should_stop):
        return VariantResult(name, result)
    summary = result.summary or {}
    questions = [q for s in loaded.lesson.steps if s.variant == name for q in s.questions]
    return VariantResult(name, result, [judge.answer(q, summary) for q in questions])


def run_lesson(loaded: LoadedLesson, out_root: Path | None = None,
               should_stop: Callable[[], bool] | None = None,
               on_result: Callable[[VariantResult], None] | None = None) -> list[VariantResult]:
    """Every variant of the lesson, in the order the file defines them."""
    results = []
    for name in loaded.lesson.variants:
        if should_stop is not None and should_stop():
            break
        done = run_variant(loaded, name, out_root, should_stop)
        results.append(done)
        if on_result is not None:
            on_result(done)
    return results

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
from engines.testing.runner import TopologyResult
from engines.topology.expectations import evaluate_all


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
    from engines.runtime import RunError, Supervisor, new_run_dir
    from engines.runtime.rundir import fresh_dir

    topology = loaded.variants[name]
    started = time.monotonic()
    result = TopologyResult(loaded.file, f"{loaded.name}/{name}")
    try:
        stem = f"{loaded.name}-{name}"
        result.run_dir = new_run_dir(topology.name) if out_root is None else fresh_dir(out_root, stem)
    except (FileExistsError, OSError) as exc:
        result.error = f"cannot make the run directory: {exc}"
        return VariantResult(name, result)
    supervisor = Supervisor(topology, result.run_dir)
    try:
        summary = supervisor.run(should_stop=should_stop)
    except RunError as exc:
        result.error = str(exc)
        return VariantResult(name, result)
    finally:
        supervisor.close()
        result.seconds = time.monotonic() - started
    result.summary = summary
    scoped = {**summary.get("nodes", {}), **summary.get("links", {})}
    result.verdicts = evaluate_all(topology.expectations, summary.get("total", {}), scoped)
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

"""Run a topology file as a test: start it, let it finish, judge its expectations, write its report.

Shared by `labgui test` and the pytest plugin, so a verdict is the same in a
terminal, in CI and under pytest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engines.topology import topofile
from engines.topology.expectations import Verdict, evaluate_all
from engines.topology.model import Topology
from engines.topology.problems import TopologyError


@dataclass
class TopologyResult:
    path: Path
    name: str
    verdicts: list[Verdict] = field(default_factory=list)
    run_dir: Path | None = None
    report: Path | None = None
    error: str | None = None  # the run could not happen (bad file, no RabbitMQ, start failure)
    seconds: float = 0.0
    summary: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(v.passed for v in self.verdicts)

    def table(self) -> str:
        """Each expectation with its measured value and verdict, one per line."""
        if self.error:
            return f"ERROR  {self.error}"
        if not self.verdicts:
            return "(no expectations)"
        return "\n".join(str(v) for v in self.verdicts)


def run_topology(topology: Topology, result: TopologyResult, stem: str, out_root: Path | None,
                 started: float, duration: float | None = None,
                 should_stop: Callable[[], bool] | None = None) -> bool:
    """Run `topology` to its end in a fresh run directory (OUT/<stem>, then <stem>-1... on
    reruns) and judge its expectations into `result`. False, with `result.error` saying why,
    when the run could not happen; never raises (a file's run and a lesson variant's alike)."""
    from engines.runtime import RunError, Supervisor, new_run_dir
    from engines.runtime.rundir import fresh_dir

    try:
        result.run_dir = new_run_dir(topology.name) if out_root is None else fresh_dir(out_root, stem)
    except (FileExistsError, OSError) as exc:
        result.error = f"cannot make the run directory: {exc}"
        return False
    supervisor = Supervisor(topology, result.run_dir)
    try:
        summary = supervisor.run(duration=duration, should_stop=should_stop)
    except RunError as exc:
        result.error = str(exc)
        return False
    finally:
        supervisor.close()
        result.seconds = time.monotonic() - started
    result.summary = summary
    scoped = {**summary.get("nodes", {}), **summary.get("links", {})}
    result.verdicts = evaluate_all(topology.expectations, summary.get("total", {}), scoped)
    return True


def run_file(path: Path, out_root: Path | None = None, duration: float | None = None,
             should_stop: Callable[[], bool] | None = None, report: bool = True) -> TopologyResult:
    """Run one topology file to its end and judge it. Never raises for a bad file or run."""
    path = Path(path)
    started = time.monotonic()
    try:
        topology = topofile.load(path).topology
    except TopologyError as exc:
        return TopologyResult(path, path.name, error="invalid topology:\n" + str(exc))
    result = TopologyResult(path, topology.name)

    if not run_topology(topology, result, path.name.removesuffix(".topo.yaml"), out_root, started,
                        duration, should_stop):
        return result
    if report:
        write_report(result)
    return result


def write_report(result: TopologyResult) -> None:
    """Build the HTML report of a finished run into its run directory (the verdict stands if it cannot)."""
    if result.run_dir is None:
        return
    from engines.report.build import ReportError, build_report

    try:
        result.report = build_report(result.run_dir)
    except ReportError as exc:  # the verdict stands; say why there is no page
        result.error = None
        result.report = None
        print(f"report not written: {exc}")

"""pytest plugin: each `*.topo.yaml` file is a test item, so `pytest topologies/` works.

Registered through the `pytest11` entry point. An item runs its topology as
real processes (engines.testing.runner) and fails with the table of
expectations and their measured values. Its HTML report is written when it
fails (`--lab-reports`: `failed`, the default; `all`; `none`), as browser test
runners keep traces and videos: a report costs about a CPU-second of plotting,
and a passing run's is seldom read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engines.lessons.catalog import in_lessons_dir
from engines.testing.runner import TopologyResult, run_file, write_report

REPORT_CHOICES = ("failed", "all", "none")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("topology lab").addoption(
        "--lab-reports", choices=REPORT_CHOICES, default="failed",
        help="which topology runs get an HTML report in their run directory: "
             "failed (default), all, or none")


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.name.endswith(".lesson.yaml"):  # each variant of a lesson (engines.testing.lesson_items)
        from engines.testing.lesson_items import LessonFile

        return LessonFile.from_parent(parent, path=file_path)
    if file_path.name.endswith(".topo.yaml") and not in_lessons_dir(file_path):  # a lesson's runs them
        return TopologyFile.from_parent(parent, path=file_path)
    return None


class TopologyFile(pytest.File):
    def collect(self) -> Any:
        item = TopologyItem.from_parent(self, name=self.path.name.removesuffix(".topo.yaml"))
        item.add_marker(pytest.mark.timeout(item_timeout_s(self.path)))
        yield item


def item_timeout_s(path: Path) -> float:
    """pytest-timeout's limit for one topology: its duration three times over, plus two
    minutes for brokers to boot and stop (a cluster's members boot one after the other)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        duration = float(data.get("duration_s") or 60) if isinstance(data, dict) else 60.0
    except (OSError, ValueError, TypeError, yaml.YAMLError):
        duration = 60.0
    return max(120.0, 3 * duration + 120)


class TopologyFailed(Exception):
    def __init__(self, result: TopologyResult):
        super().__init__(result.table())
        self.result = result


class TopologyItem(pytest.Item):
    def runtest(self) -> None:
        out_root = Path(self.config._tmp_path_factory.mktemp("topology-runs"))  # type: ignore[attr-defined]
        reports = self.config.getoption("lab_reports", "failed")
        result = run_file(self.path, out_root, report=reports == "all")
        if reports == "failed" and not result.passed:
            write_report(result)
        self.user_properties.append(("run_dir", str(result.run_dir)))
        if result.report:
            self.user_properties.append(("report", str(result.report)))
        if not result.passed:
            raise TopologyFailed(result)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, TopologyFailed):
            result = excinfo.value.result
            where = f"\nrun directory: {result.run_dir}" if result.run_dir else ""
            report = f"\nreport: {result.report}" if result.report else ""
            return f"{self.path.name}: expectations not met\n{result.table()}{where}{report}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"topology: {self.name}"

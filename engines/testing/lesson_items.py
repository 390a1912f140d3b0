"""pytest items for lesson files: each variant of a `*.lesson.yaml` runs and its checks are judged.

A lesson that does not load is one failing item with the loader's problems
(file and line). The topologies a lesson ships beside itself in `lessons/`
run through their lesson's variants, not on their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engines.lessons.loader import SUFFIX, LoadedLesson, load
from engines.lessons.runner import VariantResult, run_variant
from engines.topology.problems import TopologyError


class LessonFile(pytest.File):
    def collect(self) -> Any:
        try:
            loaded = load(self.path)
        except TopologyError as exc:
            yield BrokenLesson.from_parent(self, name=self.path.name.removesuffix(SUFFIX), problems=str(exc))
            return
        for name, topology in loaded.variants.items():
            item = LessonVariant.from_parent(self, name=name, loaded=loaded)
            duration = float(topology.duration_s or 30)
            item.add_marker(pytest.mark.timeout(max(120.0, 3 * duration + 120)))
            yield item


class BrokenLesson(pytest.Item):
    def __init__(self, *, problems: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problems = problems

    def runtest(self) -> None:
        raise LessonFailed(f"{self.path.name} does not load:\n{self.problems}")

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        return str(excinfo.value)


class LessonFailed(Exception):
    pass


class LessonVariant(pytest.Item):
    def __init__(self, *, loaded: LoadedLesson, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaded = loaded

    def runtest(self) -> None:
        out_root = Path(self.config._tmp_path_factory.mktemp("lesson-runs"))  # type: ignore[attr-defined]
        done: VariantResult = run_variant(self.loaded, self.name, out_root)
        if done.result.run_dir:
            self.user_properties.append(("run_dir", str(done.result.run_dir)))
        if not done.result.passed:
            where = f"\nrun directory: {done.result.run_dir}" if done.result.run_dir else ""
            raise LessonFailed(f"{self.path.name}, variant '{self.name}': checks not met\n{done.table()}{where}")

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, LessonFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"lesson: {self.path.name} variant {self.name}"

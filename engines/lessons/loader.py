"""Lesson files (`*.lesson.yaml`): read, check, and build every variant's topology.

Reading reuses the topology loader's parts: `yamlsource` gives a line for every
path, so a pydantic error, an unknown variant, a bad counter expression or a
variant the topology cannot carry becomes a `Problem` with file and line (a
`TopologyError` carries them all). Nothing else escapes.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engines.lessons.model import FORMAT_VERSION, Lesson, Question, Step, Variant
from engines.lessons.variants import VariantError, build, topology_path
from engines.topology import topofile
from engines.topology.expectations import ExpectationError
from engines.topology.expectations import parse as parse_expectation
from engines.topology.model import Topology
from engines.topology.problems import Problem, TopologyError
from engines.topology.yamlsource import SourceDoc, YamlSyntaxError, parse

SUFFIX = ".lesson.yaml"


@dataclass
class LoadedLesson:
    lesson: Lesson
    file: Path
    source: SourceDoc
    variants: dict[str, Topology] = field(default_factory=dict)  # each variant, built and valid
    files: dict[str, Path] = field(default_factory=dict)  # each variant's topology file

    @property
    def name(self) -> str:
        return self.file.name.removesuffix(SUFFIX)


def load(path: str | os.PathLike[str]) -> LoadedLesson:
    """Read and check a lesson file; TopologyError naming file and line for whatever is wrong."""
    path = Path(path)
    return loads(topofile.read_text(path), path)


def loads(text: str, file: Path) -> LoadedLesson:
    name = str(file)
    try:
        source = parse(text)
    except YamlSyntaxError as exc:
        raise TopologyError([Problem(str(exc), file=name, line=exc.line)]) from None
    data = source.data
    if not isinstance(data, dict):
        raise TopologyError([Problem("a lesson file is a mapping with 'version', 'title', 'goal', "
                                     "'topology', 'variants' and 'steps'", file=name, line=source.line_of(()))])
    version = data.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise TopologyError([Problem(
            "no 'version' field" if version is None else f"version {version!r} is not supported",
            file=name, line=source.line_of(("version",)), hint=f"this lab reads lessons of version {FORMAT_VERSION}")])
    try:
        lesson = Lesson.model_validate(data)
    except ValidationError as exc:
        raise TopologyError([_pydantic_problem(e, source, name) for e in exc.errors()]) from None
    loaded = LoadedLesson(lesson, file, source)
    problems = _check(loaded)
    if problems:
        raise TopologyError(problems)
    return loaded


def _pydantic_problem(err: Any, source: SourceDoc, file: str) -> Problem:
    loc = tuple(err["loc"])
    where = ".".join(str(p) for p in loc)
    hint = None
    if err["type"] == "extra_forbidden":
        known = _fields_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        message = f"unknown field '{where}'"
        hint = f"did you mean '{close[0]}'?" if close else (f"valid fields: {', '.join(known)}" if known else None)
    elif err["type"] == "missing":
        message = f"field '{where}' is required"
    else:
        got = err.get("input")
        shown = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
        text = str(err["msg"]).removeprefix("Value error, ")
        message = f"field '{where}': {text}{shown}" if where else f"{text}{shown}"
    return Problem(message, file=file, line=source.line_of(loc), hint=hint, path=loc)


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The fields valid at a location, for 'did you mean'."""
    words = [p for p in loc if isinstance(p, str)]
    model: type[Any] = Lesson
    if words[:1] == ["variants"]:
        model = Variant
    elif words[:1] == ["steps"]:
        model = Question if "questions" in words else Step
    return list(model.model_fields)


def _check(loaded: LoadedLesson) -> list[Problem]:
    lesson, source, file = loaded.lesson, loaded.source, str(loaded.file)
    problems: list[Problem] = []

    def problem(message: str, *path: str | int, hint: str | None = None) -> None:
        problems.append(Problem(message, file=file, line=source.line_of(tuple(path)), hint=hint, path=tuple(path)))

    bases: dict[str, Topology | None] = {}
    for vname, variant in lesson.variants.items():
        relative = variant.topology or lesson.topology
        at: tuple[str, ...] = ("variants", vname, "topology") if variant.topology else ("topology",)
        path = topology_path(loaded.file, relative)
        if relative not in bases:
            try:
                bases[relative] = topofile.load(path).topology
            except TopologyError as exc:
                bases[relative] = None
                problem(f"topology '{relative}' cannot be used: " + "; ".join(str(p) for p in exc.problems), *at)
        bad_checks = len(problems)
        for i, text in enumerate(variant.checks):
            try:
                parse_expectation(text)
            except ExpectationError as exc:
                problem(f"check: {exc}", "variants", vname, "checks", i)
        base = bases[relative]
        if base is None or len(problems) > bad_checks:
            continue
        try:
            loaded.variants[vname] = build(base, variant, vname)
            loaded.files[vname] = path
        except VariantError as exc:
            problem(str(exc), "variants", vname, *exc.key)
    names = list(lesson.variants)
    seen: set[str] = set()
    for i, step in enumerate(lesson.steps):
        if step.questions and not step.variant:
            problem(f"step {i + 1} asks questions but names no 'variant:' (the run that answers them)",
                    "steps", i, "questions")
        if step.compare and len(step.compare) != 2:
            problem(f"step {i + 1}: 'compare:' names exactly two variants (got {len(step.compare)})",
                    "steps", i, "compare")
        for key, value in [("variant", step.variant)] + [("compare", c) for c in step.compare]:
            if value is not None and value not in lesson.variants:
                close = difflib.get_close_matches(value, names, n=1)
                problem(f"step {i + 1} names variant '{value}', which the lesson does not define",
                        "steps", i, key, hint=f"did you mean '{close[0]}'?" if close else f"variants: {', '.join(names)}")
        for j, question in enumerate(step.questions):
            if question.id in seen:
                problem(f"question id '{question.id}' is used twice", "steps", i, "questions", j, "id")
            seen.add(question.id)
            texts: list[tuple[tuple[str | int, ...], str]] = []
            if question.kind == "number":
                texts.append((("answer",), f"{question.answer} == 0"))
            texts += [(("choices", k, "when"), c.when) for k, c in enumerate(question.choices)]
            for where, probe in texts:
                try:
                    parse_expectation(probe)
                except ExpectationError as exc:
                    problem(f"question '{question.id}': {exc}", "steps", i, "questions", j, *where)
    return problems


def find_lessons(paths: list[str]) -> list[Path]:
    """Lesson files named on the command line, folders searched for *.lesson.yaml."""
    found: list[Path] = []
    for item in paths:
        p = Path(item)
        found.extend(sorted(p.rglob(f"*{SUFFIX}")) if p.is_dir() else [p])
    return found

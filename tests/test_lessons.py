"""Lesson files: the loader's errors say file, line and what is wrong; variants, answers and the schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from engines import schema
from engines.lessons import catalog, judge
from engines.lessons.loader import load, loads
from engines.lessons.model import Question
from engines.topology.problems import TopologyError

TOPO = str(catalog.LESSONS_DIR.parent / "topologies" / "06-notification-zmq-push-pull.topo.yaml")

GOOD = f"""version: 1
title: t
goal: g
topology: {TOPO}
variants:
  calm:
    set:
      events.count: 100
      worker-b.processing_ms: 1
    scenario: []
    checks:
      - lost == 0
steps:
  - title: run it
    variant: calm
    questions:
      - id: lost
        ask: how many lost?
        answer: lost
        tolerance: 2
  - title: compare
    compare: [calm, calm]
"""


def _error(text: str, tmp_path: Path) -> str:
    path = tmp_path / "x.lesson.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TopologyError) as caught:
        load(path)
    return str(caught.value)


def test_a_good_lesson_loads_with_its_variant_built(tmp_path):
    loaded = loads(GOOD, tmp_path / "x.lesson.yaml")
    variant = loaded.variants["calm"]
    assert variant.node("events").count == 100 and variant.node("worker-b").processing_ms == 1
    assert variant.scenario == [] and variant.expectations == ["lost == 0"]
    assert loaded.files["calm"] == Path(TOPO)


@pytest.mark.parametrize("change, line, words", [
    (("goal: g\n", "gaol: g\n"), 3, "unknown field 'gaol'"),
    (("      events.count: 100\n", "      events.cuont: 100\n"), 8, "has no field 'cuont'"),
    (("      events.count: 100\n", "      nobody.count: 100\n"), 8, "no node 'nobody'"),
    (("      events.count: 100\n", "      events.rate: -5\n"), 8, "rate"),
    (("      - lost == 0\n", "      - lots == 0\n"), 12, "unknown counter 'lots'"),
    (("    variant: calm\n", "    variant: clam\n"), 15, "did you mean 'calm'"),
    (("        answer: lost\n", "        answer: lost ==\n"), 19, "question 'lost'"),
    (("        tolerance: 2\n", "        tolerance: -2\n"), 20, "greater than or equal to 0"),
    (("    compare: [calm, calm]\n", "    compare: [calm]\n"), 22, "exactly two"),
    (("version: 1\n", "version: 2\n"), 1, "version 2 is not supported"),
    (("title: t\n", "title: [t\n"), 3, "YAML syntax"),
])
def test_a_bad_lesson_says_file_line_and_what(tmp_path, change, line, words):
    message = _error(GOOD.replace(*change), tmp_path)
    assert f"x.lesson.yaml:{line}: error:" in message, message
    assert words in message, message
    assert "Traceback" not in message


def test_a_missing_topology_is_named_at_its_line(tmp_path):
    message = _error(GOOD.replace(TOPO, "nowhere.topo.yaml"), tmp_path)
    assert "x.lesson.yaml:4: error:" in message and "nowhere.topo.yaml" in message and "no such file" in message


def test_every_shipped_lesson_loads_in_order_one_per_section():
    paths = catalog.lessons()
    assert [p.name[:2] for p in paths] == ["01", "02", "03", "04", "05", "06"]
    for path in paths:
        loaded = load(path)
        assert loaded.lesson.steps[-1].compare or path.name.startswith("05"), path.name
        assert all(s.variant in loaded.variants for s in loaded.lesson.steps if s.variant)


def test_the_ledger_answers_and_explains_the_difference():
    summary = {"total": {"lost": 427.0, "sent": 3000.0}, "nodes": {"events": {"errors": 0}}}
    number = Question(id="q", ask="lost?", answer="lost", tolerance=50, explain="Buffers die with the process.")
    ledger = judge.answer(number, summary)
    assert ledger.value == 427 and ledger.text() == "427"
    close = judge.compare(number, "400", ledger)
    assert close.right is True and "within 50" in close.explanation
    far = judge.compare(number, "0", ledger)
    assert far.right is False and "427 fewer than the ledger counted" in far.explanation
    assert "Buffers die with the process." in far.explanation
    assert judge.compare(number, "", ledger).right is None
    choice = Question.model_validate({"id": "c", "ask": "told?", "kind": "choice", "choices": [
        {"label": "yes", "when": "events.errors > 0"}, {"label": "no", "when": "events.errors == 0"}]})
    said = judge.answer(choice, summary)
    assert said.text() == "no" and judge.compare(choice, "no", said).right is True
    assert judge.compare(choice, "yes", said).right is False


def test_the_published_lesson_schema_is_current_and_every_lesson_satisfies_it():
    assert schema.LESSON_SCHEMA_PATH.read_text() == schema.render_lesson(), "run: python -m engines.schema"
    published = json.loads(schema.LESSON_SCHEMA_PATH.read_text())
    for path in catalog.lessons():
        jsonschema.validate(yaml.safe_load(path.read_text()), published)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**yaml.safe_load(GOOD), "gaol": 1}, published)

"""Arbitrary YAML and mutations of valid files: the loader raises only TopologyError."""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engines.topology import topofile
from engines.topology.problems import TopologyError
from tests.conftest import EXAMPLES

BASES = [yaml.safe_load(p.read_text()) for p in EXAMPLES]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["client", "service", "broker", "zmq", "amqp", "http",
                                            "notification", "kill", "lost == 0", "a->b"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


def load_text(text: str) -> None:
    try:
        topofile.loads(text, "fuzz.topo.yaml")
    except TopologyError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text(text):
    load_text(text)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, prefix + (i,))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_examples(data):
    doc = copy.deepcopy(data.draw(st.sampled_from(BASES)))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=8))] = data.draw(values)
        else:
            parent[path[-1]] = data.draw(values)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml: the dump is not what is tested
    load_text(yaml.dump(doc, Dumper=dumper, allow_unicode=True))


def test_alias_bomb_is_refused():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join(["*" + chr(96 + i)] * 10) + "]\n"
    try:
        topofile.loads(bomb)
    except TopologyError as exc:
        assert "more values than a topology ever needs" in str(exc)
    else:
        raise AssertionError("an alias bomb was accepted")


def test_python_tags_are_not_executed():
    text = "version: 1\nname: !!python/object/apply:os.system ['echo hacked']\n"
    try:
        topofile.loads(text)
    except TopologyError as exc:
        assert "YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed" in str(exc)
    else:
        raise AssertionError("a python tag was accepted")

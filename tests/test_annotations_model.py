"""Annotations in the topology file: round trip, canonical form, validation, old files unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.topology import annotations, topofile
from engines.topology.model import Annotation, AnnotationKind
from engines.topology.problems import TopologyError

ROOT = Path(__file__).resolve().parents[1]

TEXT = """\
version: 1
name: spof
nodes:
  - name: c
    kind: client
    style: request-response
    transport: amqp
    rate: 100
    count: 1000
    payload_bytes: 256
    timeout_ms: 1000
    retries: 3
    confirms: true
    persistent: true
    mandatory: true
    resend_in_doubt: true
  - name: rabbit
    kind: broker
    position: [200, 0]
links:
  - from: c
    to: rabbit
annotations:
  - kind: note
    text: |-
      This is the single
      point of failure
    position: [180, -120]
  - kind: box
    text: Producers
    position: [-40, -40]
    size: [160, 120]
  - kind: group
    text: The broker
    nodes: [rabbit]
"""


def test_round_trip_is_canonical() -> None:
    loaded = topofile.loads(TEXT)
    anns = loaded.topology.annotations
    assert [a.kind for a in anns] == [AnnotationKind.NOTE, AnnotationKind.BOX, AnnotationKind.GROUP]
    assert anns[0].text == "This is the single\npoint of failure"
    assert anns[1].extent() == (160, 120)
    assert anns[2].nodes == ["rabbit"]
    assert topofile.dumps(loaded.topology) == TEXT


@pytest.mark.parametrize("path", sorted((ROOT / "topologies").glob("*.topo.yaml")), ids=lambda p: p.name[:2])
def test_examples_keep_their_bytes(path: Path) -> None:
    text = path.read_text()
    assert topofile.dumps(topofile.loads(text).topology) == text


def test_a_group_of_an_unknown_node_is_an_error_with_its_line() -> None:
    bad = TEXT.replace("nodes: [rabbit]", "nodes: [rabbitt]")
    with pytest.raises(TopologyError) as err:
        topofile.loads(bad, "x.topo.yaml")
    problem = next(p for p in err.value.problems if p.path and p.path[0] == "annotations")
    assert "rabbitt" in problem.message and "does not exist" in problem.message
    assert problem.line == bad.splitlines().index("    nodes: [rabbitt]") + 1


def test_unknown_annotation_field_is_named() -> None:
    with pytest.raises(TopologyError) as err:
        topofile.loads(TEXT.replace("    text: Producers", "    title: Producers"))
    assert any("unknown field 'title'" in p.message for p in err.value.problems)


def test_rename_and_delete_follow_groups() -> None:
    anns = [Annotation(kind=AnnotationKind.GROUP, text="g", nodes=["a", "b"]),
            Annotation(kind=AnnotationKind.GROUP, text="h", nodes=["b"]), Annotation(text="n")]
    assert annotations.renamed(anns, "b", "z")[0].nodes == ["a", "z"]
    left = annotations.without_nodes(anns, {"b"})
    assert [a.text for a in left] == ["g", "n"] and left[0].nodes == ["a"]

"""`.inf` and `.nan` are YAML floats; no setting of a topology may be infinite or not a number.

`rate: .inf` and `processing_ms: .inf` passed validation and then crashed
their node. Validation now refuses every non-finite number, with its line.
"""

from __future__ import annotations

import pytest

from engines.topology import topofile
from engines.topology.problems import TopologyError

BASE = """version: 1
name: inf
duration_s: {duration}
nodes:
  - {{name: c, kind: client, style: notification, transport: zmq, count: 10, rate: {rate}}}
  - {{name: s, kind: service, processing_ms: {work}}}
links:
  - {{from: c, to: s}}
"""


@pytest.mark.parametrize(("field", "line"), [("rate", 5), ("work", 6), ("duration", 3)])
@pytest.mark.parametrize("value", [".inf", ".nan", "-.inf"])
def test_non_finite_numbers_are_refused_with_their_line(field: str, line: int, value: str) -> None:
    values = {"rate": "10", "work": "1", "duration": "5", field: value}
    with pytest.raises(TopologyError) as info:
        topofile.loads(BASE.format(**values), "inf.topo.yaml")
    problems = info.value.problems
    assert any(p.line == line and "finite" in p.message for p in problems), [str(p) for p in problems]

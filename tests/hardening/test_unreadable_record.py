"""One client's record file cannot be read: the summary is still built for everyone else.

After a real run, one client's `records.bin` is cut to a few bytes (as a
disk error or a stray tool would leave it); rebuilding the summary names
that client and its problem and keeps every other client's counts exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engines.runtime import Supervisor
from engines.runtime.summary import build_summary
from engines.runtime.table import format_summary
from engines.topology import topofile

TOPOLOGY = """
version: 1
name: unreadable
nodes:
  - {name: good, kind: client, style: notification, transport: zmq, rate: 0, count: 300}
  - {name: broken, kind: client, style: notification, transport: zmq, rate: 0, count: 300}
  - {name: worker, kind: service}
links:
  - {from: good, to: worker}
  - {from: broken, to: worker}
"""


@pytest.mark.timeout(90)
def test_one_unreadable_record_file_does_not_cost_the_summary(tmp_path: Path) -> None:
    with Supervisor(topofile.loads(TOPOLOGY).topology, tmp_path / "run") as sup:
        sup.run()
        records = sup.table.nodes["broken"].node_dir / "records.bin"
        records.write_bytes(b"LAB")
        summary = build_summary(sup)
    assert "broken" in summary["unreadable_records"]
    assert "records.bin" in summary["unreadable_records"]["broken"]
    good = summary["nodes"]["good"]
    assert good["sent"] == good["processed"] == 300 and good["lost"] == 0
    assert summary["nodes"]["worker"].get("hostile", 0) == 0
    assert "broken: its record file could not be read" in format_summary(summary)
    written = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert written["unreadable_records"] == summary["unreadable_records"]

"""`labgui explain` on a run directory made by hand (no processes): output, filters, clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from engines.cli import main as cli_main
from engines.explain import explain_run
from tests.conftest import EXAMPLES


def fake_run(tmp_path: Path) -> Path:
    """Example 06's topology, worker-b killed at 2.05 s on the run clock, 3 messages lost."""
    run = tmp_path / "run"
    run.mkdir()
    shutil.copyfile(next(p for p in EXAMPLES if p.name.startswith("06-")), run / "topology.topo.yaml")
    events = [{"t": 0.5, "event": "run-started", "origin_t": 0.5},
              {"t": 2.55, "run_t": 2.05, "event": "killed", "node": "worker-b", "pid": 1}]
    (run / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events) + '{"torn', encoding="utf-8")
    lost = {"lost": 3}
    (run / "summary.json").write_text(json.dumps({"total": lost, "nodes": {"worker-b": lost, "worker-a": {"lost": 0},
                                                                        "events": lost},
                                                  "links": {"events->worker-b": lost}}), encoding="utf-8")
    (run / "ids.json").write_text(json.dumps({"lost": {"count": 3, "ids": ["events:7", "events:9", "events:11"]}}),
                                  encoding="utf-8")
    return run


def test_explain_prints_each_subject_and_filters(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    run = fake_run(tmp_path)
    assert cli_main(["explain", str(run)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("total\n  lost 3: 'worker-b' was killed at 2.05 s; what sat in its PULL socket")
    flat = " ".join(out.split())  # the lines are wrapped at 100 columns
    assert "node worker-b" in out and "link events->worker-b" in out and "events:7, events:9, events:11" in flat
    assert cli_main(["explain", str(run), "--node", "events->worker-b", "--counter", "lost"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("link events->worker-b") and "node " not in out
    assert cli_main(["explain", str(run), "--node", "worker-a"]) == 0
    assert "nothing to explain for node 'worker-a'" in capsys.readouterr().out
    e = explain_run(run, node="worker-b")[0]
    assert e.message_ids == ("events:7", "events:9", "events:11") and e.story_refs[0] == "msg-events-7"


def test_explain_of_a_missing_or_damaged_run_is_a_clear_error(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert cli_main(["explain", str(tmp_path / "nothing")]) == 2
    assert "no such run directory" in capsys.readouterr().err
    run = fake_run(tmp_path)
    (run / "summary.json").write_text('{"total": ', encoding="utf-8")
    assert cli_main(["explain", str(run)]) == 2
    err = capsys.readouterr().err
    assert "summary.json" in err and "not valid JSON" in err and "Traceback" not in err

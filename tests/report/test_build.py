"""The report is built from what a run leaves on disk: page, plots, verdicts and fault spans."""

from __future__ import annotations

import json
import shutil

import pytest

from engines.cli import main as cli_main
from engines.report.build import ReportError, build_report
from tests.conftest import ROOT


@pytest.fixture
def run_dir(tmp_path):
    """A small run directory in the runtime's layout: a broker killed at 3 s, restarted at 8 s,
    ready again at 9.5 s."""
    shutil.copy(ROOT / "topologies" / "12-broker-failure-rabbitmq.topo.yaml", tmp_path / "topology.topo.yaml")
    events = [
        {"t": 0.0, "event": "run-started"},
        {"t": 3.0, "event": "scenario", "node": "rabbit", "action": "kill", "at_s": 3.0},
        {"t": 3.01, "event": "killed", "node": "rabbit"},
        {"t": 8.0, "event": "scenario", "node": "rabbit", "action": "restart", "at_s": 8.0},
        {"t": 9.5, "event": "ready", "node": "rabbit"},
        {"t": 12.0, "event": "stop", "node": "payments"},
    ]
    (tmp_path / "events.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n{torn")
    rows = ["t_s,node,state,sent,acknowledged,replies,retries,timeouts,errors,delivered,processed,"
            "duplicates_suppressed,p50_latency_ms,p99_latency_ms"]
    sent = processed = errors = 0
    for i in range(1, 121):
        t = i / 10
        up = not (3.0 <= t < 8.0)
        sent += 20 if up else 0
        processed += 20 if up else 0
        errors += 0 if up else 1
        rows.append(f"{t:.2f},checkout,ready,{sent},{sent},0,0,0,{errors},,,,1.0,2.0")
        rows.append(f"{t:.2f},payments,ready,,,,,,0,{processed},{processed},0,0.5,0.9")
    (tmp_path / "metrics.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "queues.csv").write_text("t_s,broker,queue,ready,consumers\n1.00,rabbit,payments,5,1\n")
    summary = {"total": {"sent": 1400, "processed": 1400, "lost": 0, "duplicates_processed": 0,
                         "errors": 50, "duration_s": 12.0},
               "nodes": {"payments": {"processed": 1400}}, "links": {}, "bounds": {}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    return tmp_path


def test_report_has_verdicts_plots_and_fault_spans(run_dir):
    page = build_report(run_dir).read_text()
    assert "PASS · 4 expectations" in page
    assert "rabbit killed: 3.0 s – 9.5 s" in page
    assert "payments stopped" not in page  # the end-of-run stop is no fault
    assert page.count("data:image/png;base64,") == 1
    for name in ("overview", "throughput", "latency", "queues", "errors"):
        assert (run_dir / f"{name}.png").stat().st_size > 5000


def test_failed_expectation_shows_measured_value(run_dir):
    topo = run_dir / "topology.topo.yaml"
    topo.write_text(topo.read_text().replace("errors > 0", "errors == 0"))
    page = build_report(run_dir).read_text()
    assert "FAIL · 1 of 4 expectations" in page
    assert "<code>errors == 0</code></td><td>50</td><td class='ko'>FAIL" in page


def test_not_a_run_dir_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(ReportError, match="no summary.json; is this a run directory"):
        build_report(tmp_path)
    assert cli_main(["report", str(tmp_path)]) == 1
    assert "is this a run directory" in capsys.readouterr().err

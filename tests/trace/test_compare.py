"""Compare: runs side by side, and one design derived over zmq, amqp and http and run for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.cli import main as cli
from engines.replay.compare import COUNTERS, differences, open_side, same_structure
from engines.replay.variants import derive
from engines.testing.runner import run_file
from engines.topology import topofile
from tests.conftest import ROOT
from tests.runtime.conftest import assert_no_node_left

HERE = Path(__file__).parent
NOTIFY = HERE / "notify.topo.yaml"


@pytest.mark.timeout(180)
def test_two_runs_of_one_file_have_equal_structure_and_their_measured_differences(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = [run_file(NOTIFY, out_root=tmp_path / f"r{i}", report=False) for i in range(2)]
    assert_no_node_left()
    assert all(r.error is None and r.run_dir is not None for r in runs)
    a, b = (r.run_dir for r in runs)
    sides = [open_side(a, "first"), open_side(b, "second")]  # type: ignore[arg-type]
    assert same_structure(sides)
    measured = [k for k in COUNTERS if runs[0].summary["total"].get(k) != runs[1].summary["total"].get(k)]  # type: ignore[index]
    called_out = [line.split(":")[0] for line in differences(sides)]
    assert called_out == measured  # exactly the counters that differ, nothing about structure
    assert "duration_s" in measured  # two real runs never last the same to the millisecond
    out = tmp_path / "cmp.html"
    assert cli(["compare", str(a), str(b), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "the same design" in page and "data:image/png;base64," in page
    for key in measured:
        assert f'<tr class="diff"><td>{key}</td>' in page
    assert cli(["compare", str(a), str(tmp_path / "nothing")]) == 2
    assert "no such run directory" in capsys.readouterr().err


def test_variants_insert_a_broker_for_amqp_and_refuse_what_a_transport_cannot_do() -> None:
    design = topofile.load(NOTIFY).topology
    amqp = derive(design, "amqp").topology
    assert amqp is not None
    assert [link.key for link in amqp.links] == ["shop->broker", "broker->worker-a", "broker->worker-b"]
    assert amqp.brokers()[0].managed and amqp.clients()[0].transport.value == "amqp"
    assert [(s.action.value, s.target) for s in amqp.scenario] == [("kill", "worker-b"), ("start", "worker-b")]
    pubsub = topofile.load(next((ROOT / "topologies").glob("09-*.topo.yaml"))).topology
    refused = derive(pubsub, "http")
    assert refused.topology is None and "http cannot carry publish-subscribe" in (refused.refused or "")
    broker_kill = topofile.load(next((ROOT / "topologies").glob("12-*.topo.yaml"))).topology
    refused = derive(broker_kill, "zmq")
    assert refused.topology is None and "acts on broker 'rabbit'" in (refused.refused or "")
    back = derive(broker_kill, "amqp").topology
    assert back is not None and [link.key for link in back.links] == [link.key for link in broker_kill.links]


@pytest.mark.rabbitmq
@pytest.mark.timeout(300)
def test_one_design_over_zmq_amqp_and_http_measured_side_by_side(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "transports.html"
    code = cli(["compare", str(NOTIFY), "--transports", "zmq,amqp,http", "--runs", str(tmp_path / "runs"),
                "--out", str(out)])
    assert_no_node_left()
    assert code == 0, capsys.readouterr()
    sides = [open_side(tmp_path / "runs" / t, t) for t in ("zmq", "amqp", "http")]
    assert same_structure(sides)
    assert [s.structure()["brokers"] for s in sides] == [[], ["broker"], []]
    zmq, amqp, http = (s.totals for s in sides)
    assert zmq["acknowledged"] == 0 < amqp["acknowledged"]  # PUSH has no acknowledgement; a confirm is one
    assert amqp["lost"] == 0 and http["lost"] == 0  # the broker and the HTTP answer keep every message
    page = out.read_text(encoding="utf-8")
    assert "brokers differ" in page and "transports differ" in page

"""A message's story from a real run: its events in order, on the run's clock, and the ledger's IDs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.cli import main as cli
from engines.report.events import fault_events, read_events, run_origin
from engines.testing.runner import TopologyResult, run_file
from engines.trace import ids as idlists
from engines.trace.load import open_run
from tests.runtime.conftest import assert_no_node_left

pytestmark = [pytest.mark.rabbitmq]


@pytest.mark.timeout(120)
def test_redelivered_message_shows_two_deliveries_one_commit_one_refused_duplicate(
        redelivery_run: TopologyResult, capsys: pytest.CaptureFixture[str]) -> None:
    assert redelivery_run.run_dir is not None
    run = open_run(redelivery_run.run_dir)
    suppressed = run.ids["duplicates_suppressed"]
    assert suppressed["count"] == redelivery_run.summary["total"]["duplicates_suppressed"] >= 1  # type: ignore[index]
    story = run.story(suppressed["ids"][0])
    service = [s for s in story.steps if s.node == "card-authoriser"]
    assert [s.kind for s in service] == ["deliver", "commit", "deliver", "duplicate-refused"]
    assert "redelivered" in service[2].detail and "redelivered" not in service[0].detail
    assert service[0].src == "rabbit" and service[0].dst == "card-authoriser"
    assert [s.t for s in service] == sorted(s.t for s in service)
    # the crash that caused the redelivery lies between the commit and the second delivery
    crash = [p for p in story.periods if p.target == "card-authoriser"]
    assert crash and service[1].t <= crash[0].start <= service[2].t
    # ... on the run clock, the one the report, the timeline and the scenario count on
    faults = [e for e in fault_events(read_events(redelivery_run.run_dir / "events.jsonl"))
              if e["target"] == "card-authoriser" and e["action"] == "crash"]
    origin = run_origin(read_events(redelivery_run.run_dir / "events.jsonl"))
    assert faults and abs(float(faults[0]["t"]) - origin - crash[0].start) < 0.01, (faults, origin, crash)
    assert {"duplicates_suppressed", "redelivered"} <= set(story.counted_as)
    assert cli(["trace", str(redelivery_run.run_dir), suppressed["ids"][0]]) == 0
    text = capsys.readouterr().out.split("outcome\n", 1)[1]  # the events, after the header
    assert text.index("commit") < text.index("[redelivered]") < text.index("duplicate-refused")


@pytest.mark.timeout(120)
def test_an_ordinary_message_is_sent_delivered_committed_and_confirmed(redelivery_run: TopologyResult) -> None:
    assert redelivery_run.run_dir is not None
    story = open_run(redelivery_run.run_dir).story("orders:10")
    kinds = [s.kind for s in story.steps]
    assert kinds[0] == "send" and kinds.count("commit") == 1 and "ack" in kinds
    assert kinds.index("deliver") < kinds.index("commit")
    assert all(s.outcome == "ok" for s in story.steps)
    assert story.path == [("orders", "rabbit"), ("rabbit", "card-authoriser")]
    assert 0 < story.steps[0].t < float(redelivery_run.summary["total"]["duration_s"]) + 60  # type: ignore[index]


@pytest.mark.timeout(180)
@pytest.mark.parametrize("mode", ["all", "anomalies"])
def test_every_lost_id_has_a_trace_that_ends_before_a_commit(mode: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_TRACE", mode)
    result = run_file(Path(__file__).parent / "lossy.topo.yaml", out_root=tmp_path, report=False)
    assert_no_node_left()
    assert result.run_dir is not None and result.summary is not None
    run = open_run(result.run_dir)
    assert set(run.trace.modes.values()) == {mode}
    lost = run.ids["lost"]
    assert lost["count"] == result.summary["total"]["lost"] > 0
    assert len(lost["ids"]) == lost["count"]
    for text_id in lost["ids"]:
        story = run.story(text_id)
        kinds = [s.kind for s in story.steps]
        assert kinds and kinds[0] == "send", (text_id, kinds)
        assert "commit" not in kinds and "duplicate-refused" not in kinds, (text_id, kinds)
    # and a processed one does reach its commit
    processed = next(f"events:{i}" for i in range(2500) if f"events:{i}" not in set(lost["ids"]))
    assert "commit" in [s.kind for s in run.story(processed).steps]


def test_ids_file_of_a_run_that_never_summarised_reads_empty(tmp_path: Path) -> None:
    assert idlists.read(tmp_path) == {}


@pytest.mark.timeout(120)
def test_report_lists_each_counters_ids_and_draws_their_diagrams(redelivery_run: TopologyResult) -> None:
    assert redelivery_run.report is not None
    page = redelivery_run.report.read_text(encoding="utf-8")
    section = page.split('<h2 id="messages">', 1)[1].split("<h2>", 1)[0]
    ids = open_run(redelivery_run.run_dir).ids["duplicates_suppressed"]  # type: ignore[arg-type]
    suppressed = ids["ids"]
    assert f"duplicates suppressed ({ids['count']})" in section
    anchor = "msg-" + suppressed[0].replace(":", "-")
    assert f'href="#{anchor}"' in section and f'id="{anchor}"' in section
    diagram = section.split(f'id="{anchor}"', 1)[1].split("</svg>", 1)[0]
    assert "duplicate-refused" in diagram and "deliver (redelivered)" in diagram
    assert "card-authoriser crashed" in diagram

"""Replay: a finished run at time t shows what the run recorded at t; a damaged directory says why."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from engines.cli import main as cli
from engines.replay.recording import Recording
from engines.testing.runner import TopologyResult
from engines.trace.rundata import RunDirError
from labgui.app.cli import main as labgui_main
from labgui.replay.window import ReplayWindow

pytestmark = [pytest.mark.rabbitmq]


def recorded_rows(run_dir: Path, node: str) -> list[dict[str, str]]:
    with open(run_dir / "metrics.csv", encoding="utf-8", newline="") as fh:
        return [row for row in csv.DictReader(fh) if row["node"] == node]


@pytest.mark.gui
@pytest.mark.timeout(120)
def test_replay_at_t_shows_the_counters_the_metrics_recorded_at_t(qtbot, redelivery_run: TopologyResult) -> None:  # noqa: ANN001
    run_dir = redelivery_run.run_dir
    assert run_dir is not None and redelivery_run.summary is not None
    window = ReplayWindow(Recording.open(run_dir))
    qtbot.addWidget(window)
    client, service = recorded_rows(run_dir, "orders"), recorded_rows(run_dir, "card-authoriser")
    checked = 0
    for row in client[len(client) // 4::max(1, len(client) // 6)]:
        t = float(row["t_s"])
        window.seek(t)
        at_service = [r for r in service if float(r["t_s"]) <= t][-1]
        shown = window.dashboard.counters.values()
        assert shown["sent"] == int(float(row["sent"]))
        assert shown["processed"] == int(float(at_service["processed"]))
        assert shown["duplicates_suppressed"] == int(float(at_service["duplicates_suppressed"]))
        assert shown["lost"] is None  # the ledger's: known at the end only
        assert window.sampler.nodes["orders"].totals["acknowledged"] == int(float(row["acknowledged"]))
        checked += 1
    assert checked >= 3
    window.seek(window.rec.end)
    final = redelivery_run.summary["total"]
    assert window.dashboard.counters.values()["lost"] == final["lost"]
    assert window.dashboard.counters.values()["duplicates_suppressed"] == final["duplicates_suppressed"]


@pytest.mark.gui
@pytest.mark.timeout(120)
def test_replay_jumps_to_the_crash_and_shows_the_service_down(qtbot, redelivery_run: TopologyResult) -> None:  # noqa: ANN001
    assert redelivery_run.run_dir is not None
    window = ReplayWindow(Recording.open(redelivery_run.run_dir))
    qtbot.addWidget(window)
    window.seek(window.rec.start)
    window.jump(1, faults=True)
    crash = window.t
    assert window.sampler.nodes["card-authoriser"].state in ("crashed", "starting")
    assert any(e.get("event") == "crashed" for e in window.dashboard.events.events())
    window.jump(1, faults=True)  # the end of the outage: ready again
    assert window.t > crash and window.sampler.nodes["card-authoriser"].state == "ready"
    window.jump(-1, faults=True)
    assert window.t == pytest.approx(crash)
    window.speed = 8.0
    window.toggle_play()
    qtbot.waitUntil(lambda: window.t > crash + 0.1, timeout=5000)
    window.toggle_play()
    assert not window.playing


@pytest.mark.gui
@pytest.mark.timeout(120)
def test_replay_counts_on_the_run_clock(qtbot, redelivery_run: TopologyResult) -> None:  # noqa: ANN001
    """Issue 16's one clock: the replay showed the run folder's clock (a kill at 3 s read 12.68 s),
    the live view, the scenario and the report count from the clients' start."""
    assert redelivery_run.run_dir is not None
    rec = Recording.open(redelivery_run.run_dir)
    started = next(e for e in rec.events if e.get("event") == "run-started")
    assert rec.origin == started["origin_t"] > 0
    window = ReplayWindow(rec)
    qtbot.addWidget(window)
    window.seek(rec.end)
    crash = next(e for e in rec.events if e.get("event") == "crashed")
    line = next(text for text in window.dashboard.events.lines() if "crashed card-authoriser" in text)
    assert float(line.split()[0]) == pytest.approx(crash["run_t"], abs=0.011)
    assert float(window.clock.text().split()[2]) == pytest.approx(rec.end - rec.origin, abs=0.011)
    [period] = [p for p in window.sampler.periods() if p.target == "card-authoriser"]
    assert period.start == pytest.approx(crash["run_t"], abs=0.011)
    assert window.sampler.ring.t[0] == pytest.approx(window.sampler.frames[0] - rec.origin)


def _damaged(tmp_path: Path, source: Path) -> dict[str, Path]:
    cases: dict[str, Path] = {}

    def copy(name: str) -> Path:
        path = tmp_path / name
        shutil.copytree(source, path)
        cases[name] = path
        return path

    (copy("no-topology") / "topology.topo.yaml").unlink()
    path = copy("garbage-metrics")
    text = (path / "metrics.csv").read_text(encoding="utf-8").splitlines()
    (path / "metrics.csv").write_text("\n".join(text[:5] + ["\x00\x01garbage,,", *text[5:]]), encoding="utf-8")
    path = copy("truncated-summary")
    (path / "summary.json").write_text((source / "summary.json").read_text(encoding="utf-8")[:100], encoding="utf-8")
    path = copy("bad-topology")
    (path / "topology.topo.yaml").write_text("version: 1\nnodes: [ {", encoding="utf-8")
    path = copy("events-garbage")
    (path / "events.jsonl").write_text("not json\n{\"t\": 1}\n", encoding="utf-8")
    path = copy("truncated-trace")
    trace = path / "nodes" / "orders" / "trace.bin"
    trace.write_bytes(trace.read_bytes()[:20])
    (path / "trace.npy").write_bytes(b"\x93NUMPY garbage")
    empty = tmp_path / "empty"
    empty.mkdir()
    cases["empty"] = empty
    return cases


@pytest.mark.timeout(120)
def test_a_corrupt_or_truncated_run_directory_opens_with_a_clear_message(
        tmp_path: Path, redelivery_run: TopologyResult, capsys: pytest.CaptureFixture[str]) -> None:
    assert redelivery_run.run_dir is not None
    for name, path in _damaged(tmp_path, redelivery_run.run_dir).items():
        if name != "truncated-trace":
            with pytest.raises(RunDirError) as info:
                Recording.open(path)
            assert str(path) in str(info.value), name
        code = cli(["trace", str(path), "orders:5"])
        err = capsys.readouterr().err
        assert "Traceback" not in err, (name, err)
        if name in ("truncated-trace", "empty", "no-topology", "bad-topology"):
            assert code == 2 and str(path) in err, (name, err)
    # the replay command refuses a damaged one before any window opens
    assert labgui_main(["replay", str(tmp_path / "garbage-metrics")]) == 2
    err = capsys.readouterr().err
    assert "metrics.csv" in err and "line 6" in err and "Traceback" not in err


@pytest.mark.gui
@pytest.mark.timeout(120)
def test_two_runs_side_by_side_move_on_one_slider(qtbot, redelivery_run: TopologyResult, tmp_path: Path) -> None:  # noqa: ANN001
    from labgui.replay.compare_window import CompareWindow

    assert redelivery_run.run_dir is not None
    other = tmp_path / "copy"
    shutil.copytree(redelivery_run.run_dir, other)
    window = CompareWindow([redelivery_run.run_dir, other])
    qtbot.addWidget(window)
    window.seek(1.0)
    assert [v.t - s.origin for v, s in zip(window.views, window.sides, strict=True)] == pytest.approx([1.0, 1.0])
    assert window.views[0].dashboard.counters.values() == window.views[1].dashboard.counters.values()
    assert window.views[0].dashboard.counters.values()["sent"] > 0
    assert labgui_main(["compare", str(other), str(tmp_path / "nothing"), "--gui"]) == 2


@pytest.mark.gui
def test_file_open_run_on_a_damaged_directory_shows_the_reason(qtbot, tmp_path: Path,  # noqa: ANN001
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QMainWindow

    from labgui.replay import menu

    shown: list[str] = []
    monkeypatch.setattr(menu.dialogs, "show_error", lambda _w, _title, text: shown.append(text))
    window = QMainWindow()
    qtbot.addWidget(window)
    window.menuBar().addMenu("&File")
    action = menu.attach(window)
    assert action.text() == "Open &Run..."
    assert menu.open_run(window, tmp_path) is None
    assert shown and "not a run directory" in shown[0] and str(tmp_path) in shown[0]

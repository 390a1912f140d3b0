"""The run view's tick schedule (labgui.run.frames) and the plots it leaves hidden until shown."""

from __future__ import annotations

from collections import Counter

import pytest

from labgui.run import frames
from tests.gui.runs import assert_run_left_nothing, node, open_example, wait_phase

REPAINTING = {frames.CANVAS, frames.COUNTERS, frames.LATER_PLOTS}  # each followed by a big repaint


def test_each_sample_cycle_spreads_its_repaints_over_its_ticks() -> None:
    cycles = 5
    ticks = [frames.jobs(t, running=True) for t in range(1, frames.SAMPLE_EVERY * cycles + 1)]
    counted = Counter(job for work in ticks for job in work)
    assert counted[frames.SAMPLE] == counted[frames.CANVAS] == counted[frames.COUNTERS] == cycles
    assert counted[frames.DASHES] == cycles * frames.SAMPLE_EVERY // frames.ANIMATE_EVERY  # 10 a second
    assert all(len(REPAINTING & set(work)) <= 1 for work in ticks)  # never two big repaints in a tick
    assert all(frames.DASHES in work for work in ticks if frames.CANVAS in work)  # one repaint for both
    assert not any(frames.DASHES in frames.jobs(t, running=False) for t in range(12))  # still when not running
    seconds = frames.TICK_MS * frames.SAMPLE_EVERY / 1000
    assert seconds == 0.2  # five samples a second


@pytest.mark.gui
@pytest.mark.timeout(120)
def test_a_plot_hidden_during_a_run_is_current_when_shown(window, qtbot, tmp_path):  # noqa: ANN001
    open_example(window, tmp_path, "06", lambda data: (data.update(scenario=[], expectations=[]),
                                                       node(data, "events").update(count=20_000)))
    rm = window.run_mode
    rm.run_action.trigger()
    wait_phase(qtbot, window, ("running",), 60)
    dock, plot = rm.dashboard.docks["Errors"], rm.dashboard.error_plot
    dock.hide()
    qtbot.waitUntil(lambda: rm.sampler is not None and len(rm.sampler.ring.times()) > 10, timeout=30_000)
    drawn = len(plot.curves["errors"].xData) if "errors" in plot.curves else 0
    qtbot.wait(1000)  # five samples while it is hidden: not redrawn
    assert rm.phase == "running"
    assert (len(plot.curves["errors"].xData) if "errors" in plot.curves else 0) == drawn
    dock.show()  # shown: drawn at once from the last sample, not at the next tick
    samples = len(rm.sampler.ring.times())
    assert len(plot.curves["errors"].xData) == samples > drawn
    rm.stop()
    wait_phase(qtbot, window, ("ended",), 60)
    assert_run_left_nothing(window)

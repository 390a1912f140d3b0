"""The scenario player keeps a scenario's spacing when the run stalled: "pause the clients, kill
the queue half a second later" must not become a pause and a kill in the same instant (a
loaded machine once held a supervisor 2.6 s, and example 43's workers held requests at the kill)."""

from __future__ import annotations

from functools import partialmethod

import pytest

from engines.runtime.events import EventLog
from engines.runtime.scheduler import Scheduler
from engines.topology.model import Action, Step


class _Recorder:
    """The player's view of a supervisor: it notes what it was asked, and when."""

    def __init__(self) -> None:
        self.events = EventLog(None)
        self.now = 0.0
        self.done: list[tuple[float, str, str]] = []

    def _note(self, action: str, target: str) -> None:
        self.done.append((self.now, action, target))

    pause = partialmethod(_note, "pause")
    kill = partialmethod(_note, "kill")
    start_node = partialmethod(_note, "start_node")
    stop_node = partialmethod(_note, "stop_node")
    restart = partialmethod(_note, "restart")
    resume = partialmethod(_note, "resume")


def _play(steps: list[Step], ticks: list[float]) -> _Recorder:
    sup = _Recorder()
    player = Scheduler(steps, sup)  # type: ignore[arg-type]  # a fake with the same calls
    for now in ticks:
        sup.now = now
        player.tick(now, 0)
    return sup


def _lesson() -> list[Step]:
    return [Step(action=Action.PAUSE, target="shop", at_s=1.5), Step(action=Action.PAUSE, target="till", at_s=1.5),
            Step(action=Action.KILL, target="queue", at_s=2.0), Step(action=Action.START, target="queue", at_s=3.0)]


def test_ticks_on_time_fire_each_step_at_its_time() -> None:
    sup = _play(_lesson(), [round(0.1 * i, 1) for i in range(40)])
    assert sup.done == [(1.5, "pause", "shop"), (1.5, "pause", "till"), (2.0, "kill", "queue"),
                        (3.0, "start_node", "queue")]
    assert not any("late_s" in e for e in sup.events.since())


def test_a_stalled_player_fires_the_first_overdue_steps_at_once_and_keeps_the_spacing_after_them() -> None:
    ticks = [0.1, 0.2, 2.6] + [round(2.6 + 0.1 * i, 1) for i in range(1, 25)]  # stalled 0.2 -> 2.6 s
    sup = _play(_lesson(), ticks)
    assert sup.done == [(2.6, "pause", "shop"), (2.6, "pause", "till"), (3.1, "kill", "queue"),
                        (4.1, "start_node", "queue")]
    scenario = [e for e in sup.events.since() if e["event"] == "scenario"]
    assert [e.get("late_s") for e in scenario] == [1.1, None, None, None]  # said once, where it began


def test_lateness_of_an_ordinary_tick_does_not_add_up() -> None:
    steps = [Step(action=Action.KILL, target=f"n{i}", at_s=0.05 + i) for i in range(10)]
    sup = _play(steps, [round(0.1 * i, 1) for i in range(110)])  # each fires up to 0.05 s late
    assert [t for t, _, _ in sup.done] == pytest.approx([0.1 + i for i in range(10)])


def test_a_step_counted_in_messages_is_not_moved_by_a_stall() -> None:
    sup = _Recorder()
    player = Scheduler([Step(action=Action.KILL, target="a", at_s=0.5),
                        Step(action=Action.KILL, target="b", after_messages=10)], sup)  # type: ignore[arg-type]
    sup.now = 3.0
    player.tick(3.0, 10)
    assert [name for _, _, name in sup.done] == ["a", "b"]

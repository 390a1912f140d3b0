"""The scenario player: node and link actions at their time (or after a number of messages sent).

A run lasts until every client has finished, every timed step has fired and
what the steps set going has settled (a restarted node is up again), or until
its duration_s: `holds_run` and `Control.settling` are the first two tests.

Link actions go to the run's link proxies (engines.runtime.linkfaults); a
step the run cannot carry out is an error event, never a failed run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from engines.runtime.events import EventLog
from engines.topology.model import Action, Step


class Controls(Protocol):
    """What the scenario player may do to a run (the supervisor offers all of it)."""

    events: EventLog

    def cut_link(self, link: str) -> None: ...

    def heal_link(self, link: str) -> None: ...

    def delay_link(self, link: str, latency_ms: float, jitter_ms: float = 0.0) -> None: ...

    def lossy_link(self, link: str, loss: float) -> None: ...

    def kill(self, name: str) -> None: ...

    def stop_node(self, name: str) -> None: ...

    def start_node(self, name: str) -> Any: ...

    def restart(self, name: str) -> Any: ...

    def pause(self, name: str) -> None: ...

    def resume(self, name: str) -> None: ...

    def reread(self, name: str, offset: str) -> None: ...


class Scheduler:
    def __init__(self, steps: list[Step], supervisor: Controls) -> None:
        done = {id(s) for s in getattr(supervisor, "steps_before_clients", ())}  # fired by start()
        self.pending = sorted((s for s in steps if id(s) not in done),
                              key=lambda s: (s.at_s if s.at_s is not None else float("inf")))
        self.supervisor = supervisor
        self.fired: list[Step] = []

    def _due(self, step: Step, now_s: float, sent: int) -> bool:
        if step.at_s is not None:
            return now_s >= step.at_s
        return step.after_messages is not None and sent >= step.after_messages

    def tick(self, now_s: float, sent: int) -> list[Step]:
        """Fire every step that is due; return them."""
        due = [s for s in self.pending if self._due(s, now_s, sent)]
        for step in due:
            self.pending.remove(step)
            self.fired.append(step)
            self._fire(step, now_s)
        return due

    def _fire(self, step: Step, now_s: float) -> None:
        sup = self.supervisor
        if step.action.on_link:
            sup.events.add("scenario", None, link=step.target, action=step.action.value,
                           at_s=round(now_s, 3))
            link_act: Callable[[], None] = {
                Action.CUT: lambda: sup.cut_link(step.target),
                Action.HEAL: lambda: sup.heal_link(step.target),
                Action.DELAY: lambda: sup.delay_link(step.target, step.latency_ms, step.jitter_ms),
                Action.LOSSY: lambda: sup.lossy_link(step.target, step.loss),
            }[step.action]
            try:
                link_act()
            except KeyError as exc:
                sup.events.add("error", None, link=step.target, action=step.action.value, error=str(exc))
            return
        sup.events.add("scenario", step.target, action=step.action.value, at_s=round(now_s, 3))
        if step.action is Action.REREAD:
            sup.reread(step.target, step.offset)
            return
        act = {
            Action.KILL: sup.kill, Action.STOP: sup.stop_node, Action.START: sup.start_node,
            Action.RESTART: sup.restart, Action.PAUSE: sup.pause, Action.RESUME: sup.resume,
        }[step.action]
        try:
            act(step.target)
        except KeyError as exc:
            sup.events.add("error", step.target, action=step.action.value, error=str(exc))

    @staticmethod
    def before_clients(steps: list[Step], clients: set[str], supervisor: Controls) -> list[Step]:
        """Fire the steps at 0 s that act on services, brokers and links, before any client
        starts: "paused from 0 s" must hold before the first message, not a tick after it."""
        zero = [s for s in steps if s.at_s == 0 and s.target not in clients]
        player = Scheduler(zero, supervisor)
        return player.tick(0.0, 0)

    def holds_run(self) -> bool:
        """A timed step is still to come: the run lasts until it has happened (a step counted
        in messages sent can no longer fire once every client has finished, so it does not)."""
        return any(s.at_s is not None for s in self.pending)

    def pending_for(self, names: list[str]) -> bool:
        """Is a node action still to come for one of these nodes (e.g. a killed client's start)?"""
        return any(s.target in names and not s.action.on_link for s in self.pending)

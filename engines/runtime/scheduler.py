"""The scenario player: node and link actions at their time (or after a number of messages sent).

A run lasts until every client has finished, every timed step has fired and
what the steps set going has settled (a restarted node is up again), or until
its duration_s: `holds_run` and `Control.settling` are the first two tests.

Link actions go to the run's link proxies (engines.runtime.linkfaults); a
step the run cannot carry out is an error event, never a failed run.

A scenario is a sequence with intervals ("pause the clients, and half a
second later kill the queue"). When the player could not tick for a while (a
loaded machine stalled the supervisor), the first overdue step fires at once
and the later ones keep their spacing after it (`late_s` in its event), instead
of all firing in the same instant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from engines.runtime.events import EventLog
from engines.topology.model import Action, Step

STALL_S = 0.25  # a step this much later than due (ticks are 0.1 s apart) means the player stalled


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
        self.shift_s = 0.0  # how far a stall has pushed the timed steps still to come

    def _due(self, step: Step, now_s: float, sent: int) -> bool:
        if step.at_s is not None:
            return now_s >= step.at_s + self.shift_s
        return step.after_messages is not None and sent >= step.after_messages

    def tick(self, now_s: float, sent: int) -> list[Step]:
        """Fire every step that is due, in order; return them. A step fired over STALL_S late
        pushes the timed steps after it by as much (steps at the same time still fire together)."""
        due: list[Step] = []
        for step in list(self.pending):
            if not self._due(step, now_s, sent):
                continue
            late_s = now_s - (step.at_s + self.shift_s) if step.at_s is not None else 0.0
            stalled_s = late_s if late_s > STALL_S else 0.0
            self.shift_s += stalled_s
            self.pending.remove(step)
            self.fired.append(step)
            due.append(step)
            self._fire(step, now_s, stalled_s)
        return due

    def _fire(self, step: Step, now_s: float, late_s: float = 0.0) -> None:
        late = {"late_s": round(late_s, 3)} if late_s else {}
        sup = self.supervisor
        if step.action.on_link:
            sup.events.add("scenario", None, link=step.target, action=step.action.value,
                           at_s=round(now_s, 3), **late)
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
        sup.events.add("scenario", step.target, action=step.action.value, at_s=round(now_s, 3), **late)
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

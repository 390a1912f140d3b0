"""The scenario player: node actions at their time (or after a number of messages sent).

Link actions (cut, heal, delay, lossy) belong to a later piece of work: they
are skipped with a note in the event log, never a failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engines.model import Action, Step

if TYPE_CHECKING:
    from engines.runtime.supervisor import Supervisor


class Scheduler:
    def __init__(self, steps: list[Step], supervisor: Supervisor) -> None:
        self.pending = sorted(steps, key=lambda s: (s.at_s if s.at_s is not None else float("inf")))
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
        sup.events.add("scenario", step.target, action=step.action.value, at_s=round(now_s, 3))
        if step.action.on_link:
            sup.events.add("note", step.target, note=f"link action '{step.action.value}' is not "
                           "implemented yet; skipped")
            return
        act = {
            Action.KILL: sup.kill, Action.STOP: sup.stop_node, Action.START: sup.start_node,
            Action.RESTART: sup.restart, Action.PAUSE: sup.pause, Action.RESUME: sup.resume,
        }[step.action]
        try:
            act(step.target)
        except KeyError as exc:
            sup.events.add("error", step.target, action=step.action.value, error=str(exc))

    def pending_for(self, names: list[str]) -> bool:
        """Is a node action still to come for one of these nodes (e.g. a killed client's start)?"""
        return any(s.target in names and not s.action.on_link for s in self.pending)

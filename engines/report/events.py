"""What a run's events.jsonl says: its events, where its clock starts, and its faults.

Apart from the report's plotting (matplotlib, numpy), so the trace, replay and
`labgui` commands that read events start without loading it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# Events that open or close a fault period, by the runtime's event names. A plain
# "stop" is left out: the supervisor stops every node at the end of a run, and
# that is no fault; a stop the scenario or the user asked for comes as an action.
_FAULT_EVENTS = {"kill": "kill", "killed": "kill", "crashed": "crash", "ready": "start",
                 "pause": "pause", "resume": "resume", "start": "start", "restart": "restart",
                 "cut": "cut", "heal": "heal", "delay": "delay", "lossy": "lossy"}
_ACTION_EVENTS = ("scenario", "action", "manual")


def read_events(path: Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    if not path.exists():
        return events
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a runner killed mid-write leaves a torn last line
    return events


def run_origin(events: Iterable[Mapping[str, Any]]) -> float:
    """Where the run clock starts on the files' clock: `origin_t` of the run-started event."""
    for e in events:
        if e.get("event") == "run-started" and e.get("origin_t") is not None:
            return float(e["origin_t"])
    return 0.0


def fault_events(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The events that open or close faults, as {t, action, target}.

    A node is down from its kill, stop or crash until it is *ready* again, not
    until the restart was asked for: a broker takes seconds to boot, and that
    time is part of the outage a user sees.
    """
    out: list[dict[str, Any]] = []
    down: set[str] = set()
    for e in events:
        kind = str(e.get("event", ""))
        target = e.get("node") or e.get("link") or e.get("target")
        if target is None:
            continue
        target = str(target)
        action = str(e.get("action")) if kind in _ACTION_EVENTS else _FAULT_EVENTS.get(kind)
        if kind == "ready" and e.get("joining_in_ms"):  # join_after_ms: up, not yet subscribed
            # from the run's start on the plots (it began when the service did, a moment before)
            out.append({"t": max(0.0, float(e.get("t", 0.0))), "action": "late", "target": target})
        if kind == "joined":
            action = "join"
        if kind == "ready":
            action = "start" if target in down else None
            down.discard(target)
        elif action in ("start", "restart"):
            if action == "restart" and target not in down:
                down.add(target)  # a restart of a running node takes it down first
                action = "stop"
            else:
                continue
        elif action in ("kill", "stop", "crash"):
            down.add(target)
        if action is None:
            continue
        if out and out[-1]["target"] == target and out[-1]["action"] == action \
                and float(e.get("t", 0)) - out[-1]["t"] < 1.0:
            continue  # "kill" then "killed": one fault, not two
        out.append({"t": float(e.get("t", 0.0)), "action": action, "target": target})
    return out

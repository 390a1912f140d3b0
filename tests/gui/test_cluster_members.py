"""A clustered broker in run mode: its members' states on the tile, one submenu per member."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from PySide6.QtWidgets import QMenu

from engines.topology.vocabulary import NodeKind
from labgui.canvas.node_item import NodeItem
from labgui.run.canvas import member_text
from labgui.run.menus import node_menu


class FakeSampler:
    def __init__(self, states: dict[str, str]) -> None:
        self.nodes = {n: SimpleNamespace(state=s) for n, s in states.items()}

    def members(self, broker: str) -> list[tuple[str, str]]:
        return [(n, f.state) for n, f in sorted(self.nodes.items()) if n.startswith(f"{broker}/")]


class FakeHost:
    def __init__(self, sampler: FakeSampler) -> None:
        self.sampler = sampler
        self.session = None
        self.acts: list[tuple[str, str]] = []

    def act(self, action: str, node: str) -> None:
        self.acts.append((action, node))

    def act_on_link(self, action: str, link: str, latency_ms: float = 0.0) -> None: ...

    def show_log(self, node: str) -> None: ...


def test_member_text_names_states_and_leaders() -> None:
    text = member_text([("rabbit/1", "killed"), ("rabbit/2", "ready"), ("rabbit/3", "paused")],
                       {"payments": "rabbit/2"}, {"payments": 12})
    assert text.splitlines() == ["rabbit/1 KILLED", "rabbit/2 ready · leads payments",
                                 "rabbit/3 PAUSED", "payments: 12 ready"]


def test_each_member_has_its_own_controls(qtbot: Any) -> None:
    host = FakeHost(FakeSampler({"rabbit": "ready", "rabbit/1": "killed", "rabbit/2": "ready",
                                 "rabbit/3": "paused", "payments": "ready"}))
    item = NodeItem("rabbit", NodeKind.BROKER, "broker")
    menu = QMenu()
    qtbot.addWidget(menu)
    node_menu(host, item, menu, running=True)
    subs = {a.text(): a.menu() for a in menu.actions() if a.menu() is not None}
    assert list(subs) == ["Member rabbit/1: killed", "Member rabbit/2: ready", "Member rabbit/3: paused"]

    def enabled(member: str, action: str) -> bool:
        sub = subs[f"Member {member}: {host.sampler.nodes[member].state}"]
        return next(a for a in sub.actions() if a.objectName() == f"run-{action}-{member}").isEnabled()

    assert enabled("rabbit/1", "start") and not enabled("rabbit/1", "kill")
    assert enabled("rabbit/2", "kill") and enabled("rabbit/2", "pause")
    assert enabled("rabbit/3", "resume") and not enabled("rabbit/3", "pause")
    kill = next(a for a in subs["Member rabbit/2: ready"].actions() if a.objectName() == "run-kill-rabbit/2")
    kill.trigger()
    assert host.acts == [("kill", "rabbit/2")]

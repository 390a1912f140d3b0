"""The right-click menus of run mode: control of a node, faults on a link.

Every entry is there in every state, enabled only when it applies, so the
menu reads the same each time and a disabled entry's tooltip says why.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtWidgets import QMenu

from engines.topology.vocabulary import NodeKind
from labgui.canvas.link_item import LinkItem
from labgui.canvas.node_item import NodeItem
from labgui.run import broker_internals, stream_actions
from labgui.run.live_data import LiveSampler
from labgui.run.session import RunSession

RUNNING_STATES = ("starting", "ready", "done", "paused")
ENDED_STATES = ("killed", "crashed", "exited")
# (action, menu text, tip, states in which it applies)
NODE_MENU = (
    ("kill", "&Kill (SIGKILL)", "No goodbye, no flush: what it had not recorded is gone", RUNNING_STATES),
    ("stop", "S&top (SIGTERM)", "A clean stop", RUNNING_STATES),
    ("start", "&Start", "A new life for a node that is not running", ENDED_STATES),
    ("restart", "&Restart", "Stop, then start again (not while it is still starting)",
     ("ready", "done", "paused") + ENDED_STATES),
    ("pause", "&Pause (SIGSTOP)", "Frozen: sockets stay open, nothing answers", ("starting", "ready", "done")),
    ("resume", "Res&ume (SIGCONT)", "Carry on after a pause", ("paused",)),
)
LATENCIES_MS = (20, 100, 500, 2000)
LINKS_DIRECT = ("This run's links go direct, not through fault proxies: turn on Run > Link faults "
                "by hand, then run again.")
NO_PROXY = "Nothing connects over this link in this run, so it has no proxy to fault."


class MenuHost(Protocol):
    """What the menus need of the run controller (labgui.run.mode.RunController)."""

    sampler: LiveSampler | None
    session: RunSession | None

    def act(self, action: str, node: str) -> None: ...

    def act_on_link(self, action: str, link: str, latency_ms: float = 0.0) -> None: ...

    def show_log(self, node: str) -> None: ...


def node_menu(ctl: MenuHost, item: NodeItem, menu: QMenu, running: bool) -> None:
    state = ctl.sampler.nodes[item.name].state if ctl.sampler else "idle"
    menu.addAction(f"{item.name}: {state}").setEnabled(False)
    for action, text, tip, states in NODE_MENU:
        entry = menu.addAction(text)
        entry.setObjectName(f"run-{action}")
        entry.setToolTip(tip)
        entry.setEnabled(running and state in states)
        entry.triggered.connect(lambda _c=False, a=action, n=item.name: ctl.act(a, n))
    members = ctl.sampler.members(item.name) if ctl.sampler else []
    if members:  # a clustered broker: each member is its own process
        menu.addSeparator()
        for member, member_state in members:
            sub = menu.addMenu(f"Member {member}: {member_state}")
            sub.setObjectName(f"run-member-{member}")
            sub.setToolTipsVisible(True)
            for action, text, tip, states in NODE_MENU:
                entry = sub.addAction(text)
                entry.setObjectName(f"run-{action}-{member}")
                entry.setToolTip(tip)
                entry.setEnabled(running and member_state in states)
                entry.triggered.connect(lambda _c=False, a=action, n=member: ctl.act(a, n))
    menu.addSeparator()
    if item.kind is NodeKind.BROKER:  # its inside drawn on the canvas
        broker_internals.menu_entry(ctl, item.name, menu)
    else:  # a stream consumer: read again from an offset
        stream_actions.menu_entries(ctl, item.name, menu, running)
    log = menu.addAction("Show its &log")
    log.setObjectName("run-log")
    log.triggered.connect(lambda _c=False, n=item.name: ctl.show_log(n))


def link_menu(ctl: MenuHost, item: LinkItem, menu: QMenu, running: bool) -> None:
    session, key = ctl.session, item.key
    fault = ctl.sampler.link_faults.get(key) if ctl.sampler else None
    menu.addAction(f"{key}: {fault or 'no fault'}").setEnabled(False)
    proxied = session is not None and session.proxied(key)
    why = None if proxied else (NO_PROXY if session is not None and session.link_faults else LINKS_DIRECT)

    def entry(menu_: QMenu, name: str, text: str, tip: str, applies: bool, act: object) -> None:
        action = menu_.addAction(text)
        action.setObjectName(f"run-{name}")
        action.setToolTip(why or tip)
        action.setStatusTip(why or tip)
        action.setEnabled(running and proxied and applies)
        action.triggered.connect(act)

    entry(menu, "cut", "&Cut link", "Reset its connections and refuse new ones until healed",
          fault != "cut", lambda: ctl.act_on_link("cut", key))
    entry(menu, "heal", "&Heal link", "Take every fault off the link", fault is not None,
          lambda: ctl.act_on_link("heal", key))
    latency = menu.addMenu("Add &latency")
    latency.setToolTipsVisible(True)
    for ms in LATENCIES_MS:
        entry(latency, f"delay-{ms}", f"{ms:g} ms" if ms < 1000 else f"{ms / 1000:g} s",
              "Hold every chunk this long before passing it on, in order", fault != "cut",
              lambda _c=False, ms=ms: ctl.act_on_link("delay", key, ms))

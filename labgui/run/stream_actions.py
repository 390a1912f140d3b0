"""Run mode: ask a stream consumer to read its stream again (the scenario's `reread`, by hand).

A service that consumes a RabbitMQ stream gets "Re-read stream" in its
context menu: from the first message, from a few seconds ago on the run's
clock, or from the last chunk. The supervisor drops a request the consumer
picks up within 0.2 s; what it reads again is counted `stream_reread`, and
its idempotent consumer refuses what it had already processed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMenu

from engines.topology.model import QueueType

BACK_S = 5.0


def reads_stream(ctl: Any, name: str) -> bool:
    session = ctl.session
    if session is None:
        return False
    return any(link.queue_type is QueueType.STREAM for link in session.topology.links_to(name))


def offsets(now_s: float) -> list[tuple[str, str]]:
    """(offset, menu text) choices at run time `now_s`."""
    back = max(0.0, now_s - BACK_S)
    return [("first", "From the &first message"),
            (f"time:{back:.1f}s", f"From {BACK_S:g} s &ago (run time {back:.1f} s)"),
            ("last", "From the &last chunk")]


def reread(ctl: Any, name: str, offset: str) -> None:
    session = ctl.session
    if session is None or session.phase != "running":
        return
    session.sup.reread(name, offset)
    ctl.window.show_message(f"{name}: re-reading its stream from {offset}")


def menu_entries(ctl: Any, name: str, menu: QMenu, running: bool) -> None:
    if not reads_stream(ctl, name):
        return
    sub = menu.addMenu("Re-read &stream")
    sub.setObjectName("run-reread")
    sub.setToolTipsVisible(True)
    now = ctl.session.now() if ctl.session is not None else 0.0
    for offset, text in offsets(now):
        entry = sub.addAction(text)
        entry.setObjectName(f"run-reread-{offset.split(':')[0]}")
        entry.setToolTip("Read the stream again from here; what it had processed comes back as "
                         "duplicates its idempotent consumer refuses (stream_reread)")
        entry.setEnabled(running)
        entry.triggered.connect(lambda _c=False, o=offset: reread(ctl, name, o))

"""The canvas during a run: node states and live figures, link rates, dashes that move with traffic.

Reads the sampler's latest figures (labgui.run.live_data) and the live ledger; the
items only repaint when what they show changed. The one thing redrawn on
every tick is the dash phase of links that carry traffic.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtGui import QColor

from engines.topology.vocabulary import NodeKind
from labgui.canvas import theme
from labgui.canvas.node_item import STATE_COLOURS
from labgui.canvas.scene import CanvasScene
from labgui.run.live_data import LiveSampler

BAD_STATES = {"killed": "KILLED", "crashed": "CRASHED", "paused": "PAUSED", "exited": "EXITED",
              "starting": "STARTING"}
GOOD, WARN, BAD, DARK = QColor("#2b8a3e"), QColor("#e67700"), QColor("#e03131"), QColor("#343a40")
PILING = 100  # ready messages in a queue from which the broker's badge turns amber
CALLS_PILING = 8  # downstream calls out at once from which a service's badge turns amber


def rate_text(rate: float) -> str:
    if rate >= 9500:
        return f"{rate / 1000:.0f}k/s"
    if rate >= 1000:
        return f"{rate / 1000:.1f}k/s"
    return f"{rate:.0f}/s"


def count_text(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 10000 else str(n)


def boot_bar(done: float, expect: float, width: int = 10) -> str:
    """A text progress bar; past the expected time it stays full but for one cell."""
    share = 0.0 if expect <= 0 else min(done / expect, (width - 1) / width)
    full = int(round(share * width))
    return "▰" * full + "▱" * (width - full)


def boot_text(boot: tuple[float, float] | None) -> str:
    """'RabbitMQ booting 3 s of ~5 s' with a bar (the estimate is the last boot measured)."""
    if boot is None:
        return "RabbitMQ booting…"
    done, expect = boot
    return f"RabbitMQ booting {done:.0f} s of ~{expect:.0f} s\n{boot_bar(done, expect)}"


def behind(rate: float) -> float:
    """A backlog worth a warning: half a second of the client's rate (a paced client is always
    a few messages behind its schedule)."""
    return max(10.0, rate * 0.5)


def thickness(rate: float) -> float:
    """2 px when idle, growing with the order of magnitude: 10/s is 4, 1k/s is 8, 100k/s is 12."""
    return 2.0 if rate <= 0.5 else min(13.0, 2.0 + 2.0 * math.log10(1 + rate))


def member_text(members: list[tuple[str, str]], leaders: dict[str, str | None],
                queues: dict[str, int]) -> str:
    """One line per member ('rabbit/1 ready · leads payments'), then the queue depths."""
    lines = []
    for name, state in members:
        led = sorted(q for q, leader in leaders.items() if leader == name)
        lines.append(f"{name} {BAD_STATES.get(state, state)}" + (f" · leads {', '.join(led)}" if led else ""))
    if queues:
        lines.append(" · ".join(f"{q}: {count_text(n)} ready" for q, n in sorted(queues.items())))
    return "\n".join(lines)


class RunCanvas:
    """Paints one run onto the editor's canvas; `clear()` gives the canvas back to editing."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene
        self.phase = 0.0
        self.peak: dict[str, float] = {}  # highest rate seen per link: a drop to 0 is a stall

    def begin(self) -> None:
        self.peak.clear()
        for item in self.scene.nodes.values():
            item.set_state("starting" if item.kind is NodeKind.BROKER else None)
            item.set_badge(None)
            item.set_detail(None)
        for link in self.scene.links.values():
            link.set_rate("–")
            link.set_thickness(2.0)
            link.set_flow(None)

    def show(self, sampler: LiveSampler, ledger: dict[str, Any] | None, final: bool = False) -> None:
        """Live (`ledger` the live ledger): lost is only what was certainly dropped; final
        (`ledger` the run's summary): each node's lost from the ledger."""
        nodes = {name: dict(books) for name, books in (ledger or {}).get("nodes", {}).items()}
        if not final:
            dropped = (ledger or {}).get("dropped", {})
            for name, books in nodes.items():
                books["lost"] = int(dropped.get(name, 0))
        for name, fig in sampler.nodes.items():
            item = self.scene.nodes.get(name)
            if item is None:
                continue
            state = None if fig.state == "idle" else ("ready" if fig.state == "done" else fig.state)
            item.set_state(state)
            word = BAD_STATES.get(fig.state)
            with item.batch():  # its badge and detail laid out once
                if item.kind is NodeKind.BROKER:
                    self._broker(item, fig, word, sampler.members(name), sampler.leaders(name),
                                 sampler.boots.get(name))
                elif item.kind is NodeKind.CLIENT:
                    self._client(item, fig, nodes.get(name, {}), word)
                else:
                    self._service(item, fig, nodes.get(name, {}), word)
        for key, rate in sampler.link_rates.items():
            link = self.scene.links.get(key)
            if link is None:
                continue
            self.peak[key] = max(self.peak.get(key, 0.0), rate)
            fault = sampler.link_faults.get(key)
            breaker = sampler.breakers.get(key)
            text = f"{rate_text(rate)} · {fault}" if fault else rate_text(rate)
            link.set_rate(f"{text} · breaker {breaker}" if breaker else text)
            link.set_thickness(thickness(rate))

    def _state_badge(self, item: Any, word: str | None) -> bool:
        if word is None:
            return False
        colour = QColor(STATE_COLOURS.get(word.lower(), theme.MUTED))
        item.set_badge(word, BAD if word in ("KILLED", "CRASHED") else colour)
        return True

    def _broker(self, item: Any, fig: Any, word: str | None,
                members: list[tuple[str, str]] | None = None,
                leaders: dict[str, str | None] | None = None,
                boot: tuple[float, float] | None = None) -> None:
        depth = sum(fig.queues.values())
        down = fig.state in ("killed", "crashed", "exited")
        if fig.state == "starting":  # booting: no queue to show yet, only how far the boot is
            item.set_badge("BOOTING", QColor(STATE_COLOURS.get("starting", theme.MUTED)))
            item.set_detail(boot_text(boot), WARN)
            return
        if not self._state_badge(item, word):
            item.set_badge(f"queue {count_text(depth)}", WARN if depth >= PILING else DARK)
        if members:
            item.set_detail(member_text(members, leaders or {}, fig.queues),
                            BAD if any(s in ("killed", "crashed", "paused", "exited") for _m, s in members)
                            else theme.TEXT)
            return
        if fig.state == "exited":  # stopped in order (the run's end, or a Stop): no fault
            item.set_detail("stopped: queues not sampled", theme.MUTED)
        elif down:
            item.set_detail("DOWN: queues unreachable", BAD)
        elif fig.queues:
            parts = [f"{q}: {count_text(n)} ready" for q, n in sorted(fig.queues.items())]
            item.set_detail(" · ".join(parts), WARN if depth >= PILING else theme.TEXT)
        else:
            item.set_detail(None)

    def _client(self, item: Any, fig: Any, books: dict[str, Any], word: str | None) -> None:
        if not self._state_badge(item, word):
            item.set_badge(rate_text(fig.rate), GOOD if fig.rate > 0 else DARK)
        t = fig.totals
        first = [f"sent {count_text(int(t.get('sent', 0)))}"]
        second = []
        doubt = int(books.get("in_doubt", 0) or 0)
        lost = int(books.get("lost", 0) or 0)
        errors, timeouts = int(t.get("errors", 0)), int(t.get("timeouts", 0))
        if lost:
            first.append(f"lost {count_text(lost)}")
        if doubt:
            first.append(f"in doubt {count_text(doubt)}")
        if fig.backlog >= behind(fig.rate_setting):
            second.append(f"waiting {count_text(fig.backlog)}")
        if errors:
            second.append(f"errors {count_text(errors)}")
        if timeouts:  # each under its own name: a Lazy Pirate retry after a timeout is no error
            second.append(f"timeouts {count_text(timeouts)}")
        text = " · ".join(first) + ("\n" + " · ".join(second) if second else "")
        # a few messages are always unconfirmed in flight: doubt alarms only past half a second's worth
        bad = lost or errors or fig.backlog >= behind(fig.rate_setting) or doubt >= behind(fig.rate_setting)
        item.set_detail(text, BAD if bad else (WARN if timeouts else theme.TEXT))

    def _service(self, item: Any, fig: Any, books: dict[str, Any], word: str | None) -> None:
        t = fig.totals
        if "mailbox_unseen" in t:  # a mail service: its mailbox depth, like a broker's queue
            self._mail_service(item, t, books, word)
            return
        if not self._state_badge(item, word):
            item.set_badge(rate_text(fig.rate), GOOD if fig.rate > 0 else DARK)
        processed = int(books.get("processed", t.get("applied", 0)) or 0)
        suppressed = int(books.get("duplicates_suppressed", t.get("duplicates_suppressed", 0)) or 0)
        double = int(books.get("duplicates_processed", 0) or 0)
        lost = int(books.get("lost", 0) or 0)  # where it happened: what this service never got
        head = f"processed {count_text(processed)}" + (f" · lost {count_text(lost)}" if lost else "")
        text = f"{head}\ndup. suppressed {suppressed} · dup. processed {double}"
        if fig.in_flight or fig.in_flight_peak:  # a caller: its downstream calls pile up here
            text += f"\ncalls out {fig.in_flight} (peak {fig.in_flight_peak})"
            if fig.in_flight >= CALLS_PILING and not word:
                item.set_badge(f"{fig.in_flight} calls out", WARN)
        item.set_detail(text, BAD if double or lost else (WARN if fig.in_flight >= CALLS_PILING else
                                                          (GOOD if suppressed else theme.TEXT)))

    def animate(self, sampler: LiveSampler | None, dt: float) -> None:
        """Move the dashes of busy links; mark a link whose traffic stopped as stalled."""
        self.phase = (self.phase + dt * 10.0) % 1000.0
        for key, link in self.scene.links.items():
            rate = sampler.link_rates.get(key, 0.0) if sampler is not None else 0.0
            stalled = (self.peak.get(key, 0.0) > 1 and rate < 0.5) or (
                sampler is not None and sampler.link_faults.get(key) == "cut")
            # dashes are drawn on links of 3 px and more (labgui.canvas.link_item): a thinner
            # link keeps still, and so costs no repaint per tick
            moving = rate > 0.5 and link.thickness >= 3
            link.set_flow(self.phase if moving else None, stalled)

    def freeze(self) -> None:
        """The run ended: keep the last picture, without motion."""
        for link in self.scene.links.values():
            link.set_flow(None, link.stalled)

    def clear(self) -> None:
        for item in self.scene.nodes.values():
            item.set_state(None)
            item.set_badge(None)
            item.set_detail(None)
        for link in self.scene.links.values():
            link.set_rate(None)
            link.set_thickness(2.0)
            link.set_flow(None)

    def _mail_service(self, item: Any, t: dict[str, int], books: dict[str, Any], word: str | None) -> None:
        """Unseen mails on the badge (what the slowest reader has not flagged \\Seen yet), stored below."""
        unseen = max(0, int(t.get("mailbox_unseen", 0)))
        if not self._state_badge(item, word):
            item.set_badge(f"mailbox {count_text(unseen)}", WARN if unseen >= PILING else DARK)
        stored = int(books.get("stored", t.get("applied", 0)) or 0)
        suppressed = int(books.get("duplicates_suppressed", t.get("duplicates_suppressed", 0)) or 0)
        double = int(books.get("duplicates_processed", 0) or 0)
        text = f"stored {count_text(stored)} · unseen {count_text(unseen)}\n" \
               f"dup. suppressed {suppressed} · dup. held {double}"
        item.set_detail(text, BAD if double else (GOOD if suppressed else theme.TEXT))

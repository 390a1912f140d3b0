"""The status bar's boot indicator: how far a booting RabbitMQ node is, against the last boot measured."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar

from labgui.run.live_data import LiveSampler


class BootBar(QProgressBar):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("bootProgress")
        self.setMaximumWidth(160)
        self.setMaximumHeight(16)
        self.setRange(0, 100)
        self.setToolTip("A RabbitMQ node takes several seconds to boot; the estimate is the last boot "
                        "measured on this machine")
        self.hide()

    def follow(self, sampler: LiveSampler | None, active: bool) -> str:
        """Show the longest boot in progress; the status text for it ('' when none boots)."""
        boots = sampler.boots if sampler is not None and active else {}
        if not boots:
            self.hide()
            return ""
        name, (done, expect) = max(boots.items(), key=lambda kv: kv[1][0])
        self.setValue(int(min(99.0, 100.0 * done / expect)) if expect > 0 else 0)
        self.setFormat(f"{done:.0f} s of ~{expect:.0f} s")
        self.show()
        return f"RabbitMQ '{name}' is booting ({done:.0f} s; about {expect:.0f} s on this machine)"

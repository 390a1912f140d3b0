"""The big counters: sent, processed, lost, in doubt and the three kinds of duplicates.

Live, they show the ledger recomputed so far (labgui.run.live_ledger); at the end,
the ledger's final summary, and the caption says which. Colour carries the
judgement: a lost message or a double charge is red, a duplicate an idempotent
consumer refused is green (it did its job), doubt is amber.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from engines.ledger.counters import COUNTERS

# (counter, caption, colour when > 0)
TILES = (
    ("sent", "sent", "#1c7ed6"),
    ("processed", "processed", "#2b8a3e"),
    ("lost", "lost", "#e03131"),
    ("in_doubt", "in doubt", "#e67700"),
    ("duplicates_delivered", "duplicates delivered", "#495057"),
    ("duplicates_suppressed", "duplicates suppressed", "#2b8a3e"),
    ("duplicates_processed", "double charges (dup. processed)", "#e03131"),
)
ZERO = "#868e96"
LIVE_NOTE = ("live, so far: a message sent and not processed yet is not lost, it is on its way; "
             "'lost' counts only what the real system certainly dropped (final at the end)")
# live captions: nothing is called lost before it is final or certainly dropped
LIVE_CAPTIONS = {"lost": "lost (certain so far)", "in_doubt": "not yet processed"}
LIVE_COLOURS = {"in_doubt": "#e67700"}


def _number(value: Any) -> str:
    if value is None:
        return "–"
    return f"{int(value):,}".replace(",", " ")


class CounterTile(QFrame):
    def __init__(self, key: str, caption: str, colour: str) -> None:
        super().__init__()
        self.key, self.colour = key, colour
        self.setObjectName(f"counter-{key}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.value = QLabel("–")
        font = QFont()
        font.setPointSizeF(19)
        font.setBold(True)
        self.value.setFont(font)
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.caption = QLabel(caption)
        small = QFont()
        small.setPointSizeF(8)
        self.caption.setFont(small)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.caption.setStyleSheet("color: #495057;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 3)
        layout.setSpacing(0)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        self.setToolTip(f"{key}: {COUNTERS.get(key, '')}")
        self.shown: int | None = None
        self._colour = colour
        self.captions = caption

    def set_value(self, value: int | None, colour: str | None = None) -> None:
        colour = colour or self.colour
        if value == self.shown and self.value.text() != "–" and colour == self._colour:
            return
        self.shown, self._colour = value, colour
        self.value.setText(_number(value))
        self.value.setStyleSheet(f"color: {colour if value else ZERO};")

    def set_caption(self, text: str) -> None:
        if self.caption.text() != text:
            self.caption.setText(text)


class CountersPanel(QWidget):
    """Seven tiles in two columns and a caption saying whether they are live or final."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("countersPanel")
        grid = QGridLayout()
        grid.setSpacing(4)
        self.tiles: dict[str, CounterTile] = {}
        for i, (key, caption, colour) in enumerate(TILES):
            tile = CounterTile(key, caption, colour)
            self.tiles[key] = tile
            grid.addWidget(tile, i // 2, i % 2)
        self.split = QLabel("")  # live: where the messages not yet processed are
        self.split.setObjectName("pendingSplit")
        self.split.setWordWrap(True)
        self.split.setStyleSheet("color: #e67700;")
        self.split.hide()
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #868e96; font-size: 8pt;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(grid)
        layout.addWidget(self.split)
        layout.addWidget(self.note)
        layout.addStretch(1)

    def show_values(self, totals: Mapping[str, Any] | None, final: bool,
                    pending: Mapping[str, int] | None = None) -> None:
        """Final: the ledger's counters. Live (with `pending`, engines.ledger.live.pending):
        lost only when certain, and what is not processed yet split by where it is."""
        live = not final and totals is not None and pending is not None
        for key, tile in self.tiles.items():
            tile.set_caption(LIVE_CAPTIONS.get(key, tile.captions) if live else tile.captions)
            if totals is None:
                tile.set_value(None)
            elif live and key == "lost":
                tile.set_value(int(pending["lost"]))  # type: ignore[index]
            elif live and key == "in_doubt":
                tile.set_value(int(pending["not_processed"]), LIVE_COLOURS["in_doubt"])  # type: ignore[index]
            else:
                tile.set_value(int(totals.get(key, 0) or 0))
        if live:
            assert pending is not None
            self.split.setText(f"not yet processed: in a queue {_number(pending['in_queue'])} · "
                               f"unconfirmed {_number(pending['unconfirmed'])} · "
                               f"in flight {_number(pending['in_flight'])}")
            self.split.show()
        else:
            self.split.hide()
        if totals is None:
            self.note.setText("waiting for the first count…")
        elif final:
            self.note.setText("final: the ledger's summary of the run")
        else:
            self.note.setText(LIVE_NOTE)

    def values(self) -> dict[str, int | None]:
        """What the tiles show (for tests and the screenshot's reader)."""
        return {key: tile.shown for key, tile in self.tiles.items()}

    def clear(self) -> None:
        self.split.hide()
        for tile in self.tiles.values():
            tile.set_value(None)
            tile.set_caption(tile.captions)
        self.note.setText("")

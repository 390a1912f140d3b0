"""What a driver may call on the node's parts: the pacer, the recorder, the handler, the stats.

The concrete classes live with the node programs (`engines.nodes`); drivers
see them only through these protocols, so the transports' contract never
imports the node programs and either side can change behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from engines.transports.delivery import DeliveryRow


class Pacer(Protocol):
    """Hands out sequence numbers at the client's rate until its count or duration is reached."""

    rate: float

    @property
    def finished(self) -> bool: ...

    def take(self, max_n: int = 1) -> range: ...

    def next_due_in(self) -> float: ...


class Recorder(Protocol):
    """A client's record of every message: one status byte per sequence number, in a mapped file."""

    capacity: int

    def sent(self, seq: int) -> None: ...

    def sent_range(self, first: int, n: int) -> None: ...

    def withdraw_range(self, first: int, n: int) -> None: ...

    def retry(self, seq: int) -> None: ...

    def reply(self, seq: int, ts_ns: int, peer: int = -1) -> None: ...

    def ack(self, seq: int, ts_ns: int) -> None: ...

    def confirm(self, seq: int, ts_ns: int) -> None: ...

    def confirmed(self, seq: int) -> None: ...

    def nack(self, seq: int) -> None: ...

    def timeout(self, seq: int) -> None: ...

    def error(self, seq: int, kind: str = "other") -> None: ...

    def gave_up(self, seq: int) -> None: ...

    def in_doubt(self, seq: int) -> None: ...

    def late_reply(self, seq: int) -> None: ...

    def duplicate_reply(self, seq: int) -> None: ...

    def count(self, name: str, n: int = 1) -> None: ...

    def is_acked(self, seq: int) -> bool: ...


class Handler(Protocol):
    """Does a service's work: processing time, the SQLite transaction, the configured crash."""

    def handle_batch(self, deliveries: Sequence[DeliveryRow]) -> list[int]: ...

    def handle(self, delivery: DeliveryRow) -> int: ...

    def room(self, n: int) -> int: ...

    def reply_crash_due(self) -> bool: ...

    def crash_after_reply(self) -> None: ...

    def committed(self, client: int, seq: int) -> bool:
        """Whether a business row for this message ID was committed (in any life)."""
        ...


class Stats(Protocol):
    """A service's transport-level counters, sent to the supervisor with its telemetry."""

    def count(self, name: str, n: int = 1) -> None: ...

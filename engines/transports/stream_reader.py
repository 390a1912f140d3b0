"""A stream consumer's own side: where it attaches, its stored offsets, re-reads on demand.

The AMQP consumer (engines.transports.amqp_service) asks this object what
`x-stream-offset` to give each stream queue, tells it which deliveries it
took and which it acked, and polls it for re-read requests. It stores the
offset of the last message acked per stream in the node's directory, so a
consumer killed after its commit and before that store reads those messages
again when it restarts (its idempotent consumer refuses them).

A re-read on demand cancels the stream's consumer and consumes again from
the requested offset; deliveries at or below the highest offset it had
taken before are counted `stream_reread`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engines.transports.amqp_streams import read_origin, take_reread, time_offset, x_stream_offset

POLL_S = 0.2  # how often a consumer looks for a re-read request


class StreamReader:
    def __init__(self, node_dir: Path | str | None, streams: Iterable[str], start: str, stats: Any) -> None:
        self.node_dir = Path(node_dir) if node_dir is not None else None
        self.streams = set(streams)
        self.start = start
        self.stats = stats
        self.seen_max: dict[str, int] = {}  # stream -> highest offset delivered in this life
        self.reread_upto: dict[str, int] = {}  # stream -> deliveries at or below are re-reads
        self._polled = 0.0

    # -- where to attach -----------------------------------------------------------------
    def _offset_file(self, queue: str) -> Path:
        return (self.node_dir or Path(".")) / f"stream-offset.{queue}"

    def stored(self, queue: str) -> int | None:
        try:
            return int(self._offset_file(queue).read_text())
        except (OSError, ValueError):
            return None

    def argument(self, queue: str, offset: str | None = None) -> Any:
        """x-stream-offset for attaching now, or None while a time offset is still ahead.

        Without `offset` (the consumer's first attach in this life): after the stored offset if
        there is one, else the configured start."""
        if offset is None:
            stored = self.stored(queue)
            if stored is not None:
                return stored + 1
            offset = self.start
        seconds = time_offset(offset)
        if seconds is not None:
            origin = read_origin(self.node_dir)
            if origin is None or time.time() < origin + seconds:
                return None  # the run's clock has not reached it: a stream keeps it all, wait
        return x_stream_offset(offset, read_origin(self.node_dir))

    # -- deliveries ----------------------------------------------------------------------
    def delivered(self, queue: str, props: Any) -> None:
        offset = _offset_of(props)
        if offset is None:
            return
        if offset <= self.reread_upto.get(queue, -1):
            self.stats.count("stream_reread")
        if offset > self.seen_max.get(queue, -1):
            self.seen_max[queue] = offset

    def store(self, acked: dict[str, int]) -> None:
        """After the ack: the offset of the last message acked, per stream."""
        for queue, offset in acked.items():
            path = self._offset_file(queue)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(str(offset))
            tmp.replace(path)

    # -- re-read on demand ---------------------------------------------------------------
    def poll(self) -> str | None:
        """The offset of a re-read request that arrived, at most every POLL_S; else None."""
        now = time.monotonic()
        if now - self._polled < POLL_S:
            return None
        self._polled = now
        offset = take_reread(self.node_dir)
        if offset is not None:
            self.stats.count("stream_rereads")
        return offset

    def rereading(self, queue: str) -> None:
        """A re-read attaches now: deliveries up to the highest offset taken so far are re-reads."""
        self.reread_upto[queue] = max(self.seen_max.get(queue, -1), self.reread_upto.get(queue, -1))


def _offset_of(props: Any) -> int | None:
    headers = getattr(props, "headers", None) or {}
    value = headers.get("x-stream-offset")
    return int(value) if value is not None else None

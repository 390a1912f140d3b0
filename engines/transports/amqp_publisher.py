"""Publishing with a pipelined confirm window: many publishes in flight, confirms counted.

One blocking confirm per publish caps pika at about 3 k msg/s; a window of
outstanding publishes reaches about ten times that (PERFORMANCE.md). The
window maps each delivery tag to its message; Basic.Ack with `multiple`
confirms a whole run of tags at once. A message the broker returns
(mandatory, unroutable) is an error, not a confirm, even though the broker
acks it after the return. At a disconnect everything unconfirmed is in doubt:
the client cannot know whether the broker had it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pika

from engines.transports import wire

Pending = tuple[int, int, int]  # (seq, attempt, ts_ns)


class ConfirmWindow:
    """Outstanding publishes of one channel life, by delivery tag."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pending: dict[int, Pending] = {}
        self._next_tag = 1
        self._low = 1  # lowest tag that may still be pending
        self._timeout_low = 1  # tags below this were checked for a confirm timeout
        self.returned: set[int] = set()  # seqs returned as unroutable in this life

    def __len__(self) -> int:
        return len(self.pending)

    def room(self) -> int:
        return self.size - len(self.pending)

    def add(self, seq: int, attempt: int, ts_ns: int) -> None:
        self.pending[self._next_tag] = (seq, attempt, ts_ns)
        self._next_tag += 1

    def settle(self, tag: int, multiple: bool) -> list[Pending]:
        """Remove and return the publishes a Basic.Ack/Nack settles."""
        pop = self.pending.pop
        if not multiple:
            item = pop(tag, None)
            return [item] if item is not None else []
        settled = [item for t in range(self._low, tag + 1) if (item := pop(t, None)) is not None]
        self._low = max(self._low, tag + 1)
        return settled

    def oldest_ts(self) -> int | None:
        """When the oldest unconfirmed publish went out (None when all are confirmed)."""
        for item in self.pending.values():  # dict order is tag order: the first is the oldest
            return item[2]
        return None

    def overdue(self, deadline_ns: int) -> list[Pending]:
        """Publishes sent before `deadline_ns` and still unconfirmed, each reported once."""
        found = []
        tag = max(self._timeout_low, self._low)
        while tag < self._next_tag:
            item = self.pending.get(tag)
            if item is not None:
                if item[2] > deadline_ns:
                    break
                found.append(item)
            tag += 1
        self._timeout_low = tag
        return found

    def drain(self) -> list[Pending]:
        """Everything unconfirmed (the channel is gone); the next channel starts at tag 1."""
        items = [self.pending[t] for t in sorted(self.pending)]
        self.pending.clear()
        self._next_tag = self._low = self._timeout_low = 1
        self.returned.clear()
        return items


class Publisher:
    """Publishes lab messages on one channel life, with or without confirms."""

    def __init__(
        self,
        channel: Any,
        exchange: str,
        routing_key: str,
        kind: int,
        client_index: int,
        payload: bytes,
        persistent: bool,
        mandatory: bool,
        window: ConfirmWindow | None,
        on_ack: Callable[[Pending], None],
        on_nack: Callable[[Pending], None],
        on_return: Callable[[int], None],
        reply_to: str | None = None,
        expiration_ms: int | None = None,
    ) -> None:
        self.channel = channel
        self.exchange = exchange
        self.routing_key = routing_key
        self.kind = kind
        self.client_index = client_index
        self.payload = payload
        self.mandatory = mandatory
        self.window = window
        self._on_ack, self._on_nack, self._on_return = on_ack, on_nack, on_return
        self.reply_to = reply_to
        mode = pika.DeliveryMode.Persistent if persistent else pika.DeliveryMode.Transient
        self._delivery_mode = mode
        # per-message TTL: AMQP carries it as a string of milliseconds
        self._expiration = None if expiration_ms is None else str(expiration_ms)
        self._props = pika.BasicProperties(delivery_mode=mode, expiration=self._expiration)
        self._publish = channel.basic_publish
        if window is not None:
            channel.confirm_delivery(ack_nack_callback=self._confirmed)
        if mandatory:
            channel.add_on_return_callback(self._returned)

    def publish(self, seq: int, attempt: int, ts_ns: int) -> None:
        body = wire.pack(self.kind, self.client_index, seq, attempt, ts_ns, self.payload)
        if self.reply_to is None:
            props = self._props
        else:  # request styles: reply_to + correlation_id (the message ID, same on every attempt)
            props = pika.BasicProperties(delivery_mode=self._delivery_mode, reply_to=self.reply_to,
                                         correlation_id=str(seq), expiration=self._expiration)
        self._publish(self.exchange, self.routing_key, body, props, self.mandatory)
        if self.window is not None:
            self.window.add(seq, attempt, ts_ns)

    # -- broker callbacks ------------------------------------------------------------
    def _confirmed(self, frame: Any) -> None:
        method = frame.method
        window = self.window
        if window is None:
            return
        settled = window.settle(method.delivery_tag, method.multiple)
        if isinstance(method, pika.spec.Basic.Ack):
            returned = window.returned
            for item in settled:
                if returned and item[0] in returned:
                    returned.discard(item[0])  # counted as unroutable already
                    continue
                self._on_ack(item)
        else:
            for item in settled:
                self._on_nack(item)

    def _returned(self, _channel: Any, _method: Any, _props: Any, body: bytes) -> None:
        try:
            seq = wire.unpack(body)[4]
        except wire.WireError:
            return
        if self.window is not None:
            self.window.returned.add(seq)
        self._on_return(seq)

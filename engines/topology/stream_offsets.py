"""Where a stream consumer starts or re-reads from: the one syntax, checked with a clear message.

`first`, `last`, `next` (RabbitMQ's names), an offset (`120`), or a time on
the run's clock (`time:2.5s`: seconds since the clients started). The node
side (engines.transports.amqp_streams) turns them into x-stream-offset.
"""

from __future__ import annotations

import re

PATTERN = r"^(first|last|next|\d+|time:\d+(\.\d+)?s)$"


def check(value: str) -> str:
    """The value, or ValueError saying what a stream offset may be."""
    if not re.match(PATTERN, value):
        raise ValueError(f"'{value}' is not a stream offset: use first, last, next, a number (an "
                         "offset in the stream) or time:<seconds>s on the run's clock (e.g. time:2.5s)")
    return value

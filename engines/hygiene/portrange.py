"""Where the lab's listening ports come from: below the kernel's ephemeral range.

A port found by binding port 0 comes from the ephemeral range, which the kernel
also hands out as the source port of every outgoing connection. Between the
moment the lab picks a port and the moment a node binds it (or binds it again
after a restart, seconds later), any `connect()` on the machine may take it,
and the node then fails with "address in use" (a RabbitMQ node refuses to boot
with `dist_port_already_used`). The kernel never hands out ports below that
range on its own, so the lab picks its listening ports there, at random, and
checks each one by binding it.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from pathlib import Path

PROC_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
DEFAULT_EPHEMERAL = (32768, 60999)  # Linux's default
LOWEST = 10000  # below: well-known and registered services people run by hand
SPAN = 20000  # how far below the ephemeral range the lab looks


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for automatic ports (Linux's default where it cannot be read)."""
    try:
        low, high = (int(x) for x in PROC_RANGE.read_text().split()[:2])
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL
    return low, high


def lab_range() -> tuple[int, int]:
    """[low, high): the ports the lab picks from; empty if the ephemeral range starts too low."""
    high = ephemeral_range()[0]
    return max(LOWEST, high - SPAN), high


def candidates(rng: random.Random | None = None) -> Iterator[int]:
    """Ports to try, in random order (two runs starting at once rarely try the same one first).
    Yields 0 (let the kernel choose) when the machine leaves no room below its ephemeral range."""
    low, high = lab_range()
    if high - low < 1000:
        while True:
            yield 0
    pick = rng or random.SystemRandom()
    while True:
        yield pick.randrange(low, high)


def bind_free(host: str, port: int) -> int | None:
    """The port if nothing holds it on `host` now (0 asks the kernel), else None."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if port == 0:
                raise
            if exc.errno in (98, 13):  # EADDRINUSE, EACCES
                return None
            raise
        return int(sock.getsockname()[1])

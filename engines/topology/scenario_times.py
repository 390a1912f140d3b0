"""When a step given as "after N messages" will happen, estimated from the clients' rates.

The scheduler fires such a step once the clients together have sent N messages
(engines.runtime.scheduler). The timeline editor draws it where that should be:
every client sends at its `rate` from the run clock's zero until its `count` is
sent or its `duration_s` is over. A client at rate 0 (as fast as it can) has no such time: then there is no
estimate (None), and the editor says so instead of guessing.
"""

from __future__ import annotations

from engines.topology.model import Topology


def _senders(topology: Topology) -> list[tuple[float, float | None]] | None:
    """(rate, seconds until its count is sent or None) per client; None if a rate is unknown."""
    out: list[tuple[float, float | None]] = []
    for client in topology.clients():
        if client.rate <= 0:
            return None
        ends = [client.count / client.rate] if client.count is not None else []
        ends += [client.duration_s] if client.duration_s is not None else []
        out.append((client.rate, min(ends) if ends else None))
    return out or None


def time_of_message(topology: Topology, n: int) -> float | None:
    """Seconds on the run clock at which the clients together have sent `n` messages."""
    senders = _senders(topology)
    if senders is None:
        return None
    ends = sorted({end for _rate, end in senders if end is not None})
    t, sent = 0.0, 0.0
    for end in [*ends, None]:
        rate = sum(r for r, e in senders if e is None or e > t)
        if rate <= 0:
            return None  # everyone is done before the n-th message
        if end is None or sent + rate * (end - t) >= n:
            return t + (n - sent) / rate
        sent += rate * (end - t)
        t = end
    return None


def messages_at(topology: Topology, t: float) -> int | None:
    """Messages the clients together have sent by `t` seconds (at least 1), or None."""
    senders = _senders(topology)
    if senders is None:
        return None
    sent = sum(rate * (min(t, end) if end is not None else t) for rate, end in senders)
    return max(1, round(sent))

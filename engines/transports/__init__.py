"""Transports: one small interface for ZeroMQ, HTTP and RabbitMQ.

The contract
============

A *driver* moves the lab's messages over one transport in one interaction
style for one role. Drivers are plain functions registered under
(transport, style, role):

    from engines.transports import register
    from engines.transports.base import ClientContext, ServiceContext, Inbound, ZMQ_ROUTER

    @register("zmq", "request-response", "client")
    def run_req(ctx: ClientContext) -> None: ...

    @register("zmq", "request-response", "service", listens=(ZMQ_ROUTER,), group="zmq-router")
    def run_router(ctx: ServiceContext, inbound: list[Inbound]) -> None: ...

A new transport adds modules named `engines/transports/<transport>_*.py`
(e.g. `amqp_client.py`, `amqp_service.py`) that call `register` at import;
`driver`, `known` and `acknowledges` import only the modules of the transport
asked about (a zmq node never loads pika, asyncio, ssl or the HTTP modules:
about a third of a node's start-up), and `load_all()` imports them all, so
nothing else changes.

Client driver `run(ctx)`:
  - loop `for seq in ctx.pacer.take(n)` (an empty range means: no more to
    send: count reached, duration over, or stop); send each message as
    `engines.transports.wire.pack(kind, ctx.client_index, seq, attempt, monotonic_ns(), ctx.payload)`;
    a retry or resend keeps `seq` and raises `attempt`;
  - record on `ctx.recorder`: `sent(seq)` or `sent_range(first, n)` before the
    first send, `retry(seq)` before each resend, then `reply(seq, ts_ns, peer)`,
    `ack(seq, ts_ns)`, `confirm(seq, ts_ns)`, `nack(seq)`, `timeout(seq)`,
    `error(seq, kind)` (kind: "refused", "reset", "http-5xx", "malformed"...),
    `gave_up(seq)`, `in_doubt(seq)`, `count(name)` for anything else. These
    write into a memory-mapped file, so even a SIGKILLed client keeps what it
    recorded; never log per message;
  - return when done (outstanding requests answered, timed out or given up),
    or soon after `ctx.stop` is set. Raise `GiveUp("why")` to abandon the run
    with a clear error (Lazy Pirate after its retries). Never block forever
    without checking `ctx.stop` at least every 100 ms.

Service driver `run(ctx, inbound)` (one call per `group`, with the inbound
streams of that group):
  - bind `ctx.listen[<listener>]` or connect to `inbound[i].publisher` /
    `inbound[i].broker_url`, then call `ctx.ready()` (the node reports ready
    to the supervisor when every group has; `join_after_ms` is applied by the
    node before `run` is called);
  - turn what arrives into `engines.transports.base.Delivery` tuples and call
    `ctx.handler.handle_batch(deliveries)` (or `handle(delivery)` from many
    threads). It does the processing time, the SQLite transaction (business
    row, PROCESSED_MESSAGES when idempotent, duplicates refused there) and the
    configured crash, so no transport reimplements idempotency. Only after it
    returns may the driver reply (`engines.transports.wire.reply_to(header, flags)`,
    FLAG_DUPLICATE for outcome DUPLICATE) or ack;
  - count transport-level events on `ctx.stats` (`count("replies_sent", n)`,
    `count("errors")`); deliveries are counted by the handler;
  - return soon after `ctx.stop` is set; commit nothing half way (the handler
    commits whole batches).

For amqp: a client's `ctx.peers[i]` is its broker (`broker_url` with the
run's credentials, `channel` = {"name", "publish", "durable", "queue_type",
"exchange_type", "routing_key", "broker"}); a service's `inbound[i]` names the
client it carries and the broker link's `broker_url` and `channel`. Put the
wire header in the message body, so a Delivery is `wire.unpack(body)` away;
`redelivered` comes from the broker's flag. Register with
`acknowledges=lambda config: config["confirms"]` for the one-way styles, where a
confirm is the only ack.

For mail: the smtp service driver (`smtp_service.py`) also serves its
Maildirs over IMAP (pymap as a child) when services read its mailbox; a
reader's `inbound[i]` has transport "imap", the mail service's IMAP address in
`publisher["imap"]` and its login in `channel` (`imap_reader.py`). aiosmtpd
and pysasl are imported inside the drivers, so loading them costs other nodes
only the standard library's smtplib, imaplib and asyncio.

Sockets: LINGER=0 on every ZeroMQ socket; listeners bind 127.0.0.1 (or the
node's `bind`). Per-message Python work stays near a microsecond or two: no
JSON, no dicts, no logging per message.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from typing import Any

from engines.transports.base import CLIENT, SERVICE, DriverInfo

__all__ = ["register", "driver", "drivers", "load", "load_all", "known", "acknowledges", "DriverInfo"]

_REGISTRY: dict[tuple[str, str, str], DriverInfo] = {}
_FAILED: dict[str, str] = {}  # module -> why it could not be imported
_LOADED: set[str] = set()  # transports whose modules were imported
_PREFIXES = ("zmq_", "http_", "amqp", "smtp_", "imap_")


def register(
    transport: str,
    style: str,
    role: str,
    *,
    listens: tuple[str, ...] = (),
    group: str = "",
    acknowledges: Callable[[Mapping[str, Any]], bool] | None = None,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Decorator: register `run` as the driver for (transport, style, role)."""
    if role not in (CLIENT, SERVICE):
        raise ValueError(f"role must be '{CLIENT}' or '{SERVICE}', not {role!r}")

    def wrap(run: Callable[..., None]) -> Callable[..., None]:
        key = (transport, style, role)
        info = DriverInfo(transport, style, role, run, tuple(listens),
                          group or f"{transport}:{style}",
                          acknowledges or (lambda config: True))
        previous = _REGISTRY.get(key)
        if previous is not None and previous.run is not run:
            raise ValueError(f"a driver for {key} is already registered ({previous.run.__module__})")
        _REGISTRY[key] = info
        return run

    return wrap


def _modules(transport: str | None) -> list[str]:
    """This package's modules of one transport (`<transport>_*.py`), or of every transport."""
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith(_PREFIXES)]
    if transport is None:
        return names
    return [n for n in names if n.split("_", 1)[0] == transport]


def load(transport: str) -> None:
    """Import the modules of one transport only, so each registers its drivers."""
    if transport in _LOADED:
        return
    for name in _modules(transport):
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ImportError as exc:  # e.g. pika missing: the other transports still work
            _FAILED[name] = str(exc)
    _LOADED.add(transport)


def load_all() -> None:
    """Import every transport module of this package, so each registers its drivers."""
    for name in _modules(None):
        load(name.split("_", 1)[0])


def driver(transport: str, style: str, role: str) -> DriverInfo:
    """The driver for (transport, style, role); KeyError with what exists if none."""
    load(transport)
    try:
        return _REGISTRY[(transport, style, role)]
    except KeyError:
        load_all()  # the error lists every driver there is
        have = ", ".join("/".join(k) for k in sorted(_REGISTRY)) or "none"
        failed = "".join(f"; {name} failed to import: {why}" for name, why in _FAILED.items())
        raise KeyError(f"no {role} driver for {style} over {transport} (drivers: {have}{failed})") from None


def known(transport: str, style: str, role: str) -> bool:
    load(transport)
    return (transport, style, role) in _REGISTRY


def drivers() -> dict[tuple[str, str, str], DriverInfo]:
    load_all()
    return dict(_REGISTRY)


def acknowledges(transport: str, style: str, config: Mapping[str, Any]) -> bool:
    """Whether a client of this kind learns that the system has each message."""
    if not known(transport, style, CLIENT):
        return False
    return bool(_REGISTRY[(transport, style, CLIENT)].acknowledges(config))

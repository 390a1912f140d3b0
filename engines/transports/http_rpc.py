"""HTTP: request/response (POST, client blocks), async request/response (concurrent POSTs),
notification (POST, 202 Accepted).

Server: the standard library's ThreadingHTTPServer, HTTP/1.1 keep-alive and
Nagle off (with Nagle on, every request costs 44 ms: PERFORMANCE.md). Each
request thread hands its delivery to the shared handler, which group-commits
concurrent requests; the response goes out only after the commit. 202 is
sent after the commit too, so an acknowledged notification is a durable one.

Client: http.client with TCP_NODELAY and keep-alive, a timeout per request,
and retries of the same message ID with an `Idempotency-Key: client:seq`
header. A keyed idempotent service deduplicates by that key; a service that
gets no key cannot know a retry from a new order. After a timeout the client
resends at once (the timeout was the wait); after a refused or reset
connection it backs off (timeout_ms, doubling, at most 5 s) so its retries
span a service restart.

The server is a loopback port any local process can write to: every request
that is not one of the lab's (bad request line or headers, another method or
path, a missing, bad or oversized Content-Length, a body that is not exactly
one message of a kind and client this service takes, a malformed key) gets a
4xx answer and is counted in the service's `errors`; none reaches the
database, and none can stop the server.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from engines.transports import register, wire
from engines.transports.base import (
    DUPLICATE,
    HTTP,
    ClientContext,
    Delivery,
    DownstreamFailed,
    Inbound,
    ServiceContext,
)

PATH = "/messages"
MAX_BODY = 17 * 1024 * 1024  # the largest payload a topology allows (16 MiB) and its header
MAX_BACKOFF_S = 5.0
OK, TIMED_OUT, FAILED, STOPPED = range(4)


class Connection:
    """One keep-alive connection to one service, reopened after any failure."""

    def __init__(self, address: str, timeout_s: float) -> None:
        host, _, port = address.rpartition(":")
        self.host, self.port, self.timeout_s = host, int(port), timeout_s
        self.conn: http.client.HTTPConnection | None = None

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.conn = conn
        self.conn.request("POST", PATH, body, headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def exchange(ctx: ClientContext, conn: Connection, kind: int, seq: int, attempt: int,
              peer: int) -> int:
    """One POST of one attempt; records its outcome; returns OK, TIMED_OUT or FAILED."""
    cfg, rec = ctx.config, ctx.recorder
    ts = time.monotonic_ns()
    body = wire.pack(kind, ctx.client_index, seq, attempt, ts, ctx.payload)
    headers = {"Content-Type": "application/octet-stream"}
    if cfg.idempotency_key:
        headers["Idempotency-Key"] = f"{cfg.name}:{seq}"
    try:
        status, data = conn.post(body, headers)
    except TimeoutError:
        conn.close()
        rec.timeout(seq)
        return TIMED_OUT
    except ConnectionRefusedError:
        conn.close()
        rec.error(seq, "refused")
        return FAILED
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected,
            http.client.IncompleteRead):
        conn.close()
        rec.error(seq, "reset")
        return FAILED
    except (OSError, http.client.HTTPException):
        conn.close()
        rec.error(seq, "connection")
        return FAILED
    if 200 <= status < 300:
        if data:
            try:
                header = wire.unpack(data)
            except wire.WireError:
                rec.error(seq, "malformed")
                return FAILED
            rec.reply(seq, header[5], peer)
        else:
            rec.ack(seq, ts)
        return OK
    rec.error(seq, "http")
    return FAILED


def _deliver(ctx: ClientContext, conns: list[Connection], kind: int, seq: int) -> None:
    """Send one message until answered, retried out, or stopped."""
    cfg, rec = ctx.config, ctx.recorder
    peer = seq % len(conns)
    rec.sent(seq)
    attempt = 0
    while True:
        outcome = exchange(ctx, conns[peer], kind, seq, attempt, peer)
        if outcome == OK or ctx.stop.is_set():
            return
        if attempt >= cfg.retries:
            rec.gave_up(seq)
            return
        if outcome == FAILED:  # refused or reset: give the service time to come back
            backoff = min(cfg.timeout_ms / 1000.0 * 2 ** attempt, MAX_BACKOFF_S)
            if ctx.stop.wait(backoff):
                return
        attempt += 1
        rec.retry(seq)
        ctx.log.warning("HTTP: %s %s:%d; resending %s (retry %d of %d)",
                        f"no answer within {cfg.timeout_ms} ms to" if outcome == TIMED_OUT
                        else "connection refused or reset for", cfg.name, seq,
                        "with the same Idempotency-Key" if cfg.idempotency_key else "without an Idempotency-Key",
                        attempt, cfg.retries)


def _sender(ctx: ClientContext, kind: int) -> None:
    conns = [Connection(p.endpoints[HTTP], ctx.config.timeout_ms / 1000.0) for p in ctx.peers]
    try:
        while not ctx.stop.is_set():
            seqs = ctx.pacer.take(1)
            if not seqs:
                return
            _deliver(ctx, conns, kind, seqs[0])
    finally:
        for conn in conns:
            conn.close()


@register("http", "request-response", "client")
def run_request(ctx: ClientContext) -> None:
    _sender(ctx, wire.REQUEST)


@register("http", "notification", "client")
def run_notify(ctx: ClientContext) -> None:
    _sender(ctx, wire.NOTIFY)


@register("http", "async-request-response", "client")
def run_concurrent(ctx: ClientContext) -> None:
    """`in_flight` threads, each with its own keep-alive connection, sharing the pacer."""
    threads = [threading.Thread(target=_sender, args=(ctx, wire.REQUEST), name=f"http-{i}", daemon=True)
               for i in range(ctx.config.in_flight)]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.2)


def _decimal(text: str) -> bool:
    """ASCII digits only: `str.isdigit` also says yes to '²' (Latin-1 superscripts), which
    `int` refuses, and headers arrive decoded as Latin-1."""
    return text.isascii() and text.isdigit()


def _message_key(key: str, clients: Mapping[str, int], allowed: set[int]) -> tuple[int, int] | None:
    """'client:seq' of a client that sends here, with seq in range; None if malformed."""
    name, _, number = key.rpartition(":")
    if clients.get(name) not in allowed or not _decimal(number) or len(number) > 10:
        return None
    seq = int(number)
    return (clients[name], seq) if seq <= wire.MAX_SEQ else None


def _handler_class(ctx: ServiceContext, inbound: list[Inbound]) -> type[BaseHTTPRequestHandler]:
    handler, stats, clients = ctx.handler, ctx.stats, ctx.clients
    stamps = {ib.client_index: ib.peer_index.to_bytes(2, "little") for ib in inbound}
    allowed = set(stamps)
    reply = ctx.config.reply

    class LabHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        disable_nagle_algorithm = True

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """Every protocol error the stdlib answers (bad request line, method...) is counted."""
            stats.count("errors")
            super().send_error(code, message, explain)

        def _refuse(self, status: int) -> None:
            stats.count("errors")
            self.close_connection = True  # what follows on this connection cannot be trusted
            self._send(status, b"")

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            try:
                self._post()
            except (ValueError, UnicodeError, LookupError):  # hostile input we did not foresee
                self._refuse(400)

        def _post(self) -> None:
            text = self.headers.get("Content-Length", "")
            if self.path != PATH or not _decimal(text) or len(text) > 10:
                self._refuse(400)
                return
            if int(text) > MAX_BODY:
                self._refuse(413)
                return
            body = self.rfile.read(int(text))
            try:
                heads = list(wire.iter_headers(body))
            except wire.WireError:
                heads = []
            if len(heads) != 1 or heads[0][0] not in (wire.REQUEST, wire.NOTIFY) or heads[0][2] not in allowed:
                self._refuse(400)
                return
            h = heads[0]
            key = self.headers.get("Idempotency-Key")
            client, seq, keyed = h[2], h[4], False
            if key:  # the key IS the message ID: 'client:seq'
                found = _message_key(key, clients, allowed)
                if found is None:
                    self._refuse(400)
                    return
                (client, seq), keyed = found, True
            try:
                outcome = handler.handle(Delivery(client, seq, h[3], False, h[5], keyed))
            except DownstreamFailed:  # a call inside the handling failed; nothing committed
                stats.count("downstream_failed")
                self._send(502, b"")
                return
            except Exception:  # noqa: BLE001 - answered and counted; the server goes on
                ctx.log.exception("request failed")
                try:
                    self._refuse(500)
                finally:
                    handler.answered()
                return
            try:
                if h[0] == wire.NOTIFY:
                    self._send(202, b"")
                elif reply:
                    flags = wire.FLAG_DUPLICATE if outcome == DUPLICATE else 0
                    self._send(200, wire.reply_to(h, flags, stamps.get(h[2], b"")))
                    stats.count("replies_sent")
                else:
                    self._send(204, b"")
                self.wfile.flush()
            finally:  # a crash due next waits for this answer (Handler.answered)
                handler.answered()

        def _send(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # no per-request logging on the hot path

    return LabHandler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


@register("http", "request-response", "service", listens=(HTTP,), group="http")
@register("http", "async-request-response", "service", listens=(HTTP,), group="http")
@register("http", "notification", "service", listens=(HTTP,), group="http")
def run_server(ctx: ServiceContext, inbound: list[Inbound]) -> None:
    host, _, port = ctx.listen[HTTP].rpartition(":")
    server = _Server((host, int(port)), _handler_class(ctx, inbound))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="http-server", daemon=True)
    thread.start()
    ctx.ready()
    try:
        ctx.stop.wait()
    finally:
        server.shutdown()
        server.server_close()

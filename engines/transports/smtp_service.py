"""The mail service: a real SMTP server (aiosmtpd) that commits each mail before its 250.

For each mail, in this order: parse the lab's Message-ID, write the mail into
`tmp/` of every mailbox, run the handler (business row and, when idempotent,
PROCESSED_MESSAGES keyed by the Message-ID, in one commit), move the mail to
`new/` (or drop it, when PROCESSED_MESSAGES refused it as a duplicate: the
mailbox has it already), and only then answer `250` to DATA. A service
killed after the commit and before the `250` is RFC 1047's duplicate window:
the sender resends, and only the Message-ID tells the retry from a new mail.

When services read its mailbox, the mail service also starts pymap, an IMAP4rev1
server, on its `imap` listener (engines.transports.mailbox_server) and reports
the unseen mails of its slowest reader as `mailbox_unseen`, like a queue depth.

The SMTP port is a loopback port any local process can write to: every
answer of class 4xx or 5xx (a malformed command, a command out of order, a
line too long, a mail that is not the lab's) is counted in `errors`; aiosmtpd
answers them, none reaches the database, and none stops the server.
aiosmtpd and pymap are imported only here, in the node that runs them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from engines.transports import mailbox_server, maildirs, register
from engines.transports.base import DUPLICATE, IMAP, SMTP, Delivery, Inbound, ServiceContext

MAX_DATA = 24 * 1024 * 1024  # 16 MiB of payload in base64 and its headers
POLL_S = 0.1
DEPTH_EVERY_S = 0.5


def _headers(data: bytes) -> dict[str, str]:
    """The few headers the lab reads, from the head of a mail (bytes, any line ending)."""
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    wanted = {b"message-id", b"x-lab-attempt", b"x-lab-sent-ns"}
    found: dict[str, str] = {}
    for line in head.split(b"\n"):
        name, sep, value = line.partition(b":")
        key = name.strip().lower()
        if sep and key in wanted and key.decode() not in found:
            found[key.decode()] = value.strip().decode("ascii", "replace")
    return found


def parse_mail(data: bytes, clients: Mapping[str, int], allowed: set[int]) -> Delivery | None:
    """The delivery a lab mail carries; None for a mail that is not one of this service's."""
    h = _headers(data)
    mid = maildirs.parse_message_id(h.get("message-id", ""))
    attempt, sent = h.get("x-lab-attempt", ""), h.get("x-lab-sent-ns", "")
    if mid is None or not attempt.isdigit() or not sent.isdigit() or len(attempt) > 5 or len(sent) > 20:
        return None
    client = clients.get(mid[0])
    if client is None or client not in allowed or mid[1] > 0xFFFFFFFF:
        return None
    return Delivery(client, mid[1], min(int(attempt), 0xFFFF), 0, int(sent), True)


class _MailHandler:
    """aiosmtpd's handler: the commit, then the mailbox, then the answer."""

    def __init__(self, ctx: ServiceContext, boxes: list[Path], allowed: set[int],
                 pool: ThreadPoolExecutor) -> None:
        self.ctx, self.boxes, self.allowed, self.pool = ctx, boxes, allowed, pool

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        data: bytes = envelope.original_content or b""
        delivery = parse_mail(data, self.ctx.clients, self.allowed)
        if delivery is None:
            return "550 5.6.0 Not a lab mail for this service (Message-ID, X-Lab-Attempt, X-Lab-Sent-Ns)"
        # One job in a worker thread, from the mailbox's tmp/ to its new/: aiosmtpd cancels this
        # coroutine when the session is cut (a client's timeout, a cut link), and the job runs on
        # to the end. Awaiting its steps one by one left a mail committed but never published when
        # the cut came during the commit, and the client's retry was then refused as a duplicate.
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._deliver, delivery, data)

    def _deliver(self, delivery: Delivery, data: bytes) -> str:
        """The mail into tmp/ of every mailbox, the commit, then new/ (or gone): the answer."""
        paths: list[Path] = []
        try:
            paths = maildirs.write_tmp(self.boxes, data)
            outcome = self.ctx.handler.handle(delivery)
        except Exception:  # noqa: BLE001 - answered and counted; the server goes on
            self.ctx.log.exception("mail not committed")
            maildirs.discard(paths)  # not in the database: not in the mailbox either
            return "451 4.3.0 Mail not committed, try again later"
        if outcome == DUPLICATE:
            maildirs.discard(paths)
            return "250 2.0.0 Already delivered (duplicate Message-ID)"
        maildirs.publish(paths)
        return "250 2.0.0 Delivered"


def _server_class(stats: Any) -> Any:
    from aiosmtpd.smtp import SMTP as Smtp  # imported only in a mail service

    class CountingSmtp(Smtp):
        """Counts every 4xx and 5xx answer in the service's errors."""

        async def push(self, status: Any) -> None:
            text = status if isinstance(status, bytes) else str(status).encode("ascii", "replace")
            if text[:1] in (b"4", b"5"):
                stats.count("errors")
            await super().push(status)

    return CountingSmtp


def _mailboxes(inbound: list[Inbound]) -> dict[str, str]:
    boxes: dict[str, str] = {}
    for stream in inbound:
        boxes.update(dict((stream.channel or {}).get("mailboxes", {})))
    return boxes


def _watch_depth(ctx: ServiceContext, boxes: list[Path]) -> None:
    """`mailbox_unseen`: the slowest reader's mails not yet flagged \\Seen (a gauge in a counter)."""
    shown = 0
    while not ctx.stop.wait(DEPTH_EVERY_S):
        depth = max(maildirs.unseen(box) for box in boxes)
        if depth != shown:
            ctx.stats.count("mailbox_unseen", depth - shown)
            shown = depth


async def _serve(ctx: ServiceContext, handler: _MailHandler) -> None:
    host, _, port = ctx.listen[SMTP].rpartition(":")
    server_class = _server_class(ctx.stats)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: server_class(handler, hostname=maildirs.DOMAIN, ident="Topology Lab mail service",
                             data_size_limit=MAX_DATA, loop=loop),
        host=host, port=int(port), reuse_address=True)
    ctx.ready()
    try:
        while not ctx.stop.is_set():
            await asyncio.sleep(POLL_S)
    finally:
        server.close()
        try:  # a session still open (a client that never quits) must not hold the stop
            await asyncio.wait_for(server.wait_closed(), timeout=2.0)
        except asyncio.TimeoutError:
            ctx.log.info("SMTP sessions still open at stop: closed with the process")


@register("smtp", "notification", "service", listens=(SMTP,), group="smtp")
def run_mail_service(ctx: ServiceContext, inbound: list[Inbound]) -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO
    base = (ctx.node_dir or Path(".")) / "mail"
    mailboxes = _mailboxes(inbound)
    boxes = maildirs.prepare(base, mailboxes)
    clients, handler = ctx.clients, ctx.handler
    published, dropped = maildirs.recover(
        boxes, lambda name, seq: name in clients and handler.committed(clients[name], seq),
        once=ctx.config.idempotent)
    if published or dropped:
        ctx.log.info("mailbox recovery: %d committed mails published, %d uncommitted dropped",
                     published, dropped)
    imap = None
    if IMAP in ctx.listen and mailboxes:
        host, _, port = ctx.listen[IMAP].rpartition(":")
        imap = mailbox_server.start(host, int(port), base, base.parent / "imap.log",
                                    Path(mailbox_server.__file__).resolve().parents[2])
    depth = threading.Thread(target=_watch_depth, args=(ctx, boxes), name="mailbox-depth", daemon=True)
    depth.start()
    allowed = {stream.client_index for stream in inbound}
    pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="mail")
    try:
        asyncio.run(_serve(ctx, _MailHandler(ctx, boxes, allowed, pool)))
    finally:
        pool.shutdown(wait=True)
        if imap is not None:
            mailbox_server.stop(imap)

"""A mailbox reader: a service that polls a mail service's IMAP server (imaplib).

The loop is the one a mail-processing program runs: SEARCH UNSEEN, FETCH the
headers with BODY.PEEK (a plain BODY[] fetch would set \\Seen by itself),
process the mails through the handler (the reader's own SQLite: business
row and, when idempotent, PROCESSED_MESSAGES keyed by the Message-ID), and
only after that commit STORE +FLAGS \\Seen, IMAP's acknowledgement. A
reader killed between its commit and \\Seen finds the mails unseen again in
its next life: an idempotent reader refuses them through PROCESSED_MESSAGES,
a naive one processes them twice.

Each reader has its own mailbox (an IMAP user) on each mail service it is
linked from, so two readers never hide mail from each other. A mail that is
not the lab's is counted in `errors` and flagged \\Seen, so it is never read
again and never processed.
"""

from __future__ import annotations

import imaplib
import threading
from dataclasses import dataclass
from typing import Any

from engines.transports import register
from engines.transports.base import IMAP, Delivery, Inbound, ServiceContext
from engines.transports.smtp_service import parse_mail

POLL_S = 0.2  # between rounds that found nothing: each round is a SELECT and a SEARCH
RECONNECT_S = 0.5
MIN_BATCH = 100
TIMEOUT_S = 30.0  # one IMAP command; pymap is slow on a loaded machine
READY_AFTER_S = 25.0  # report ready anyway: the mailbox may come up later (it is polled)
FIELDS = "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID X-LAB-ATTEMPT X-LAB-SENT-NS)])"


@dataclass(frozen=True)
class Mailbox:
    """Where one reader's mail from one mail service is, and its login."""

    service: str
    host: str
    port: int
    user: str
    password: str


def mailboxes(inbound: list[Inbound]) -> list[Mailbox]:
    """One mailbox per mail service this reader is linked from (streams of many clients share it)."""
    found: dict[str, Mailbox] = {}
    for stream in inbound:
        channel = stream.channel or {}
        host, _, port = stream.publisher[IMAP].rpartition(":")
        found.setdefault(str(channel["mail_service"]), Mailbox(
            str(channel["mail_service"]), host, int(port), str(channel["user"]),
            str(channel["password"])))
    return list(found.values())


def _ok(result: tuple[str, Any], what: str) -> list[Any]:
    typ, data = result
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{what} answered {typ}: {data!r}")
    return list(data)


def _fetched(data: list[object]) -> list[tuple[bytes, bytes]]:
    """(uid, header bytes) pairs from imaplib's FETCH answer."""
    out = []
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            meta, body = item
            words = bytes(meta).replace(b"(", b" ").split()
            if b"UID" in words and words.index(b"UID") + 1 < len(words):
                out.append((words[words.index(b"UID") + 1], bytes(body)))
    return out


class _Reader:
    """One mailbox, polled by one thread: search, fetch, commit, then \\Seen."""

    def __init__(self, ctx: ServiceContext, box: Mailbox, allowed: set[int],
                 ready: threading.Event) -> None:
        self.ctx, self.box, self.allowed, self.ready = ctx, box, allowed, ready
        self.timeout_s = TIMEOUT_S

    def run(self) -> None:
        while not self.ctx.stop.is_set():
            conn: imaplib.IMAP4 | None = None
            try:
                conn = imaplib.IMAP4(self.box.host, self.box.port, timeout=self.timeout_s)
                _ok(conn.login(self.box.user, self.box.password), "LOGIN")
                _ok(conn.select("INBOX"), "SELECT")
                self.ready.set()
                self._poll(conn)
            except (OSError, imaplib.IMAP4.error, imaplib.IMAP4.abort) as exc:
                self.ctx.stats.count("reconnects")
                self.ctx.log.info("mailbox %s@%s: %s; reconnecting", self.box.user, self.box.service, exc)
                self.ctx.stop.wait(RECONNECT_S)
            finally:
                if conn is not None:
                    try:
                        conn.logout()
                    except (OSError, imaplib.IMAP4.error, imaplib.IMAP4.abort):
                        pass

    def _poll(self, conn: imaplib.IMAP4) -> None:
        batch = max(self.ctx.max_batch(), MIN_BATCH)  # a round costs several commands: take many
        while not self.ctx.stop.is_set():
            # SELECT again each round: pymap writes \Seen to the Maildir at once only for
            # mails it knew at SELECT (for newer ones it keeps the flag in memory until later).
            # Its [UNSEEN n] answer is the first unseen mail: searching from there keeps the
            # SEARCH short (pymap reads every mail of the range it searches).
            _ok(conn.select("INBOX"), "SELECT")
            first = conn.untagged_responses.get("UNSEEN", [b""])[0]
            uids: list[bytes] = []
            if isinstance(first, bytes) and first.isdigit():
                found = _ok(conn.uid("SEARCH", f"{int(first)}:*", "UNSEEN"), "SEARCH")
                uids = bytes(found[0] or b"").split() if found else []
            if not uids:
                self.ctx.stop.wait(POLL_S)
                continue
            self._read(conn, uids[:batch])

    def _read(self, conn: imaplib.IMAP4, uids: list[bytes]) -> None:
        data = _ok(conn.uid("FETCH", b",".join(uids).decode(), FIELDS), "FETCH")
        deliveries: list[Delivery] = []
        for _uid, head in _fetched(data):
            delivery = parse_mail(head, self.ctx.clients, self.allowed)
            if delivery is None:
                self.ctx.stats.count("errors")  # not a lab mail: flagged \Seen below, never processed
            else:
                deliveries.append(delivery)
        if deliveries:
            self.ctx.handler.handle_batch(deliveries)  # the commit (and a configured crash)
        _ok(conn.uid("STORE", b",".join(uids).decode(), "+FLAGS.SILENT", r"(\Seen)"), "STORE")
        self.ctx.stats.count("seen_set", len(uids))


def _allowed(inbound: list[Inbound]) -> dict[str, set[int]]:
    allowed: dict[str, set[int]] = {}
    for stream in inbound:
        allowed.setdefault(str((stream.channel or {})["mail_service"]), set()).add(stream.client_index)
    return allowed


@register("imap", "notification", "service", group="imap")
def run_reader(ctx: ServiceContext, inbound: list[Inbound]) -> None:
    boxes = mailboxes(inbound)
    allowed = _allowed(inbound)
    events = [threading.Event() for _ in boxes]
    threads = [threading.Thread(target=_Reader(ctx, box, allowed[box.service], ev).run,
                                name=f"imap-{box.service}", daemon=True)
               for box, ev in zip(boxes, events, strict=True)]
    for thread in threads:
        thread.start()
    waited = 0.0
    while not all(ev.is_set() for ev in events) and waited < READY_AFTER_S and not ctx.stop.is_set():
        ctx.stop.wait(0.1)
        waited += 0.1
    ctx.ready()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.2)

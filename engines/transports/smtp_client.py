"""SMTP client: one-way notification as mail, with the standard library's smtplib.

Each message is one mail (MAIL FROM, RCPT TO, DATA) whose `Message-ID` is
the lab's message ID (`<client.seq@topology-lab>`, the same on every retry)
and whose `X-Lab-Attempt` and `X-Lab-Sent-Ns` headers carry the attempt and
the send time. The server's `250` to DATA is the acknowledgement: the mail
service answers it only after its commit.

RFC 1047's duplicate window: when the connection dies or times out after the
whole mail went out (the final "." sent) and before the `250`, the client
cannot know whether the server has the mail. It records the message as in
doubt (`resent_in_doubt`) and sends it again: the recipient then holds it
twice unless it deduplicates by Message-ID.

Replies are counted by class: a 4xx is temporary (retried, with the same
back-off as a refused connection), a 5xx permanent (never retried).
Connection failures (refused, reset, timed out) are retried up to `retries`.
"""

from __future__ import annotations

import base64
import smtplib
import time
from dataclasses import dataclass
from typing import Any

from engines.transports import register
from engines.transports.base import SMTP, ClientContext, Peer
from engines.transports.maildirs import DOMAIN, message_id

MAX_BACKOFF_S = 5.0
OK, FAILED, PERMANENT = range(3)


class _Smtp(smtplib.SMTP):
    """smtplib.SMTP that notes when the end of DATA went out (the in-doubt window opens)."""

    data_out = False

    def send(self, s: Any) -> None:
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.data_out = True


@dataclass
class _Mailer:
    """One SMTP session to one mail service, reopened after any failure."""

    host: str
    port: int
    sender: str
    recipient: str
    timeout_s: float
    conn: _Smtp | None = None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
            self.conn = None

    def open(self) -> _Smtp:
        if self.conn is None:
            self.conn = _Smtp(self.host, self.port, local_hostname=DOMAIN, timeout=self.timeout_s)
        return self.conn


def _mailer(ctx: ClientContext, peer: Peer) -> _Mailer:
    host, _, port = peer.endpoints[SMTP].rpartition(":")
    return _Mailer(host, int(port), f"{ctx.config.name}@{DOMAIN}", f"{peer.name}@{DOMAIN}",
                   ctx.config.timeout_ms / 1000.0)


def _body(payload: bytes) -> bytes:
    """The payload as a base64 body in 76-character lines (SMTP lines stay short)."""
    text = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    return text or b"\r\n"


def _mail(ctx: ClientContext, mailer: _Mailer, seq: int, attempt: int, ts: int, body: bytes) -> bytes:
    name = ctx.config.name
    return (f"From: {mailer.sender}\r\nTo: {mailer.recipient}\r\n"
            f"Subject: Order confirmation {name}:{seq}\r\n"
            f"Message-ID: {message_id(name, seq)}\r\nX-Lab-Attempt: {attempt}\r\n"
            f"X-Lab-Sent-Ns: {ts}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            ).encode("ascii") + body


def _exchange(ctx: ClientContext, mailer: _Mailer, seq: int, attempt: int, body: bytes) -> int:
    """One attempt of one mail; records its outcome; returns OK, FAILED or PERMANENT."""
    rec = ctx.recorder
    ts = time.monotonic_ns()
    conn: _Smtp | None = None
    try:
        conn = mailer.open()
        conn.data_out = False
        conn.sendmail(mailer.sender, [mailer.recipient], _mail(ctx, mailer, seq, attempt, ts, body))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        return _refused(ctx, mailer, seq, codes[0] if codes else 550)
    except smtplib.SMTPResponseException as exc:
        return _refused(ctx, mailer, seq, exc.smtp_code)
    except (smtplib.SMTPServerDisconnected, OSError, smtplib.SMTPException) as exc:
        mailer.close()
        if conn is not None and conn.data_out:
            rec.in_doubt(seq)  # the whole mail went out; the 250 did not come back
        text = str(exc)
        if isinstance(exc, TimeoutError) or "timed out" in text:
            rec.timeout(seq)
        elif isinstance(exc, ConnectionRefusedError):
            rec.error(seq, "refused")
        elif isinstance(exc, (ConnectionResetError, BrokenPipeError, smtplib.SMTPServerDisconnected)):
            rec.error(seq, "reset")
        else:
            rec.error(seq, "connection")
        return FAILED
    rec.ack(seq, ts)  # 250 to DATA: the mail service has committed it
    return OK


def _refused(ctx: ClientContext, mailer: _Mailer, seq: int, code: int) -> int:
    """A 4xx (temporary, retried) or 5xx (permanent, not retried) answer to this mail."""
    if 400 <= code < 500:
        ctx.recorder.error(seq, "smtp-4xx")
        if code == 421:  # the server is closing the session
            mailer.close()
        return FAILED
    ctx.recorder.error(seq, "smtp-5xx")
    ctx.recorder.nack(seq)
    return PERMANENT


def _deliver(ctx: ClientContext, mailers: list[_Mailer], seq: int, body: bytes) -> None:
    """Send one mail until a 250, a 5xx, the retries' end, or stop."""
    cfg, rec = ctx.config, ctx.recorder
    mailer = mailers[seq % len(mailers)]
    rec.sent(seq)
    attempt = 0
    while True:
        outcome = _exchange(ctx, mailer, seq, attempt, body)
        if outcome in (OK, PERMANENT) or ctx.stop.is_set():
            return
        if attempt >= cfg.retries:
            rec.gave_up(seq)
            return
        backoff = min(cfg.timeout_ms / 1000.0 * 2 ** attempt, MAX_BACKOFF_S)
        if ctx.stop.wait(backoff):  # give a killed service time to come back
            return
        attempt += 1
        rec.retry(seq)


@register("smtp", "notification", "client")
def run_mail_client(ctx: ClientContext) -> None:
    mailers = [_mailer(ctx, peer) for peer in ctx.peers]
    body = _body(ctx.payload)
    try:
        while not ctx.stop.is_set():
            seqs = ctx.pacer.take(1)
            if not seqs:
                return
            _deliver(ctx, mailers, seqs[0], body)
    finally:
        for mailer in mailers:
            try:
                if mailer.conn is not None:
                    mailer.conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            mailer.close()

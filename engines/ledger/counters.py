"""The counters a run reports (DESIGN.md, "Counting, exactly"), with what each means.

One table shared by the ledger that computes them, the expectation grammar that
asserts over them, the report and the GUI's big counters.
"""

from __future__ import annotations

COUNTERS: dict[str, str] = {
    "sent": "distinct message IDs a client attempted",
    "acknowledged": "IDs the system told the client it has (reply, publisher confirm, HTTP 2xx)",
    "delivered": "deliveries seen by services, duplicates included",
    "processed": "distinct IDs whose business effect was committed",
    "duplicates_delivered": "delivered minus distinct IDs delivered",
    "duplicates_processed": "business effects applied more than once (double charges)",
    "duplicates_suppressed": "duplicates an idempotent consumer refused through PROCESSED_MESSAGES",
    "lost": "acknowledged (or, where nothing acknowledges, sent) but never processed",
    "in_doubt": "sent, not acknowledged, not processed: the client could not know",
    "redelivered": "deliveries the broker flagged as redelivered",
    "hostile": "messages a service committed whose ID no client sent (forged): never counted as delivered",
    "resent_in_doubt": "IDs resent after their answer was lost (the whole mail went out, no 250 came)",
    "stored": "mails a mail service holds in its Maildir (one per commit, duplicates included)",
    "read": "mails a reader fetched over IMAP and committed, reads again included",
    "timeouts": "requests or confirms the client gave up waiting for",
    "errors": "errors the client saw (refused, reset, nack, malformed)",
    "retries": "resends of an ID already sent",
    "replies": "replies received by clients",
    "confirms": "publisher confirms received",
    "nacks": "publisher negative acknowledgements received",
    "attempts": "sends including retries",
    "p50_latency_ms": "median round trip or delivery latency",
    "p90_latency_ms": "90th percentile latency",
    "p99_latency_ms": "99th percentile latency",
    "max_latency_ms": "largest latency seen",
    "throughput": "processed messages per second over the run",
    "duration_s": "length of the run in seconds",
}

# Counters that a SIGKILLed client can under-report (it dies before recording).
CLIENT_SIDE = ("sent", "acknowledged", "timeouts", "errors", "retries", "replies", "confirms", "nacks", "attempts")


def is_counter(name: str) -> bool:
    return name in COUNTERS

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
    "unroutable": "IDs the broker returned to the client as unroutable (mandatory): neither lost nor "
                  "in doubt, the client was told",
    "nacked": "IDs the broker refused (publisher nack, e.g. a full queue with reject-publish) "
               "and the client gave up on: the client was told, neither lost nor in doubt",
    "gave_up": "IDs a client stopped retrying",
    "late_replies": "replies that came after the client stopped waiting for them",
    "duplicate_replies": "second replies to a request already answered",
    "errors_refused": "errors: connection refused",
    "errors_reset": "errors: connection reset",
    "errors_timeout": "errors: timed out at the transport",
    "errors_http": "errors: HTTP error status",
    "errors_malformed": "errors: an answer the client could not read",
    "errors_gave_up": "errors: retries exhausted",
    "errors_unroutable": "errors: returned by the broker as unroutable",
    "errors_connection": "errors: broker connection lost or not made",
    "errors_nack": "errors: publisher negative acknowledgements",
    "errors_channel_closed": "errors: the broker closed the channel (e.g. 404, no such exchange)",
    "reconnects": "times a client connected again to its broker",
    "errors_other": "errors of any other kind",
    # recorded by the nodes themselves (telemetry), summed over a node's lives
    "input_errors": "deliveries a service could not read (not the lab's wire format)",
    "replies_sent": "replies a service sent",
    "replies_returned": "replies the broker returned to the service (reply_mandatory): the "
                        "requester's reply queue or direct reply-to channel was gone",
    "connection_losses": "times a service lost its broker connection",
    "amqp_received": "deliveries a service took from the broker",
    "amqp_acked": "deliveries a service acknowledged to the broker",
    "amqp_redelivered": "deliveries flagged redelivered, processed or not (a poison message's "
                        "repeated deliveries)",
    "subscribers_joined": "subscribers a publisher saw join",
    "stream_reread": "stream deliveries a consumer read again on demand (a re-read from an earlier "
                     "offset): its idempotent consumer refuses them as duplicates",
    "stream_rereads": "re-reads a stream consumer carried out (scenario step or GUI action)",
    "rejected": "deliveries a service rejected without requeue (dropped or dead-lettered)",
    "requeued": "deliveries a service rejected with requeue (the broker delivers them again)",
    "dead_lettered": "dead letters a service committed (RabbitMQ's x-death header)",
    "dead_lettered_rejected": "dead letters whose latest death was a reject",
    "dead_lettered_expired": "dead letters whose latest death was a TTL expiry",
    "dead_lettered_maxlen": "dead letters whose latest death was a length limit",
    "dead_lettered_delivery_limit": "dead letters whose latest death was a quorum delivery limit",
    "heavy": "heavy messages a service worked on (heavy_every), redeliveries included",
    "x_death_count": "sum of the x-death counts of committed dead letters (times dead-lettered)",
    "p50_latency_ms": "median round trip or delivery latency",
    "p90_latency_ms": "90th percentile latency",
    "p99_latency_ms": "99th percentile latency",
    "max_latency_ms": "largest latency seen",
    "throughput": "processed messages per second over the run",
    "duration_s": "length of the run in seconds",
    # service chains (engines.ledger.chain): on a service's outgoing link, or on an origin client
    "hop_reached": "origin IDs committed downstream of a service's outgoing link",
    "hop_lost": "IDs committed upstream of a service's outgoing link but never downstream of it",
    "orphans": "IDs committed downstream of a call whose caller never committed them",
    "e2e_reached": "a client's IDs committed at the first service and at the end of every branch",
    "e2e_lost": "a client's IDs committed at the first service but missing at the end of a branch",
    "e2e_duplicates": "duplicates (applied or refused) over every hop of a client's chain",
    "short_circuited": "calls failed fast by an open circuit breaker",
    "rejected_bulkhead": "calls refused at once because the bulkhead was full",
    "calls_in_flight_peak": "most downstream calls a service had out at once",
    "breaker_open": "times a circuit breaker opened",
    "breaker_half_open": "times a circuit breaker let a trial call through",
    "breaker_closed": "times a circuit breaker closed again",
    # Pirate queues and their workers (engines.transports.zmq_pirate*): over every life
    "pirate_registrations": "a Pirate queue: workers that (re)registered with it (READY, or a heartbeat from one it did not know)",
    "pirate_purged": "a Paranoid Pirate queue: workers purged after missing pirate_liveness heartbeats",
    "pirate_stranded": "a Pirate queue: workers connected to it that never registered (a Simple Pirate worker after the queue restarted)",
    "pirate_forwarded": "a Pirate queue: requests it passed to a worker",
    "pirate_replies": "a Pirate queue: replies it passed back to a client",
    "pirate_ready_sent": "a Pirate worker: READY messages it sent (one per registration it asked for)",
    "pirate_reconnects": "a Paranoid Pirate worker: times it gave the queue up (liveness spent) and reconnected",
    "pirate_queue_silent": "a Paranoid Pirate worker: heartbeat intervals it heard nothing from the queue",
}

# Counters of service chains (engines.ledger.chain): the run's total sums them over hops and clients.
CHAIN_SIDE = ("hop_reached", "hop_lost", "orphans", "e2e_reached", "e2e_lost", "e2e_duplicates",
              "short_circuited", "rejected_bulkhead", "calls_in_flight_peak", "breaker_open",
              "breaker_half_open", "breaker_closed")

# Counters of the run's connections rather than of its messages: the supervisor adds them
# to the ledger's totals (engines.runtime.summary); expectations may use them too.
RUN_COUNTERS: dict[str, str] = {
    "reconnects": "amqp connections a node opened again after losing one",
    "failovers": "reconnects to another member of a clustered broker (once per connection)",
    "leader_changes": "times a queue of a clustered broker got a new leader member",
    "max_leaderless_s": "longest time a queue had no leader (from its leader's outage)",
}

# Counters that a SIGKILLed client can under-report (it dies before recording).
CLIENT_SIDE = ("sent", "acknowledged", "timeouts", "errors", "retries", "replies", "confirms", "nacks",
               "attempts", "gave_up", "late_replies", "duplicate_replies")


# Counters a node records in its telemetry (engines.nodes.stats and drivers' `count`), added to
# its summary scope; the ledger's own values win where a name is both.
NODE_RECORDED = ("heavy", "reconnects", "replies_sent", "replies_returned", "connection_losses", "amqp_received", "amqp_acked", "amqp_redelivered",
                 "stream_reread", "stream_rereads",
                 "subscribers_joined")
NODE_RECORDED_PREFIXES = ("dead_lettered", "rejected", "requeued", "x_death", "pirate_")
# Every scope of these kinds has them (0 when nothing was recorded), so expectations can name them.
CLIENT_RECORDED = ("reconnects", "subscribers_joined")
SERVICE_RECORDED = tuple(name for name in COUNTERS if name not in CLIENT_RECORDED and (
    name in NODE_RECORDED or name.startswith(NODE_RECORDED_PREFIXES)))
CLIENT_LEDGER = ("unroutable", "nacked", *(name for name in COUNTERS if name.startswith("errors_")))


def is_counter(name: str) -> bool:
    return name in COUNTERS

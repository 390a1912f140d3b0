"""Client-side and queue-side counters: in doubt, timeouts, errors by kind, gave up, late and
duplicate replies, bulkhead, breaker, nacks, unroutable and returned, dead-lettered by reason."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engines.explain.context import Scope
from engines.explain.model import Fault, n, names, when

Cause = tuple[str, str]

ERROR_KINDS = {
    "errors_refused": "connection refused: nothing listened at the service's address",
    "errors_reset": "connection reset: the peer went away mid-request",
    "errors_timeout": "timed out at the transport",
    "errors_http": "the service answered with an HTTP error status",
    "errors_malformed": "an answer the client could not read",
    "errors_gave_up": "retries exhausted",
    "errors_unroutable": "returned by the broker as unroutable (mandatory: true and no queue bound)",
    "errors_connection": "the broker connection was lost or could not be made",
    "errors_nack": "the broker refused the message (publisher nack)",
    "errors_channel_closed": "the broker closed the channel",
    "errors_smtp_4xx": "the mail server answered 4xx (try again later)",
    "errors_smtp_5xx": "the mail server answered 5xx (refused)",
    "errors_other": "an error of another kind",
}


def _down(sc: Scope) -> list[Fault]:
    return sc.faults_of(sc.services + sc.brokers, "killed", "crashed", "paused", "resumed", "restarted", "up again")


def _faults_sentence(sc: Scope) -> str:
    downs = _down(sc)
    by_node: dict[str, list[Fault]] = {}
    for f in downs:
        by_node.setdefault(f.target, []).append(f)
    parts = [f"'{node}' {when(fs)}" for node, fs in by_node.items()]
    parts += [f"the link '{f.target}' {when([f])}" for f in sc.link_faults()]
    return "; ".join(parts)


def in_doubt(sc: Scope, counts: Mapping[str, Any]) -> list[Cause]:
    out: list[Cause] = []
    faults = _faults_sentence(sc)
    for c in sc.clients:
        node = sc.node(c)
        how = ("publisher confirms" if sc.transport(c) == "amqp" and node.get("confirms") else "replies")
        line = f"'{c}' sent these and heard nothing back ({how} never came)"
        if faults:
            line += f": {faults}"
        if sc.transport(c) == "amqp" and node.get("confirms"):
            line += ("; resend_in_doubt: " + ("true, yet these were still unanswered at the end"
                                              if node.get("resend_in_doubt") else "false, so it did not resend them"))
        out.append(("no-answer", line))
    return out


def timeouts(sc: Scope, counts: Mapping[str, Any]) -> list[Cause]:
    faults = _faults_sentence(sc)
    out: list[Cause] = []
    for c in sc.clients:
        node = sc.node(c)
        line = f"'{c}' waits timeout_ms {node.get('timeout_ms')} for each answer"
        if faults:
            line += f"; {faults}"
        else:
            slow = [s for s in sc.services if float(sc.node(s).get("processing_ms") or 0) >= float(
                node.get("timeout_ms") or 0) > 0]
            if slow:
                line += f"; {names(slow)} take(s) processing_ms ≥ that"
        out.append(("timeout", line))
    return out


def errors(sc: Scope, counts: Mapping[str, Any]) -> list[Cause]:
    kinds = {k: n(v) for k, v in counts.items() if k in ERROR_KINDS and n(v)}
    if not kinds:
        return []
    faults = _faults_sentence(sc)
    parts = [f"{v:,} {ERROR_KINDS[k]}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])]
    return [("errors", "by kind: " + "; ".join(parts) + (f" — {faults}" if faults else ""))]


def gave_up(sc: Scope, counts: Mapping[str, Any]) -> list[Cause]:
    out: list[Cause] = []
    for c in sc.clients:
        node = sc.node(c)
        line = (f"'{c}' stopped after retries: {node.get('retries')} (each waiting timeout_ms "
                f"{node.get('timeout_ms')})")
        faults = _faults_sentence(sc)
        out.append(("gave-up", line + (f"; {faults}" if faults else "")))
    return out


def late_replies(sc: Scope, counts: Mapping[str, Any]) -> list[Cause]:
    out: list[Cause] = []
    for c in sc.clients:
        faults = _faults_sentence(sc)
        out.append(("late", f"the answer came after '{c}' had stopped waiting (timeout_ms "
                    f"{sc.node(c).get('timeout_ms')})" + (f"; {faults}" if faults else "")))
    return out


def duplicate_replies(sc: Scope, counts: Mapping[str, Any]) -> list[Cause]:
    return [("resend-answered", f"'{c}' resent a request (retries: {sc.node(c).get('retries')}) and both the "
             "first copy and the resend were answered") for c in sc.clients]


def _links_with(sc: Scope, key: str) -> list[tuple[str, Mapping[str, Any]]]:
    return [(name, s) for name, s in sc.facts.links.items() if n(s.get(key))
            and (sc.scope != "link" or name == sc.subject)
            and (sc.scope != "node" or sc.subject in (s.get("from"), s.get("to")))]


def bulkhead(sc: Scope, counts: Mapping[str, Any]) -> list[Cause]:
    return [("bulkhead", f"'{name}' lets at most max_concurrent {s.get('max_concurrent')} calls wait at once; "
             "a call over that was rejected at once instead of queueing")
            for name, s in _links_with(sc, "max_concurrent")]


def breaker(sc: Scope, counts: Mapping[str, Any]) -> list[Cause]:
    opens = [f for node in sc.facts.nodes for f in sc.facts.of(node) if f.what.startswith("breaker")]
    out = [("breaker", f"'{name}' opens its circuit breaker after breaker_failures {s.get('breaker_failures')} "
            f"failures in a row and fails calls fast for breaker_open_ms {s.get('breaker_open_ms')}")
           for name, s in _links_with(sc, "breaker_failures")]
    if opens:
        out.append(("breaker-events", "breaker " + ", ".join(f"{f.what.split(' ', 1)[1]} at {f.at()}"
                                                              for f in sorted(opens, key=lambda f: f.t)[:6])))
    down = _faults_sentence(sc)
    if down:
        out.append(("callee-down", down))
    return out


def nacks(sc: Scope, counts: Mapping[str, Any]) -> list[Cause]:
    out: list[Cause] = []
    for s in sc.services:
        q = sc.queue_link(s)
        if q.get("overflow") == "reject-publish":
            out.append(("reject-publish", f"the queue to '{s}' is full at max_length {q.get('max_length')} "
                        "(overflow: reject-publish): the broker nacked what it could not take"))
    return out


def unroutable(sc: Scope, counts: Mapping[str, Any]) -> list[Cause]:
    return [("returned", f"'{c}' publishes with mandatory: true: a message no queue was bound to take came "
             "back to it (basic.return), so it knows; neither lost nor in doubt")
            for c in sc.clients if sc.node(c).get("mandatory")]


def replies_returned(sc: Scope, counts: Mapping[str, Any]) -> list[Cause]:
    return [("reply-returned", f"'{s}' sends replies with reply_mandatory: true; the requester's reply queue "
             "was gone (it had timed out, restarted or closed), so RabbitMQ returned the reply")
            for s in sc.services if sc.node(s).get("reply_mandatory")]


DL_REASONS = {"dead_lettered_rejected": "rejected without requeue", "dead_lettered_expired": "expired (TTL)",
              "dead_lettered_maxlen": "pushed out by the queue's length limit",
              "dead_lettered_delivery_limit": "delivered more than delivery_limit times"}


def dead_lettered(sc: Scope, counts: Mapping[str, Any]) -> list[Cause]:
    parts = [f"{n(counts.get(k)):,} {why}" for k, why in DL_REASONS.items() if n(counts.get(k))]
    out: list[Cause] = [("dead-lettered", "by reason: " + "; ".join(parts))] if parts else []
    for name, q in sc.facts.links.items():  # the queues that dead-letter, wherever their dead letters go
        if q.get("dead_letter_exchange") is None:
            continue
        s = str(q.get("to"))
        settings = ", ".join(f"{k} {q.get(k)}" for k in ("message_ttl_ms", "max_length", "delivery_limit")
                             if q.get(k) is not None)
        node = sc.node(s)
        exchange = q["dead_letter_exchange"] or "the default exchange"
        key = f", routing key {q['dead_letter_routing_key']}" if q.get("dead_letter_routing_key") else ""
        out.append(("dlx", f"the queue of '{name}' dead-letters to {exchange}{key}"
                    + (f" ({settings})" if settings else "")
                    + (f"; '{s}' rejects (reject: {node.get('reject')}, requeue: {str(node.get('requeue')).lower()})"
                       if node.get("reject", "never") != "never" else "")))
    return out


RULES = {"in_doubt": in_doubt, "timeouts": timeouts, "errors": errors, "gave_up": gave_up,
         "late_replies": late_replies, "duplicate_replies": duplicate_replies,
         "rejected_bulkhead": bulkhead, "short_circuited": breaker, "nacks": nacks, "nacked": nacks,
         "unroutable": unroutable, "replies_returned": replies_returned, "dead_lettered": dead_lettered}

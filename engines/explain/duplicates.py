"""Why a message arrived twice, and whether the second copy was refused or applied again."""

from __future__ import annotations

from engines.explain.context import Scope
from engines.explain.model import n, names, plural, when

Cause = tuple[str, str]


def _after_commit(detail: str) -> bool:
    return "after committing" in detail or "after its commit" in detail


def _committed(detail: str) -> str:
    """'after committing message 200' from the crash's detail (engines.explain.facts.crash_detail)."""
    return detail.split(",")[0] if detail.startswith("after committing") else "after committing"


def redelivery(sc: Scope, service: str) -> list[Cause]:
    out: list[Cause] = []
    node = sc.node(service)
    downs = sc.faults_of([service], "killed", "crashed")
    if downs and sc.brokered(service) and node.get("ack", "manual") == "manual":
        first = downs[0]
        how = (f"'{service}' {first.what} at {first.at()} {_committed(first.detail)} and before its ack"
               if _after_commit(first.detail) else f"'{service}' {when(downs)} holding deliveries it had not acked")
        out.append(("crash-before-ack", how + "; RabbitMQ redelivered what it had not acked (flagged redelivered)"))
    elif downs and not sc.brokered(service):
        first = downs[0]
        if _after_commit(first.detail):
            out.append(("crash-before-reply", f"'{service}' {first.what} at {first.at()} "
                        f"{_committed(first.detail)} and before replying; the client heard no answer and sent "
                        "the same request again"))
    q = sc.queue_link(service)
    if q:
        broker = str(q.get("from"))
        bdowns = sc.faults_of([broker], "killed", "crashed", "restarted", "up again")
        if any(f.what in ("killed", "crashed") for f in bdowns):
            out.append(("broker-restart", f"the broker '{broker}' {when(bdowns)}; deliveries '{service}' had "
                        "processed but whose ack never reached the broker were delivered again after the restart"))
    return out


def resends(sc: Scope) -> list[Cause]:
    out: list[Cause] = []
    for c in sc.clients:
        counts = sc.facts.counts("node", c)
        node = sc.node(c)
        if n(counts.get("resent_in_doubt")):
            brokers = [b for b in sc.brokers if sc.facts.of(b, "killed", "crashed")]
            why = (f" after the broker '{brokers[0]}' {when(sc.facts.of(brokers[0]))}" if brokers else "")
            out.append(("resend-in-doubt", f"'{c}' resent {plural(n(counts['resent_in_doubt']), 'in-doubt message')}"
                        f"{why} (resend_in_doubt: true): where the first copy had arrived, the resend "
                        "is a duplicate"))
        if n(counts.get("retries")) and not n(counts.get("resent_in_doubt")):
            out.append(("retry", f"'{c}' retried {plural(n(counts['retries']), 'request')} (retries: "
                        f"{node.get('retries')}, timeout_ms: {node.get('timeout_ms')}): a retry of a request "
                        "whose answer was lost or late reaches the service a second time"))
    return out


def outbox(sc: Scope, service: str) -> list[Cause]:
    out: list[Cause] = []
    for link, s in sc.facts.links.items():
        a = str(s.get("from"))
        if sc.facts.kind(a) == "service" and s.get("delivery") == "outbox":
            reaches = s.get("to") == service or service in sc.facts.downstream(str(s.get("to")))
            crashes = sc.facts.of(a, "crashed", "killed")
            if reaches and crashes:
                out.append(("outbox-resend", f"'{a}' {when(crashes)}; its outbox relay (delivery: outbox on "
                            f"'{link}') published again the rows it had sent but not yet marked sent"))
    return out


def causes(sc: Scope) -> list[Cause]:
    found: list[Cause] = []
    for s in sc.services:
        found += redelivery(sc, s) + outbox(sc, s)
    found += resends(sc)
    return list(dict.fromkeys(found))


def effect(sc: Scope, counter: str) -> str:
    """What the consumers did with the second copy: refused (idempotent) or applied again."""
    idem = [s for s in sc.services if sc.node(s).get("idempotent")]
    naive = [s for s in sc.services if s not in idem]
    parts = []
    if counter in ("duplicates_suppressed", "duplicates_delivered", "redelivered") and idem:
        parts.append(f"{names(idem)} {'is an idempotent consumer' if len(idem) == 1 else 'are idempotent'}: "
                     "PROCESSED_MESSAGES refused the duplicate in the same transaction")
    if counter in ("duplicates_processed", "duplicates_delivered", "redelivered") and naive:
        parts.append(f"{names(naive)} {'is' if len(naive) == 1 else 'are'} not idempotent (idempotent: false): "
                     "the duplicate was applied a second time")
    return "; ".join(parts)


def why_none(sc: Scope, counter: str, delivered_twice: int) -> str | None:
    """duplicates_processed 0 or duplicates_suppressed 0 while duplicates arrived: say who made it so."""
    if not delivered_twice:
        return None
    idem = [s for s in sc.services if sc.node(s).get("idempotent")]
    naive = [s for s in sc.services if s not in idem]
    if counter == "duplicates_processed" and idem:
        return (f"no duplicate applied: {names(idem)} {'is an idempotent consumer' if len(idem) == 1 else 'are idempotent'}"
                f" and refused the {delivered_twice:,} second deliver{'y' if delivered_twice == 1 else 'ies'}")
    if counter == "duplicates_suppressed" and naive:
        return (f"nothing suppressed: {names(naive)} {'is' if len(naive) == 1 else 'are'} not idempotent "
                "(idempotent: false), so duplicates were applied again")
    return None

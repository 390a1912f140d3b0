"""Why messages were lost: each rule checks one cause against the run's own events and settings.

A rule returns (cause, sentence) only when its evidence is in the run: a fault
event, a setting, a counter. Nothing is guessed; with no evidence the caller
says which events are known.
"""

from __future__ import annotations

from dataclasses import replace

from engines.explain.context import Scope
from engines.explain.model import n, names, when

Cause = tuple[str, str]


def slow_joiner(sc: Scope, service: str) -> list[Cause]:
    node = sc.node(service)
    pubs = [c for c in sc.facts.clients_of(service) if sc.style(c) == "publish-subscribe"
            and sc.transport(c) == "zmq"]
    if not pubs:
        return []
    joined = sc.facts.of(service, "joined")
    wait = n(node.get("join_after_ms"))
    if not joined and not wait:
        return []
    if joined and joined[0].t <= 0:  # it joined before the clients started (the run clock's zero)
        return []
    at = f"joined at {joined[0].at()}" if joined else f"was set to join after {wait} ms (join_after_ms)"
    return [("slow-joiner", f"the subscriber '{service}' {at}; PUB/SUB drops what was published before "
             f"a subscriber connects (the slow joiner), and {names(pubs)} never hears of it")]


def high_water_mark(sc: Scope, service: str) -> list[Cause]:
    pubs = [c for c in sc.facts.clients_of(service) if sc.style(c) == "publish-subscribe"
            and sc.transport(c) == "zmq"]
    node = sc.node(service)
    paused = sc.faults_of([service], "paused")
    if not pubs or not (float(node.get("processing_ms") or 0) > 0 or paused):
        return []
    slow = f"was {when(paused)}" if paused else f"takes processing_ms {node.get('processing_ms')} a message"
    return [("hwm", f"'{service}' {slow} and keeps at most hwm {node.get('hwm')} messages queued; past that "
             "high-water mark a PUB socket drops what a subscriber that falls behind cannot take, and the "
             "publisher never blocks nor hears of it")]


def pubsub_hint(sc: Scope) -> str:
    """For an unexplained PUB/SUB loss: the silent drops ZeroMQ records no event for."""
    subs = [s for s in sc.services if any(sc.style(c) == "publish-subscribe" and sc.transport(c) == "zmq"
                                          for c in sc.facts.clients_of(s))]
    if not subs:
        return ""
    hwm = ", ".join(f"'{s}' hwm {sc.node(s).get('hwm')}" for s in subs)
    return ("; note that a PUB socket drops silently, with no event, what a subscriber cannot take past "
            f"its high-water mark ({hwm}) or while it is not connected")


def killed_holding(sc: Scope, service: str) -> list[Cause]:
    downs = sc.faults_of([service], "killed", "crashed")
    if not downs:
        return []
    node = sc.node(service)
    clients = sc.facts.clients_of(service)
    transports = {sc.transport(c) for c in clients}
    styles = {sc.style(c) for c in clients}
    if sc.brokered(service) and node.get("ack") == "auto":
        return [("auto-ack", f"'{service}' {when(downs)} with ack: auto: RabbitMQ forgets a message the "
                 f"moment it delivers it, so what '{service}' held (prefetch {node.get('prefetch')}) and had not "
                 "committed died with it")]
    if "zmq" in transports and "notification" in styles:
        return [("push-buffer", f"'{service}' {when(downs)}; what sat in its PULL socket's buffers "
                 "(and in the PUSH side's queue to it) was lost with no error at the sender")]
    if "zmq" in transports and "publish-subscribe" in styles:
        return [("sub-down", f"'{service}' {when(downs)}; a SUB that is down misses what is published "
                 "meanwhile: PUB/SUB keeps nothing for it")]
    if not sc.brokered(service):
        return [("killed", f"'{service}' {when(downs)}; what it had received and not committed died with it")]
    return []


def broker_restart(sc: Scope, service: str) -> list[Cause]:
    q = sc.queue_link(service)
    if not q:
        return []
    broker = str(q.get("from"))
    downs = sc.faults_of([broker], "killed", "crashed", "restarted", "up again")
    if not any(f.what in ("killed", "crashed") for f in downs):
        return []
    transient = [c for c in sc.facts.clients_of(service) if not sc.node(c).get("persistent", True)]
    why = []
    if not q.get("durable", True):
        why.append(f"the queue to '{service}' is not durable (durable: false), so it and its messages "
                   "did not survive the restart")
    if transient:
        why.append(f"{names(transient)} sent transient messages (persistent: false), which a classic "
                   "queue drops when the broker goes down")
    if q.get("exclusive") or q.get("auto_delete"):
        why.append(f"the queue to '{service}' is {'exclusive' if q.get('exclusive') else 'auto-delete'}: "
                   "it went away with its consumer's connection")
    if not why:
        return []
    return [("broker-restart", f"the broker '{broker}' {when(downs)}; " + "; ".join(why))]


def link_faults(sc: Scope) -> list[Cause]:
    faults = [f for f in sc.link_faults() if f.what in ("cut", "lossy")]
    if not faults:
        return []
    return [("link-fault", "the link " + ", ".join(f"'{f.target}' {when([f])}" for f in faults[:4])
             + "; what was on its way over it was dropped")]


def dual_write(sc: Scope, service: str) -> list[Cause]:
    """A chain's upstream service that crashed between its commit and its send (delivery: dual-write)."""
    out: list[Cause] = []
    for link, s in sc.facts.links.items():
        a = str(s.get("from"))
        if sc.facts.kind(a) != "service" or s.get("delivery", "dual-write") != "dual-write":
            continue
        reaches = s.get("to") == service or service in sc.facts.downstream(str(s.get("to")))
        crashes = [f for f in sc.facts.of(a, "crashed", "killed")]
        if reaches and crashes:
            out.append(("dual-write", f"'{a}' {when(crashes)}; it sends its event directly after its "
                        f"commit (delivery: dual-write on '{link}'), so the events of what it had committed "
                        "and not yet sent were never sent; the redelivered inputs were refused as duplicates "
                        "and sent nothing either (an outbox would have kept them)"))
    return out


def queue_limits(sc: Scope, service: str) -> list[Cause]:
    q = sc.queue_link(service)
    counts = sc.facts.counts("node", service)
    out: list[Cause] = []
    ttl = q.get("message_ttl_ms")
    expiring = [c for c in sc.facts.clients_of(service) if sc.node(c).get("expiration_ms")]
    dlx = q.get("dead_letter_exchange")
    where = f"dead-lettered to '{dlx}'" if dlx else "dropped (no dead_letter_exchange)"
    if ttl is not None or expiring or n(counts.get("dead_lettered_expired")):
        what = (f"the queue to '{service}' has message_ttl_ms {ttl}" if ttl is not None
                else f"{names(expiring)} set a per-message expiration_ms" if expiring else "messages expired")
        out.append(("expired", f"{what}: a message that waited longer was {where}"))
    if q.get("max_length") is not None or q.get("max_length_bytes") is not None:
        limit = (f"max_length {q.get('max_length')}" if q.get("max_length") is not None
                 else f"max_length_bytes {q.get('max_length_bytes')}")
        out.append(("maxlen", f"the queue to '{service}' holds at most {limit} (overflow: "
                    f"{q.get('overflow')}): past it the oldest messages were {where}"))
    if n(counts.get("rejected")) and not sc.node(service).get("requeue"):
        out.append(("rejected", f"'{service}' rejected {n(counts.get('rejected'))} deliveries "
                    f"(reject: {sc.node(service).get('reject')}, requeue: false): each was {where}"))
    return out


def unroutable(sc: Scope) -> list[Cause]:
    out: list[Cause] = []
    for c in sc.clients:
        node = sc.node(c)
        if sc.transport(c) == "amqp" and not node.get("mandatory", False):
            out.append(("unroutable", f"'{c}' publishes with mandatory: false: a message no queue is bound to "
                        "take is dropped by the exchange without a word"))
    return out


def _faulted_path(sc: Scope, service: str) -> bool:
    """A link between the service and its clients (through its brokers) was cut or made lossy."""
    ends = {service, *sc.facts.clients_of(service), *(b for b in sc.facts.upstream(service)
                                                      if sc.facts.kind(b) == "broker")}
    return any(f.what in ("cut", "lossy") and {str(sc.facts.links.get(f.target, {}).get("from")),
                                               str(sc.facts.links.get(f.target, {}).get("to"))} <= ends
               for f in sc.facts.faults)


def causes(sc: Scope) -> list[Cause]:
    """Every cause of loss this run shows evidence of, for the scope's services."""
    found: list[Cause] = []
    bare: list[str] = []  # services that lost messages and for which no rule found evidence
    for s in sc.services:
        own = slow_joiner(sc, s) + high_water_mark(sc, s) + killed_holding(sc, s)
        own += broker_restart(sc, s) + dual_write(sc, s) + queue_limits(sc, s)
        if not own and n(sc.facts.counts("node", s).get("lost")) and not _faulted_path(sc, s):
            bare.append(s)
        found += own
    found += link_faults(sc)
    if not found:
        found += unroutable(sc)
    if found and bare:  # some of the loss is explained, the rest is said to be unexplained
        lost = ", ".join(f"'{s}' lost {n(sc.facts.counts('node', s).get('lost')):,}" for s in bare)
        found.append(("unknown", f"no recorded fault or setting explains the rest ({lost})" + pubsub_hint(
            replace(sc, services=bare))))
    return list(dict.fromkeys(found))  # one sentence once, in the order found


def why_none(sc: Scope) -> str | None:
    """Why nothing was lost although a fault could have lost something; None when no fault happened."""
    reasons = []
    for s in sc.services:
        q = sc.queue_link(s)
        downs = sc.faults_of([s], "killed", "crashed")
        if downs and sc.brokered(s) and sc.node(s).get("ack") == "manual":
            reasons.append(f"'{s}' {when(downs)}, but it acks only after its commit (ack: manual), so "
                           "RabbitMQ gave its unacknowledged messages to it again")
        if q:
            broker = str(q.get("from"))
            bdowns = sc.faults_of([broker], "killed", "crashed")
            persistent = all(sc.node(c).get("persistent", True) for c in sc.facts.clients_of(s))
            if bdowns and q.get("durable", True) and persistent:
                confirms = [c for c in sc.facts.clients_of(s) if sc.node(c).get("confirms")]
                reasons.append(f"the broker '{broker}' {when(bdowns)}, but the queue to '{s}' is durable "
                               "and the messages persistent, so what it had stored survived"
                               + (f"; {names(confirms)} took a message as acknowledged only once the broker "
                                  "confirmed it (confirms: true)" if confirms else ""))
    return "; ".join(dict.fromkeys(reasons)) or None

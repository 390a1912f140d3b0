"""The words of the guide (no Qt): welcome, an example's lesson, help per node and field, shortcuts.

Field help is the model's own description (engines.topology.model) followed by
what changing the field will do in a run, so the inspector, the file format
and the guide never disagree about what a field is.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any

from engines.topology import topofile
from engines.topology.filememo import per_file
from engines.topology.model import BrokerNode, ClientNode, Link, ServiceNode, Topology
from engines.topology.problems import TopologyError

# What changing a field does in a run (the model's description says what it is).
EFFECTS: dict[str, str] = {
    "style": "How the client talks: request-response blocks for each answer; async keeps many in flight; "
             "notification expects no answer; publish-subscribe gives every subscriber a copy.",
    "transport": "zmq is direct and light but delivers nothing the peer is not there for; amqp goes through a "
                 "RabbitMQ broker that buffers and redelivers; http is a request per message, refused at once "
                 "by a dead service.",
    "rate": "Higher rates fill queues and buffers faster, so a fault loses or delays more messages.",
    "timeout_ms": "Shorter: the client notices a dead peer sooner, but a slow answer becomes a timeout and a "
                  "resend (a duplicate the service must refuse).",
    "retries": "More retries ride out longer outages; each one may deliver the message twice.",
    "lazy_pirate": "Off: a plain REQ socket hangs for ever when its service dies mid-request.",
    "confirms": "Off: the broker never says it has a message, so a broker crash loses what was in flight "
                "and nobody knows (lost instead of in doubt).",
    "persistent": "Off: messages live in memory only; a broker restart empties even a durable queue.",
    "mandatory": "Off: a message to a queue that does not exist vanishes silently.",
    "resend_in_doubt": "Off: unconfirmed messages stay in doubt after a reconnect instead of being resent "
                       "(resending makes duplicates the idempotent consumer must refuse).",
    "idempotency_key": "Off: an HTTP retry after a lost response charges twice unless the service dedupes.",
    "idempotent": "Off: a redelivered message is applied twice (a card authorised twice): "
                  "duplicates_processed rises.",
    "ack": "manual: a consumer killed before its ack gets the message redelivered (nothing lost); "
           "auto: the broker forgets it on delivery, so the kill loses what the consumer held.",
    "prefetch": "How many unacked messages one consumer holds: larger is faster, but a kill redelivers "
                "(manual ack) or loses (auto ack) all of them.",
    "hwm": "zmq high-water mark: past it a PUB drops messages for a slow subscriber (lost), PUSH blocks.",
    "processing_ms": "Slower services make queues grow and clients time out.",
    "restart_on_crash": "On: the supervisor gives a crashed service a new life, as an orchestrator would.",
    "join_after_ms": "A subscriber that joins late misses everything published before (PUB/SUB never resends).",
    "durable": "Off: the queue itself disappears with a broker restart, and its messages with it.",
    "queue_type": "quorum: replicated, survives a member's loss, needs a delivery limit; classic: one node.",
    "url": "Set: the lab uses your broker and cannot kill or restart it.",
}

KIND_TEXT: dict[type, str] = {
    ClientNode: "A client originates messages at its rate, in one interaction style, over one transport.",
    ServiceNode: "A service consumes messages, does its work, may reply, and commits each message's effect "
                 "(and its ID, when idempotent) to SQLite: that is what the ledger counts as processed.",
    BrokerNode: "A RabbitMQ node the lab starts and owns (about 5 s to boot): it buffers messages in queues "
                "until a consumer takes them. Kill it and see what the publisher's confirms tell.",
    Link: "A link says who sends to whom; its transport follows from its ends.",
}


@per_file
def lesson_line(path: Path) -> str:
    """An example's one-line lesson: the first sentence of its description."""
    try:
        text = topofile.load(path).topology.description or ""
    except (TopologyError, OSError):
        return ""
    text = " ".join(text.split())
    return text.split(". ")[0].rstrip(".") + "." if text else ""


def welcome_html(examples: Iterable[Path]) -> str:
    rows = "".join(
        f'<li><a href="example:{escape(str(p))}"><b>{escape(p.name.removesuffix(".topo.yaml"))}</b></a>'
        f" — {escape(lesson_line(p))}</li>" for p in examples)
    return (
        "<h2>Welcome to Topology Lab</h2>"
        "<p>Draw clients, services and RabbitMQ brokers, then press <b>▶ Run (F5)</b> at the left of the "
        "toolbar: each node becomes a real process talking over ZeroMQ, RabbitMQ or HTTP. Kill a broker, "
        "pause a service, cut a link (right-click it while it runs) and watch what is lost and what is "
        "processed twice: every message is counted exactly.</p>"
        "<p><b>Start here:</b> the example on the canvas is open. Press <b>Run</b>; its lesson is in the "
        "<i>Lesson</i> tab. Click an example below to open it (as an untitled copy: the shipped file "
        "stays as it is).</p>"
        f"<ol>{rows}</ol>"
        "<p>Select a node and open the <i>Help</i> tab (F1) for what each of its settings does. "
        "The <i>Shortcuts</i> tab lists every key.</p>")


def lesson_html(topology: Topology) -> str:
    """The topology's description as paragraphs, with its scenario and expectations in words."""
    paragraphs = [p.strip() for p in (topology.description or "").split("\n\n") if p.strip()]
    body = "".join(f"<p>{escape(' '.join(p.split()))}</p>" for p in paragraphs) or \
        "<p><i>This topology has no description: write its lesson in the inspector (select nothing).</i></p>"
    steps = "".join(
        f"<li>at {s.at_s:g} s: {escape(s.action.value)} {escape(s.target)}</li>" if s.at_s is not None else
        f"<li>after {s.after_messages} messages: {escape(s.action.value)} {escape(s.target)}</li>"
        for s in topology.scenario)
    expects = "".join(f"<li><code>{escape(e)}</code></li>" for e in topology.expectations)
    return (f"<h2>{escape(topology.name)}</h2>{body}"
            + (f"<h3>What happens during the run</h3><ul>{steps}</ul>" if steps else "")
            + (f"<h3>What must hold at the end</h3><ul>{expects}</ul>" if expects else "")
            + "<p>Press <b>▶ Run (F5)</b> to see it; brokered examples first boot RabbitMQ "
              "(the status bar shows how far).</p>")


def field_help(model: Any, field: str) -> str:
    info = type(model).model_fields.get(field)
    what = (info.description or "") if info is not None else ""
    effect = EFFECTS.get(field, "")
    return " ".join(part for part in (what, effect) if part)


def item_help_html(model: Any, fields: list[str]) -> str:
    """Help for a selected node or link: what it is, then each field it shows."""
    if model is None:
        return "<p>Select a node or a link to read what each of its settings does.</p>"
    title = getattr(model, "name", None) or getattr(model, "key", "")
    rows = "".join(f"<dt><b>{escape(f)}</b> = <code>{escape(_value(getattr(model, f, '')))}</code></dt>"
                   f"<dd>{escape(field_help(model, f))}</dd>" for f in fields if field_help(model, f))
    return f"<h3>{escape(str(title))}</h3><p>{escape(KIND_TEXT.get(type(model), ''))}</p><dl>{rows}</dl>"


def _value(value: Any) -> str:
    return str(getattr(value, "value", value))


def shortcuts_html(pairs: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><td><b>{escape(key)}</b></td><td>{escape(what)}</td></tr>" for key, what in pairs)
    extra = ("<tr><td><b>Tab / Enter</b></td><td>on a palette card: add that node</td></tr>"
             "<tr><td><b>Shift-drag</b></td><td>from a node to another: link them</td></tr>"
             "<tr><td><b>Space-drag, middle button</b></td><td>pan the canvas</td></tr>"
             "<tr><td><b>Arrow keys</b></td><td>nudge the selection</td></tr>"
             "<tr><td><b>Escape</b></td><td>in a field: take back what was typed</td></tr>")
    return f"<h3>Keyboard shortcuts</h3><table cellspacing='6'>{rows}{extra}</table>"

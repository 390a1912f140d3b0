"""Semantic checks: who may talk to whom, over what, and whether anything is left unreachable.

Types and ranges are pydantic's job (engines.topology.topofile); this module checks what
only the whole topology can tell, using networkx on the topology graph. Each
problem carries the path of the field it concerns, so the loader can give its
line and the GUI can mark the node or link.
"""

from __future__ import annotations

import difflib
from collections import Counter
from typing import Any

import networkx as nx

from engines.topology import (
    amqp_rules,
    chains,
    channels,
    counter_scopes,
    expectations,
    instances,
    pirate,
)
from engines.topology.annotations import problems as annotation_problems
from engines.topology.chain_checks import service_link_problems
from engines.topology.model import Action, BrokerNode, ClientNode, QueueType, ServiceNode, Topology
from engines.topology.problems import Problem, Severity
from engines.topology.vocabulary import Transport, supports, transports_for

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"nodes are: {', '.join(sorted(choices))}" if choices else "the topology has no nodes"


def link_refusal(topology: Topology, source: str, target: str) -> str | None:
    """Why a link from `source` to `target` cannot be made, or None if it can.

    Shared by the validator and the GUI's drag-to-link, so both speak the same rule.
    """
    if source == target:
        return "a node cannot link to itself"
    if not (topology.has_node(source) and topology.has_node(target)):
        return None  # reported elsewhere as an unknown node
    a, b = topology.node(source), topology.node(target)
    if isinstance(a, ServiceNode) and isinstance(b, ServiceNode) and topology.receives_mail(a.name):
        return None  # b reads a's mailbox over IMAP
    if isinstance(a, ServiceNode):
        if isinstance(b, ClientNode):
            return (f"service '{a.name}' cannot send to client '{b.name}': a service replies to "
                    "its caller on the link it was called on, and sends on to a service or a broker")
        cycle = chains.cycle_with(topology, source, target)
        if cycle is not None and not topology.has_link(f"{source}->{target}"):
            return (f"a link {source} -> {target} would close the cycle {' -> '.join(cycle)}; "
                    "a chain must end (link to a service that does not lead back)")
        return None
    if isinstance(a, ClientNode):
        if isinstance(b, ClientNode):
            return "a client sends to a service or a broker, not to another client"
        if isinstance(b, BrokerNode) and a.transport is not Transport.AMQP:
            return (
                f"client '{a.name}' speaks {a.transport.value}; only amqp clients go through a "
                "broker (set its transport to amqp, or link it straight to a service)"
            )
        if isinstance(b, ServiceNode) and a.transport is Transport.AMQP:
            return (
                f"client '{a.name}' speaks amqp, which needs a broker: link it to a broker, "
                "and the broker to the service"
            )
        return None
    # a is a broker
    if not isinstance(b, ServiceNode):
        return f"a broker delivers to services; '{b.name}' is a {b.kind.value}"
    return None


def _unconsumed(topology: Topology, channel_plan: channels.ChannelPlan, link_problem: Any) -> None:
    """Warn about a client feeding a broker channel that no service consumes (pattern-aware)."""
    names = {n.name: n for n in topology.nodes}
    consumed = {(ch.broker, ch.name) for link in topology.links
                if isinstance(names.get(link.source), BrokerNode) and (ch := channel_plan.by_link.get(link.key))}
    for j, link in enumerate(topology.links):
        channel = channel_plan.by_link.get(link.key)
        if channel is None or not isinstance(names.get(link.source), ClientNode) \
                or (channel.broker, channel.name) in consumed:
            continue
        if channel.publish:
            message = (f"nobody subscribes to exchange '{channel.name}' on broker '{channel.broker}': "
                       "RabbitMQ drops every message published to an exchange no queue is bound to")
        else:
            message = (f"nothing consumes queue '{channel.name}' on broker '{channel.broker}': every "
                       "message piles up in the queue and none is ever processed")
        link_problem(j, None, message, f"link '{channel.broker}' to a service that consumes it",
                     severity=Severity.WARNING)


def validate(topology: Topology) -> list[Problem]:
    """Every semantic problem of a topology whose fields are already well typed."""
    problems: list[Problem] = []
    names = [n.name for n in topology.nodes]

    def node_problem(i: int, fld: str | None, message: str, hint: str | None = None,
                     severity: Severity = Severity.ERROR) -> None:
        path: tuple[str | int, ...] = ("nodes", i) + ((fld,) if fld else ())
        problems.append(Problem(message, node=topology.nodes[i].name, hint=hint,
                                severity=severity, path=path))

    def link_problem(j: int, fld: str | None, message: str, hint: str | None = None,
                     severity: Severity = Severity.ERROR) -> None:
        path: tuple[str | int, ...] = ("links", j) + ((fld,) if fld else ())
        problems.append(Problem(message, link=topology.links[j].key, hint=hint,
                                severity=severity, path=path))

    # names -----------------------------------------------------------------
    seen: set[str] = set()
    for i, node in enumerate(topology.nodes):
        if node.name in seen:
            node_problem(i, "name", f"the name '{node.name}' is used by another node",
                         "node names must be unique")
        seen.add(node.name)
    link_counts = Counter(link.key for link in topology.links)
    reported: set[str] = set()
    for j, link in enumerate(topology.links):
        if link_counts[link.key] > 1 and link.key in reported:
            link_problem(j, "to", f"link '{link.key}' appears more than once",
                         "give one a distinct 'name:' or remove it")
        reported.add(link.key)

    # links -----------------------------------------------------------------
    for j, link in enumerate(topology.links):
        for fld, end in (("from", link.source), ("to", link.target)):
            if end not in names:
                link_problem(j, fld, f"unknown node '{end}'", _suggest(end, names))
        refusal = link_refusal(topology, link.source, link.target)
        if refusal:
            link_problem(j, "to", refusal)

    # styles and transports ---------------------------------------------------
    for i, node in enumerate(topology.nodes):
        if isinstance(node, ClientNode) and not node.transport.client_side:
            node_problem(i, "transport", "a client cannot speak imap: a reader service reads a "
                         "mail service's mailbox over imap",
                         "send mail with transport smtp to a mail service, and link the mail "
                         "service to the service that reads it")
        elif isinstance(node, ClientNode) and node.transport is Transport.SMTP \
                and not supports(node.transport, node.style):
            node_problem(i, "style", f"smtp carries one-way notification only, not {node.style.value}: "
                         "a mail is acknowledged by the server's 250 and nothing comes back",
                         "set style: notification, or use http or zmq for "
                         f"{node.style.value}")
        elif isinstance(node, ClientNode) and not supports(node.transport, node.style):
            offered = ", ".join(t.value for t in transports_for(node.style) if t.client_side)
            node_problem(i, "style", f"{node.transport.value} cannot carry {node.style.value}",
                         f"use one of: {offered}")
        if isinstance(node, ClientNode) and not topology.links_from(node.name):
            node_problem(i, None, "client has no target: link it to a service or a broker")
        if node.bind not in LOOPBACK:
            node_problem(i, "bind", f"listens on {node.bind}, beyond this machine",
                         "the lab binds to 127.0.0.1 unless you mean otherwise",
                         severity=Severity.WARNING)
        if isinstance(node, BrokerNode) and not topology.links_to(node.name) \
                and not topology.links_from(node.name):
            node_problem(i, None, "broker is not linked to anything", severity=Severity.WARNING)

    problems += service_link_problems(topology)
    problems += pirate.problems(topology)  # zmq queues between request clients and workers

    # ports -------------------------------------------------------------------
    by_port: dict[int, str] = {}
    for i, node in enumerate(topology.nodes):
        if node.port is None:
            continue
        if node.port in by_port:
            node_problem(i, "port", f"port {node.port} is already taken by node "
                         f"'{by_port[node.port]}'", "leave 'port' unset to get a free one")
        else:
            by_port[node.port] = node.name

    # reachability ------------------------------------------------------------
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(names)
    graph.add_edges_from((lk.source, lk.target) for lk in topology.links
                         if lk.source in names and lk.target in names)
    reachable: set[str] = set()
    for client in topology.clients():
        reachable |= nx.descendants(graph, client.name)
    for i, node in enumerate(topology.nodes):
        if isinstance(node, ServiceNode) and node.name not in reachable:
            node_problem(i, None, "nobody can reach this service",
                         "link a client (or a broker fed by a client) to it")

    # replies -----------------------------------------------------------------
    for i, node in enumerate(topology.nodes):
        if isinstance(node, ServiceNode) and not node.reply:
            askers = [c.name for c in topology.clients()
                      if c.style.expects_reply and c.name in nx.ancestors(graph, node.name)]
            if askers:
                node_problem(i, "reply", f"does not reply, but {', '.join(askers)} wait for replies",
                             "their requests will time out", severity=Severity.WARNING)

    # idempotent consumer: shared stores, split transactions -----------------------
    instances.check(topology, lambda i, fld, message, hint: node_problem(i, fld, message, hint))

    # amqp channels -------------------------------------------------------------
    if all(p.severity is not Severity.ERROR or not p.path or p.path[0] != "links" for p in problems):
        channel_plan = channels.plan(topology)
        for j, fld, message in channel_plan.problems:
            link_problem(j, fld, message)
        for f in amqp_rules.check(topology):
            severity = Severity.WARNING if f.warning else Severity.ERROR
            if f.link is not None:
                link_problem(f.link, f.field, f.message, f.hint, severity)
            elif f.node is not None:
                node_problem(f.node, f.field, f.message, f.hint, severity)
        if not channel_plan.problems:
            _unconsumed(topology, channel_plan, link_problem)

    # scenario ----------------------------------------------------------------
    link_keys = [lk.key for lk in topology.links]
    for k, step in enumerate(topology.scenario):
        path: tuple[str | int, ...] = ("scenario", k, "target")
        if step.action.on_link:
            if step.target not in link_keys:
                close = difflib.get_close_matches(step.target, link_keys, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"links are: {', '.join(link_keys)}"
                problems.append(Problem(f"'{step.action.value}' needs a link; no link '{step.target}'",
                                        hint=hint, path=path))
            continue
        members = [m for b in topology.brokers() for m in b.member_names()]
        if step.target in members:
            continue  # one member of a managed cluster (rabbit/2)
        if step.target not in names:
            problems.append(Problem(f"'{step.action.value}' needs a node; no node '{step.target}'",
                                    hint=_suggest(step.target, names), path=path))
            continue
        node = topology.node(step.target)
        if isinstance(node, BrokerNode) and not node.managed:
            problems.append(Problem(
                f"broker '{node.name}' is external ({node.url}); the lab cannot "
                f"{step.action.value} it", node=node.name, path=path,
                hint="only brokers the lab starts itself can be killed or restarted"))
        if step.action is Action.REREAD and not any(
                lk.queue_type is QueueType.STREAM for lk in topology.links_to(step.target)):
            problems.append(Problem(
                f"'reread' needs a service that consumes a stream; '{step.target}' does not",
                node=step.target, path=path,
                hint="give a link from a broker into it queue_type: stream"))
    counts = [c.count for c in topology.clients()]
    most = sum(c for c in counts if c is not None) if None not in counts else None
    for k, step in enumerate(topology.scenario):
        if step.after_messages is not None and most is not None and step.after_messages > most:
            problems.append(Problem(
                f"step after {step.after_messages} messages can never fire: the clients send "
                f"at most {most} in all", severity=Severity.WARNING, path=("scenario", k, "after_messages"),
                hint="lower after_messages, or use at_s (the run waits for a timed step)"))
    if topology.duration_s is not None:
        for k, step in enumerate(topology.scenario):
            if step.at_s is not None and step.at_s > topology.duration_s:
                problems.append(Problem(
                    f"step at {step.at_s:g} s can never fire: the run ends at duration_s "
                    f"({topology.duration_s:g} s)",
                    severity=Severity.WARNING, path=("scenario", k, "at_s")))

    # expectations ------------------------------------------------------------
    scopes = set(names) | set(link_keys)
    for k, text in enumerate(topology.expectations):
        path = ("expectations", k)
        try:
            parsed = expectations.parse(text)
        except expectations.ExpectationError as exc:
            problems.append(Problem(str(exc), path=path))
            continue
        for scope in parsed.scopes():
            if scope not in scopes:
                problems.append(Problem(f"expectation '{text}' names '{scope}', which is no node "
                                        "or link", hint=_suggest(scope, sorted(scopes)), path=path))
        for ref in parsed.references():
            refused = counter_scopes.refusal(topology, ref.scope, ref.counter or "") if ref.scope else None
            if refused is not None:
                problems.append(Problem(f"expectation '{text}': {refused[0]}", hint=refused[1], path=path))
    problems += [Problem(f"annotation {k + 1}: {message}", path=("annotations", k, fld))
                 for k, fld, message in annotation_problems(topology.annotations, names)]
    return problems

"""The run plan: which listeners each node has, who its peers are, and the spec file each node reads.

Discovery happens here, before any node starts: every listener a driver
declares gets a free loopback port (or the node's fixed `port`), every client
gets its targets' endpoints (or its broker's URL and channel), every service
gets the streams it consumes. The same plan tells the ledger each client's
audience: the services its messages can reach.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engines import transports
from engines.ledger.identity import hop_name, origin_of
from engines.runtime import tracing
from engines.runtime.ports import Ports, connect_host
from engines.topology import chains, channels, pirate
from engines.topology.model import BrokerNode, ClientNode, Link, ServiceNode, Topology
from engines.topology.vocabulary import Style, Transport
from engines.transports.base import (
    CLIENT,
    IMAP,
    PLAIN_LISTENERS,
    SERVICE,
    ZMQ_PUB,
    ZMQ_PULL,
    ZMQ_PUSH,
    ZMQ_ROUTER,
    ZMQ_SUB,
    ZMQ_WORKERS,
    Inbound,
    Peer,
)

SPEC_FORMAT = 1


@dataclass
class Route:
    """One service a client's messages can reach, and the link that scopes its counters there."""

    service: str
    link: str  # the link into the service: 'client->service' or 'broker->service'
    client_link: str  # the client's own link: 'client->service' or 'client->broker'
    peer_index: int | None = None  # via a broker: the subscriber's position on its channel
    dead_letter: bool = False  # a consumer of the dead letters of the client's queues
    via: str | None = None  # a mail reader: the mail service whose mailbox it reads (IMAP)


@dataclass
class RunPlan:
    clients: dict[str, int]  # name -> index in message IDs
    listen: dict[str, dict[str, str]] = field(default_factory=dict)  # node -> listener -> address peers use
    binds: dict[str, dict[str, str]] = field(default_factory=dict)  # node -> listener -> address it binds
    peers: dict[str, list[Peer]] = field(default_factory=dict)  # client -> peers
    inbound: dict[str, list[Inbound]] = field(default_factory=dict)  # service -> streams
    audience: dict[str, list[Route]] = field(default_factory=dict)  # client -> routes
    capacity: dict[str, int] = field(default_factory=dict)  # client -> record slots
    expect_subscribers: dict[str, int] = field(default_factory=dict)
    hops: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # service -> hop senders
    origin: dict[str, str] = field(default_factory=dict)  # hop sender -> its origin client


def capacity_for(client: ClientNode) -> int:
    """Record slots a client needs: its count, or its rate times its duration with room."""
    if client.count is not None:
        return client.count
    assert client.duration_s is not None
    if client.rate > 0:
        return int(client.rate * client.duration_s * 1.25) + 1000
    return 1 << 24  # a sparse file: only the pages used take space


def _address(listener: str, bind: str, port: int) -> str:
    host = connect_host(bind)
    return f"{host}:{port}" if listener in PLAIN_LISTENERS else f"tcp://{host}:{port}"


def _bind_address(listener: str, bind: str, port: int) -> str:
    return f"{bind}:{port}" if listener in PLAIN_LISTENERS else f"tcp://{bind}:{port}"


def _amqp_specs(topology: Topology) -> dict[str, dict[str, Any]]:
    """Queue/exchange spec per amqp link (engines.brokers.plan), only for brokered topologies."""
    if not any(topology.link_transport(link) is Transport.AMQP for link in topology.links):
        return {}
    from engines.brokers.plan import link_specs

    return link_specs(topology)


def _channel(specs: dict[str, dict[str, Any]], link: Link) -> dict[str, Any] | None:
    return specs.get(link.key)


def _bind_side(client: ClientNode) -> str:
    return client.zmq_binds.value if client.transport is Transport.ZMQ else "usual"


def client_listens(client: ClientNode) -> list[str]:
    """The listeners a client binds: its driver's, turned round where `zmq_binds` says so."""
    names = list(transports.driver(client.transport.value, client.style.value, CLIENT).listens)
    side = _bind_side(client)
    if client.style is Style.NOTIFICATION and side == "client":
        names.append(ZMQ_PUSH)
    if client.style is Style.PUBLISH_SUBSCRIBE and side == "service":
        names = [n for n in names if n != ZMQ_PUB]
    return names


def service_listens(client: ClientNode) -> list[str]:
    """The listeners a service binds for `client`'s stream, turned round where `zmq_binds` says so."""
    names = list(transports.driver(client.transport.value, client.style.value, SERVICE).listens)
    side = _bind_side(client)
    if client.style is Style.NOTIFICATION and side == "client":
        names = [n for n in names if n != ZMQ_PULL]
    if client.style is Style.PUBLISH_SUBSCRIBE and side == "service":
        names.append(ZMQ_SUB)
    return names


def _connects_to_client(client: ClientNode) -> bool:
    """Whether services connect to this client's listeners (publishers, a PUSH that binds)."""
    return client.style.one_to_many or (client.style is Style.NOTIFICATION and _bind_side(client) == "client")


def make_plan(topology: Topology, ports: Ports, broker_urls: dict[str, str]) -> RunPlan:
    """Allocate listeners and resolve peers for every node of a valid topology."""
    clients = {c.name: i for i, c in enumerate(topology.clients())}
    plan = RunPlan(clients=clients)
    amqp = channels.plan(topology)
    amqp_specs = _amqp_specs(topology)

    def allocate(node: ClientNode | ServiceNode, names: list[str]) -> None:
        listen, binds = plan.listen.setdefault(node.name, {}), plan.binds.setdefault(node.name, {})
        for i, name in enumerate(names):
            if name in listen:
                continue
            port = ports.fixed(node.port, node.bind) if (i == 0 and node.port) else ports.free(node.bind)
            listen[name] = _address(name, node.bind, port)
            binds[name] = _bind_address(name, node.bind, port)

    for client in topology.clients():
        allocate(client, client_listens(client))
        plan.capacity[client.name] = capacity_for(client)
    for service in topology.services():
        names: list[str] = []
        for link in topology.links_to(service.name):
            source = topology.node(link.source)
            if isinstance(source, ClientNode):
                names += [n for n in service_listens(source) if n not in names]
            elif isinstance(source, ServiceNode):  # a chain hop: the sender's style and transport
                style, transport = topology.sender_style(link), topology.link_transport(link)
                if style and transport:
                    info = transports.driver(transport.value, style.value, SERVICE)
                    names += [n for n in info.listens if n not in names]
        if topology.mail_readers(service.name):
            names.append(IMAP)  # its mailbox, served to its readers
        if service.pirate is not None:
            names.append(ZMQ_WORKERS)  # a Pirate queue's backend, where its workers connect
        allocate(service, names)
    # one mailbox (an IMAP user with a per-run password) per mail reader link
    mailboxes = {lk.key: secrets.token_urlsafe(18) for s in topology.services()
                 for lk in topology.mail_readers(s.name)}

    # peers of each client, and the routes its messages take
    for client in topology.clients():
        peers: list[Peer] = []
        routes: list[Route] = []
        for index, link in enumerate(topology.links_from(client.name)):
            target = topology.node(link.target)
            if isinstance(target, ServiceNode) and target.pirate is not None:  # via a Pirate queue
                peers.append(Peer(name=target.name, link=link.key, index=index,
                                  endpoints=dict(plan.listen.get(target.name, {}))))
                routes += [Route(out.target, out.key, link.key, peer_index=i)
                           for i, out in enumerate(pirate.workers(topology, target.name))]
            elif isinstance(target, ServiceNode):
                peers.append(Peer(name=target.name, link=link.key, index=index,
                                  endpoints=dict(plan.listen.get(target.name, {})),
                                  join_after_ms=target.join_after_ms, link_hwm=link.hwm))
                routes.append(Route(target.name, link.key, link.key))
                if client.transport is Transport.SMTP:  # then whoever reads its mailbox
                    routes += [Route(out.target, out.key, link.key, via=target.name)
                               for out in topology.mail_readers(target.name)]
            elif isinstance(target, BrokerNode):
                peers.append(Peer(name=target.name, link=link.key, index=index,
                                  broker_url=broker_urls.get(target.name, target.external_url),
                                  channel=_channel(amqp_specs, link)))
                wanted = amqp.by_link.get(link.key)
                subscribers = [out for out in topology.links_from(target.name)
                               if wanted is not None and amqp.by_link.get(out.key) == wanted]
                for position, out in enumerate(subscribers):
                    routes.append(Route(out.target, out.key, link.key, peer_index=position))
                for out in topology.links_from(target.name):  # who consumes its dead letters
                    dead = amqp.by_link.get(out.key)
                    if wanted is not None and dead is not None and dead.broker == wanted.broker \
                            and wanted.name in dead.dead_letters_of:
                        routes.append(Route(out.target, out.key, link.key, dead_letter=True))
        plan.peers[client.name] = peers
        plan.audience[client.name] = routes
        if client.style.one_to_many:
            plan.expect_subscribers[client.name] = sum(
                1 for r in routes if not r.dead_letter
                and getattr(topology.node(r.service), "join_after_ms", 0) == 0
                and getattr(topology.node(r.service), "subscribe", True))

    # streams each service consumes
    for client in topology.clients():
        peers = plan.peers[client.name]
        for route in plan.audience[client.name]:
            target = topology.node(route.service)
            if pirate.from_queue(topology, route.link):
                add_pirate_inbound(topology, plan, client, route)
                continue
            if route.via is not None:
                plan.inbound.setdefault(target.name, []).append(Inbound(
                    client=client.name, client_index=clients[client.name], link=route.link,
                    style=client.style.value, transport=Transport.IMAP.value,
                    publisher={IMAP: plan.listen[route.via][IMAP]},
                    channel={"mail_service": route.via, "user": target.name,
                             "password": mailboxes[route.link]}))
                continue
            listens = service_listens(client)
            peer_index = route.peer_index if route.peer_index is not None else next(
                (p.index for p in peers if p.link == route.client_link), 0)
            link = topology.link(route.link)
            channel = _channel(amqp_specs, link) if client.transport is Transport.AMQP else None
            if client.transport is Transport.SMTP:  # the mailboxes it delivers into
                channel = {"mailboxes": {lk.target: mailboxes[lk.key]
                                         for lk in topology.mail_readers(target.name)}}
            broker = topology.node(link.source) if isinstance(topology.node(link.source), BrokerNode) else None
            plan.inbound.setdefault(target.name, []).append(Inbound(
                client=client.name, client_index=clients[client.name], link=route.link,
                style=client.style.value, transport=client.transport.value, peer_index=peer_index,
                listener=listens[0] if listens else None,
                publisher=dict(plan.listen.get(client.name, {})) if _connects_to_client(client) else {},
                link_hwm=topology.link(route.client_link).hwm,
                broker_url=broker_urls.get(broker.name, broker.external_url) if isinstance(broker, BrokerNode) else None,
                channel=channel))
    add_hops(topology, plan, broker_urls, amqp_specs)
    return plan


def add_pirate_inbound(topology: Topology, plan: RunPlan, client: ClientNode, route: Route) -> None:
    """A client's stream through a Pirate queue: the queue takes it on its frontend (once), the
    worker asks the queue's backend for it (engines.transports.zmq_pirate)."""
    queue = topology.node(topology.link(route.link).source)
    assert isinstance(queue, ServiceNode) and queue.pirate is not None
    index = plan.clients[client.name]
    if not any(ib.client == client.name for ib in plan.inbound.get(queue.name, [])):
        plan.inbound.setdefault(queue.name, []).append(Inbound(
            client=client.name, client_index=index, link=route.client_link, style="pirate-queue",
            transport="zmq", listener=ZMQ_ROUTER))
    plan.inbound.setdefault(route.service, []).append(Inbound(
        client=client.name, client_index=index, link=route.link, style="pirate-worker", transport="zmq",
        peer_index=route.peer_index or 0, publisher={ZMQ_WORKERS: plan.listen[queue.name][ZMQ_WORKERS]},
        channel={"queue": queue.name, "mode": queue.pirate.value, "heartbeat_ms": queue.pirate_heartbeat_ms,
                 "liveness": queue.pirate_liveness, "interval_init_ms": queue.pirate_interval_init_ms,
                 "interval_max_ms": queue.pirate_interval_max_ms}))


def add_hops(topology: Topology, plan: RunPlan, broker_urls: dict[str, str],
             amqp_specs: dict[str, dict[str, Any]]) -> None:
    """A hop sender per (service outgoing link, origin client), upstream services first.

    Each is planned like a client (an index in `clients`, peers, an audience,
    inbound streams at its targets); its service gets its description in `hops`
    (engines.nodes.downstream), its IDs follow engines.ledger.identity.
    """
    by_source: dict[str, list[chains.Hop]] = {}
    for hop in chains.hops(topology):
        by_source.setdefault(hop.source, []).append(hop)
    for service in chains.order(topology):
        streams = plan.inbound.get(service, [])
        origins: dict[str, list[int]] = {}
        for stream in streams:
            origins.setdefault(origin_of(stream.client), []).append(stream.client_index)
        for hop in by_source.get(service, []):
            link = topology.link(hop.link)
            target = topology.node(link.target)
            info = transports.driver(hop.transport.value, hop.style.value, SERVICE)
            for origin, upstream in origins.items():
                name = hop_name(hop.link, origin)
                index = len(plan.clients)
                plan.clients[name] = index
                plan.origin[name] = origin
                plan.capacity[name] = plan.capacity.get(origin, 0)
                if isinstance(target, BrokerNode):
                    peer = Peer(name=target.name, link=hop.link, index=0,
                                broker_url=broker_urls.get(target.name, target.url),
                                channel=_channel(amqp_specs, link))
                else:
                    peer = Peer(name=target.name, link=hop.link, index=0,
                                endpoints=dict(plan.listen.get(target.name, {})), link_hwm=link.hwm)
                plan.peers[name] = [peer]
                routes = [Route(t, into, hop.link, peer_index=i if isinstance(target, BrokerNode) else None)
                          for i, (t, into) in enumerate(zip(hop.targets, hop.consumer_links, strict=True))]
                plan.audience[name] = routes
                for route in routes:
                    brokered = isinstance(target, BrokerNode)
                    plan.inbound.setdefault(route.service, []).append(Inbound(
                        client=name, client_index=index, link=route.link, style=hop.style.value,
                        transport=hop.transport.value, peer_index=route.peer_index or 0,
                        listener=info.listens[0] if info.listens else None, link_hwm=link.hwm,
                        broker_url=broker_urls.get(target.name, target.url) if isinstance(target, BrokerNode) else None,
                        channel=_channel(amqp_specs, topology.link(route.link)) if brokered else None))
                plan.hops.setdefault(service, []).append({
                    "name": name, "index": index, "link": hop.link, "origin": origin,
                    "upstream": upstream, "call": hop.call, "style": hop.style.value,
                    "transport": hop.transport.value, "delivery": link.delivery.value,
                    "timeout_ms": link.timeout_ms, "retries": link.retries, "in_flight": link.in_flight,
                    "max_concurrent": link.max_concurrent, "breaker_failures": link.breaker_failures,
                    "breaker_open_ms": link.breaker_open_ms, "capacity": plan.capacity[name],
                    "peers": [asdict(peer)], "durable": link.durable,
                })


def node_spec(topology: Topology, plan: RunPlan, name: str, node_dir: Path, telemetry: str,
              parent_pid: int, token: str | None = None) -> dict[str, Any]:
    """The JSON a node process reads (engines.nodes.spec); `token` authenticates its telemetry."""
    node = topology.node(name)
    kind = "client" if isinstance(node, ClientNode) else "service"
    return {
        "format": SPEC_FORMAT, "name": name, "kind": kind, "node_dir": str(node_dir),
        "parent_pid": parent_pid, "telemetry": telemetry, "telemetry_token": token,
        "config": node.model_dump(mode="json"), "clients": plan.clients,
        "client_index": plan.clients.get(name, -1), "capacity": plan.capacity.get(name, 0),
        "listen": plan.binds.get(name, {}),
        "peers": [asdict(p) for p in plan.peers.get(name, [])],
        "inbound": [asdict(i) for i in plan.inbound.get(name, [])],
        "expect_subscribers": plan.expect_subscribers.get(name, 0),
        # a hop's peers as the plan has them now (a link fault proxy may stand in between)
        "hops": [{**h, "peers": [asdict(p) for p in plan.peers.get(str(h["name"]), [])]}
                 for h in plan.hops.get(name, [])],
        "trace": tracing.settings(topology),
    }


def write_spec(path: Path, spec: dict[str, Any]) -> None:
    """Owner-only (0600): a spec holds the run's telemetry token and broker credentials."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as fh:
        fh.write(json.dumps(spec, indent=1))
    os.replace(tmp, path)

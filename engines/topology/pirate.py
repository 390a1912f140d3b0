"""Pirate queues (the zguide, chapter 4): a zmq service that queues requests for worker services.

A service with `pirate: simple|paranoid` is not a consumer but a queue between
request clients (Lazy Pirate, REQ, or DEALER) and the services it links to,
which are its workers: they connect to the queue's backend, say READY, and
take one request at a time. The ledger counts a client's messages at the
workers (the queue commits nothing), as it counts an amqp client's at the
consumers behind a broker. This module is the model's one reading of that, for
validation, the run plan and the GUI.
"""

from __future__ import annotations

from engines.topology.model import ClientNode, Link, ServiceNode, Topology
from engines.topology.problems import Problem
from engines.topology.vocabulary import Style, Transport

QUEUE_STYLES = (Style.REQUEST_RESPONSE, Style.ASYNC_REQUEST_RESPONSE)


def is_queue(topology: Topology, name: str) -> bool:
    node = topology.node(name) if topology.has_node(name) else None
    return isinstance(node, ServiceNode) and node.pirate is not None


def workers(topology: Topology, queue: str) -> list[Link]:
    """The links from a Pirate queue to its workers, in file order (a worker's reply stamp)."""
    if not is_queue(topology, queue):
        return []
    return [lk for lk in topology.links_from(queue)
            if topology.has_node(lk.target) and isinstance(topology.node(lk.target), ServiceNode)]


def from_queue(topology: Topology, link_key: str) -> bool:
    """Whether this link goes from a Pirate queue to one of its workers."""
    return topology.has_link(link_key) and is_queue(topology, topology.link(link_key).source)


def queue_of(topology: Topology, worker: str) -> ServiceNode | None:
    """The Pirate queue a service works for, if any."""
    for link in topology.links_to(worker):
        node = topology.node(link.source) if topology.has_node(link.source) else None
        if isinstance(node, ServiceNode) and node.pirate is not None:
            return node
    return None


def problems(topology: Topology) -> list[Problem]:
    """What a Pirate queue needs: zmq request clients in front, worker services behind."""
    found: list[Problem] = []
    index = {n.name: i for i, n in enumerate(topology.nodes)}
    for queue in topology.services():
        if queue.pirate is None:
            continue
        path: tuple[str | int, ...] = ("nodes", index[queue.name], "pirate")
        for link in topology.links_to(queue.name):
            source = topology.node(link.source) if topology.has_node(link.source) else None
            if isinstance(source, ClientNode) and (source.transport is not Transport.ZMQ
                                                   or source.style not in QUEUE_STYLES):
                found.append(Problem(
                    f"Pirate queue '{queue.name}' takes zmq requests; client '{source.name}' sends "
                    f"{source.style.value} over {source.transport.value}", node=queue.name, path=path,
                    hint="give the client transport zmq and style request-response (a Lazy "
                         "Pirate) or async-request-response"))
            elif isinstance(source, ServiceNode):
                found.append(Problem(
                    f"Pirate queue '{queue.name}' takes requests from clients, not from service "
                    f"'{source.name}'", node=queue.name, path=path))
        if not workers(topology, queue.name):
            found.append(Problem(
                f"Pirate queue '{queue.name}' has no workers: nothing would ever take a request",
                node=queue.name, path=path,
                hint="link the queue to the services that work for it"))
    for service in topology.services():
        queues = [lk.source for lk in topology.links_to(service.name) if is_queue(topology, lk.source)]
        if queues and service.pirate is not None:
            found.append(Problem(f"'{service.name}' is a Pirate queue and cannot also work for "
                                 f"queue '{queues[0]}'", node=service.name,
                                 path=("nodes", index[service.name], "pirate")))
        elif len(queues) > 1 or (queues and len(topology.links_to(service.name)) > 1):
            found.append(Problem(
                f"worker '{service.name}' works for Pirate queue '{queues[0]}' and takes nothing "
                "else: a worker has one queue", node=service.name,
                path=("nodes", index[service.name]),
                hint="give each other source a service of its own"))
    return found

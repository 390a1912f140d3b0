"""RabbitMQ brokers for brokered runs: managed nodes the lab owns, or external URLs.

`open_broker` gives a handle with one protocol for both (see `handle.py`);
`rabbitmq_available` says, before a run, whether managed nodes can start here.
"""

from __future__ import annotations

import logging
from pathlib import Path

from engines.brokers.cluster import ClusterBroker, MemberHandle
from engines.brokers.external import ExternalBroker
from engines.brokers.handle import AMQP_ERRORS, BrokerError, BrokerHandle, BrokerState
from engines.brokers.install import INSTALL_HINT, rabbitmq_available
from engines.brokers.managed import ManagedBroker, amqp_ready, cleanup_run_dir
from engines.brokers.sampler import QueueDepth, QueueDepthSampler, SamplerThread
from engines.brokers.telemetry import QueueDepthMonitor
from engines.topology.model import BrokerNode

# pika logs every failed connection attempt at ERROR with a traceback; the lab
# expects them (readiness polls, a killed broker) and counts them instead.
logging.getLogger("pika").setLevel(logging.CRITICAL)

__all__ = [
    "AMQP_ERRORS",
    "INSTALL_HINT",
    "BrokerError",
    "BrokerHandle",
    "BrokerState",
    "ClusterBroker",
    "ExternalBroker",
    "ManagedBroker",
    "MemberHandle",
    "QueueDepth",
    "QueueDepthMonitor",
    "QueueDepthSampler",
    "SamplerThread",
    "amqp_ready",
    "cleanup_run_dir",
    "open_broker",
    "rabbitmq_available",
]


def open_broker(node: BrokerNode, run_dir: Path) -> BrokerHandle:
    """A handle for a topology's broker node; nothing runs until `.start()`."""
    external = node.external_url
    if external:
        return ExternalBroker(node.name, external)
    if node.cluster_size > 1:
        return ClusterBroker(node.name, Path(run_dir), node.cluster_size)
    return ManagedBroker(node.name, Path(run_dir))

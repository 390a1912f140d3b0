"""What must hold before a run starts any process: drivers for every style, RabbitMQ where needed.

Checked first, so a run that cannot happen here is refused with the reason and
leaves nothing behind (no broker, no node, no reaper).
"""

from __future__ import annotations

from engines import transports
from engines.runtime import brokers as broker_support
from engines.runtime.errors import RunError
from engines.topology.model import Topology
from engines.transports.base import CLIENT, SERVICE


def check(topo: Topology) -> None:
    """Raise RunError saying why `topo` cannot run on this machine; return if it can."""
    if topo.brokers():
        broker_support.opener()
        if any(b.managed for b in topo.brokers()):
            try:
                from engines.brokers.install import rabbitmq_available
            except ImportError:  # a broker engine of another make: it says at start
                pass
            else:
                why = rabbitmq_available()
                if why:
                    raise RunError(f"this topology needs RabbitMQ on this machine: {why}")
    for client in topo.clients():
        for role in (CLIENT, SERVICE):
            try:
                transports.driver(client.transport.value, client.style.value, role)
            except KeyError:
                raise RunError(
                    f"client '{client.name}' speaks {client.style.value} over "
                    f"{client.transport.value}, but no {role} driver for it is installed "
                    f"(engines/transports/{client.transport.value}_*.py)") from None

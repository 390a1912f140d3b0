"""The seam to the broker engine (engines.brokers, written separately), imported lazily.

The supervisor codes against this protocol only:

    from engines.brokers import open_broker
    handle = open_broker(node: BrokerNode, run_dir: Path)
    handle.name, handle.url          # amqp URL with the run's own credentials
    handle.start(timeout)            # returns when the broker accepts connections
    handle.kill(); handle.stop(timeout); handle.restart(timeout)
    handle.pause(); handle.resume()
    handle.close()                   # idempotent; leaves no process behind
    handle.pids()                    # every OS process the broker runs (beam, epmd...)

A brokerless topology never imports it, so it runs even where the broker
engine or RabbitMQ is missing; a topology with brokers is refused clearly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from engines.runtime.errors import RunError
from engines.topology.model import BrokerNode


class BrokerHandle(Protocol):
    name: str
    url: str

    def start(self, timeout: float) -> None: ...
    def kill(self) -> None: ...
    def stop(self, timeout: float) -> None: ...
    def restart(self, timeout: float) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def close(self) -> None: ...
    def pids(self) -> list[int]: ...


def opener() -> Callable[[BrokerNode, Path], Any]:
    """`engines.brokers.open_broker`, or RunError saying why brokers cannot run here."""
    try:
        from engines.brokers import open_broker
    except ImportError as exc:
        raise RunError(
            "this topology has RabbitMQ brokers, but the broker engine (engines.brokers) is not "
            f"available here ({exc}); brokerless topologies (zmq, http) still run") from None
    return open_broker

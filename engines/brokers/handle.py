"""The broker handle protocol the runtime codes against, and its errors.

One protocol for a managed node (a `rabbitmq-server` the lab owns) and an
external broker (a URL), so the supervisor and the scenario player need not
care which it has: an external one simply declines what the lab cannot do.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol, runtime_checkable

import pika.exceptions
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from engines.runtime.errors import RunError

# What opening or using a pika connection can raise when the broker is down,
# paused or restarting; AMQPConnectorStackTimeout is not an AMQPError.
AMQP_ERRORS: tuple[type[BaseException], ...] = (
    pika.exceptions.AMQPError,
    AMQPConnectorException,
    OSError,
)


class BrokerError(RunError):
    """A broker could not be started, stopped or reached, or declines an action.

    A RunError, so the runtime reports it like any run that cannot start.
    """


class BrokerState(str, Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    KILLED = "killed"


@runtime_checkable
class BrokerHandle(Protocol):
    """What the runtime may do with a broker node of a topology."""

    name: str
    managed: bool

    @property
    def url(self) -> str: ...

    @property
    def state(self) -> BrokerState: ...

    def start(self, timeout: float = 60) -> None:
        """Return once an AMQP connection succeeds; raise BrokerError otherwise."""

    def kill(self) -> None:
        """SIGKILL the whole process tree (beam.smp, its children, its epmd)."""

    def stop(self, timeout: float = 30, run_ended: bool = False) -> None:
        """Stop gracefully (SIGTERM, RabbitMQ shuts down cleanly), SIGKILL after timeout;
        `run_ended`: once its data is closed (engines.brokers.runend)."""

    def restart(self, timeout: float = 60) -> None:
        """Start again on the same data directory, so durable state survives."""

    def pause(self) -> None:
        """SIGSTOP the node: connections stay open but nothing moves."""

    def resume(self) -> None:
        """SIGCONT a paused node."""

    def close(self) -> None:
        """Idempotent: nothing of the node is left running afterwards."""

    def pids(self) -> list[int]:
        """Live process IDs of the node (beam.smp, its children, its epmd)."""

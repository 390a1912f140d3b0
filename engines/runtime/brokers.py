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
    def stop(self, timeout: float, run_ended: bool = False) -> None: ...
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


# -- a broker's lifecycle, as the run shows it ------------------------------------------------
# A broker gets the node states of engines.runtime.events.STATES: `starting` while it boots
# (a first start, a start after a kill, a restart), `ready` once AMQP answers, `paused`,
# `killed`, `exited` (stopped by us, at the end of the run too), `crashed` when a boot fails.
# Control.broker_action (engines/runtime/control.py) is the one place that applies them; a
# clustered broker's members can go through the same table.

BOOT_TYPICAL_S = 5.0  # RabbitMQ 3.10 on this kind of machine, its code preloaded: 4-5 s from spawn to AMQP
MIN_BOOT_S = 1.0  # a start that returns sooner booted nothing

BEFORE: dict[str, str] = {"start": "starting", "restart": "starting"}
AFTER: dict[str, str] = {"start": "ready", "restart": "ready", "resume": "ready",
                         "kill": "killed", "stop": "exited", "pause": "paused"}

_last_boot_s: list[float] = []  # boots measured in this process, so the next estimate is ours


def boot_estimate() -> float:
    """How long a broker boot is expected to take: the last one measured here, else typical."""
    return round(_last_boot_s[-1], 1) if _last_boot_s else BOOT_TYPICAL_S


def record_boot(seconds: float) -> None:
    if seconds < MIN_BOOT_S:  # it was up already (or not a real node): no estimate of a boot
        return
    _last_boot_s.append(seconds)
    del _last_boot_s[:-5]


def refused(method: str, state: str) -> str | None:
    """Why `method` must not run in `state` (None: it may): a booting broker is not started twice."""
    if method == "start" and state in ("starting", "ready", "done", "paused"):
        return f"start: already {state}"
    if method in ("pause", "kill", "stop") and state in ("killed", "exited", "crashed"):
        return f"{method}: not running ({state})"
    if method == "resume" and state != "paused":
        return f"resume: not paused ({state})"
    return None

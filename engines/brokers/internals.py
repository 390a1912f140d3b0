"""What is inside a broker, read over the RabbitMQ management API (never rabbitmqctl).

Per queue: ready versus unacknowledged messages, consumers, deliveries the
broker flagged as redelivered, and whether the queue is durable; per broker:
the exchanges and bindings that route into those queues. AMQP alone tells
only the ready count (a passive declare), so the lab enables the management
plugin on every node it starts (loopback only) and asks it here.

The API's per-queue figures lag by up to `collect_statistics_interval`
(1 s in the lab's nodes). A node that is down, paused or booting answers
nothing: no sample, so a plot shows the gap.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from engines.brokers.handle import BrokerState

QUEUE_COLUMNS = ("name,type,durable,auto_delete,exclusive,messages_ready,messages_unacknowledged,"
                 "messages,consumers,message_stats.redeliver")


@dataclass(frozen=True)
class QueueInside:
    """One queue as the broker reports it."""

    name: str
    type: str = "classic"
    durable: bool = True
    ready: int = 0
    unacked: int = 0
    redelivered: int = 0  # deliveries flagged redelivered since the queue was declared
    consumers: int = 0
    counted: bool = True  # False: listed before its first statistics (just after a boot)

    @property
    def messages(self) -> int:
        return self.ready + self.unacked


@dataclass(frozen=True)
class Binding:
    exchange: str  # "" is the default exchange
    queue: str
    routing_key: str


@dataclass
class Inside:
    """A broker's queues, exchanges (name -> type) and bindings at one moment."""

    queues: dict[str, QueueInside] = field(default_factory=dict)
    exchanges: dict[str, str] = field(default_factory=dict)
    bindings: list[Binding] = field(default_factory=list)


@dataclass(frozen=True)
class Api:
    """One member's management endpoint and the run's credentials for it."""

    port: int
    user: str
    password: str

    def get(self, path: str, timeout: float) -> Any:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/{path}")
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback http
            return json.loads(resp.read())


def apis(handle: Any) -> list[Api]:
    """The management endpoints of a managed broker that are up now (a cluster: each member)."""
    layouts = list(getattr(handle, "layouts", None) or [])
    members = list(getattr(handle, "members", None) or [])
    if not layouts and hasattr(handle, "layout"):
        layouts, members = [handle.layout], [handle]
    found = []
    for layout, member in zip(layouts, members, strict=False):
        if layout.mgmt_port is None or member.state is not BrokerState.RUNNING:
            continue
        found.append(Api(layout.mgmt_port, layout.user, layout.password))
    return found


def has_api(handle: Any) -> bool:
    """Whether a broker handle has a management API the lab can ask (not an external broker)."""
    layouts = getattr(handle, "layouts", None) or ([handle.layout] if hasattr(handle, "layout") else [])
    return any(getattr(layout, "mgmt_port", None) for layout in layouts)


def fetch_queues(api: Api, timeout: float = 1.0) -> dict[str, QueueInside]:
    rows = api.get(f"queues/%2F?columns={QUEUE_COLUMNS}", timeout)
    return {str(r["name"]): _queue(r) for r in rows if isinstance(r, dict) and "name" in r}


def fetch_routing(api: Api, timeout: float = 1.0) -> tuple[dict[str, str], list[Binding]]:
    """Exchanges (name -> type) a user declared, and bindings to queues (default exchange too)."""
    exchanges = {str(x["name"]): str(x.get("type", "direct"))
                 for x in api.get("exchanges/%2F?columns=name,type", timeout)
                 if isinstance(x, dict) and x.get("name") and not str(x["name"]).startswith("amq.")}
    bindings = [Binding(str(b.get("source", "")), str(b["destination"]), str(b.get("routing_key", "")))
                for b in api.get("bindings/%2F", timeout)
                if isinstance(b, dict) and b.get("destination_type") == "queue"]
    return exchanges, bindings


def fetch(handle: Any, routing: bool, timeout: float = 1.0) -> Inside | None:
    """The broker's insides from the first member that answers; None when none does."""
    for api in apis(handle):
        try:
            inside = Inside(queues=fetch_queues(api, timeout))
            if routing:
                inside.exchanges, inside.bindings = fetch_routing(api, timeout)
            return inside
        except (OSError, urllib.error.URLError, ValueError, KeyError, TypeError):
            continue
    return None


def _queue(row: dict[str, Any]) -> QueueInside:
    stats = row.get("message_stats") or {}
    return QueueInside(
        name=str(row["name"]), type=str(row.get("type") or "classic"),
        durable=bool(row.get("durable", True)),
        ready=int(row.get("messages_ready") or 0), unacked=int(row.get("messages_unacknowledged") or 0),
        redelivered=int(stats.get("redeliver") or 0) if isinstance(stats, dict) else 0,
        consumers=int(row.get("consumers") or 0), counted="messages_ready" in row)

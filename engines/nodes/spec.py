"""Reading a node's spec file (written by engines.runtime.specs)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engines.nodes import tracefile
from engines.transports.base import Inbound, Peer

FORMAT = 1


@dataclass
class NodeSpec:
    name: str
    kind: str
    node_dir: Path
    parent_pid: int
    telemetry: str
    config: dict[str, Any]
    clients: dict[str, int]
    client_index: int = -1
    capacity: int = 0
    listen: dict[str, str] = field(default_factory=dict)
    peers: list[Peer] = field(default_factory=list)
    inbound: list[Inbound] = field(default_factory=list)
    expect_subscribers: int = 0
    telemetry_token: str | None = None  # the run's secret: the supervisor accepts only its nodes
    trace: dict[str, Any] = field(default_factory=dict)  # {"mode": "all"|"anomalies"|"off", "sample": k}


class SpecError(ValueError):
    """A spec file that is missing, unreadable or from another format."""


def load(path: str | Path) -> NodeSpec:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SpecError(f"cannot read node spec {path}: {exc}") from None
    if data.get("format") != FORMAT:
        raise SpecError(f"node spec {path} has format {data.get('format')!r}, expected {FORMAT}")
    try:
        return NodeSpec(
            name=data["name"], kind=data["kind"], node_dir=Path(data["node_dir"]),
            parent_pid=int(data["parent_pid"]), telemetry=data["telemetry"],
            config=data["config"], clients=dict(data["clients"]),
            client_index=int(data.get("client_index", -1)), capacity=int(data.get("capacity", 0)),
            listen=dict(data.get("listen", {})),
            peers=[Peer(**p) for p in data.get("peers", [])],
            inbound=[Inbound(**i) for i in data.get("inbound", [])],
            expect_subscribers=int(data.get("expect_subscribers", 0)),
            telemetry_token=data.get("telemetry_token"),
            trace=dict(data.get("trace") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"node spec {path} is incomplete: {exc}") from None


def open_trace(spec: NodeSpec, records: int) -> tracefile.TraceWriter | None:
    """The node's trace file as its spec asks (None when tracing is off)."""
    mode = tracefile.MODES.get(str(spec.trace.get("mode", "off")), tracefile.OFF)
    if mode == tracefile.OFF:
        return None
    return tracefile.TraceWriter(spec.node_dir / tracefile.FILE_NAME, records, mode,
                                 int(spec.trace.get("sample", 100)))

"""Where the example topologies live and which one the app opens by default."""

from __future__ import annotations

from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "topologies"
DEFAULT_EXAMPLE = "12-broker-failure-rabbitmq.topo.yaml"


def examples() -> list[Path]:
    return sorted(EXAMPLES_DIR.glob("*.topo.yaml"))


def default_example() -> Path:
    return EXAMPLES_DIR / DEFAULT_EXAMPLE

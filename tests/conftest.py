"""Shared fixtures: example files and a helper that writes a topology text to a file."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "topologies").glob("*.topo.yaml"))


@pytest.fixture
def write_topology(tmp_path: Path) -> Callable[..., Path]:
    """Write dedented YAML to a .topo.yaml file in tmp_path and return its path."""

    def write(text: str, name: str = "case.topo.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write

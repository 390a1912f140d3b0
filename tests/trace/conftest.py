"""Runs shared by the trace tests: each example runs once per module, headless, for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.testing.runner import TopologyResult, run_file
from tests.conftest import ROOT
from tests.runtime.conftest import assert_no_node_left


def run_example(number: str, out: Path) -> TopologyResult:
    path = next((ROOT / "topologies").glob(f"{number}-*.topo.yaml"))
    result = run_file(path, out_root=out)
    assert_no_node_left()
    assert result.error is None, result.error
    assert result.run_dir is not None
    return result


@pytest.fixture(scope="session")
def redelivery_run(tmp_path_factory: pytest.TempPathFactory) -> TopologyResult:
    """Example 13: the consumer dies after its commit, RabbitMQ redelivers, the duplicate is refused."""
    return run_example("13", tmp_path_factory.mktemp("redelivery"))

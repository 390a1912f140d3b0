"""A managed node boots with the plugins it enables and what they need, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.brokers import ManagedBroker
from engines.brokers.internals import apis
from engines.brokers.plugins import closure


def _app(root: Path, entry: str, deps: str) -> None:
    name = entry.rsplit("-", 1)[0]
    (root / entry / "ebin").mkdir(parents=True)
    (root / entry / "ebin" / f"{name}.app").write_text(
        f"{{application, {name}, [{{description, \"x\"}}, {{applications, [{deps}]}}]}}.\n")


def test_closure_follows_dependencies_and_leaves_the_rest(tmp_path: Path) -> None:
    _app(tmp_path, "rabbit-3.10.8", "kernel, stdlib, ra, rabbit_common")
    _app(tmp_path, "ra-2.2.0", "kernel, aten")
    _app(tmp_path, "aten-0.5.8", "kernel")
    _app(tmp_path, "rabbit_common-3.10.8", "kernel")
    _app(tmp_path, "rabbitmq_management-3.10.8", "kernel, rabbit, cowboy")
    _app(tmp_path, "cowboy-2.8.0", "kernel, cowlib")
    _app(tmp_path, "cowlib-2.9.1", "kernel")
    _app(tmp_path, "rabbitmq_mqtt-3.10.8", "kernel, rabbit")
    assert closure(tmp_path, ("rabbit",)) == (
        "aten-0.5.8", "ra-2.2.0", "rabbit-3.10.8", "rabbit_common-3.10.8")
    with_mgmt = closure(tmp_path, ("rabbit", "rabbitmq_management"))
    assert "cowlib-2.9.1" in with_mgmt and "rabbitmq_mqtt-3.10.8" not in with_mgmt
    assert closure(tmp_path, ("rabbit", "no_such_plugin")) == (), "unknown: keep RabbitMQ's default"


@pytest.mark.rabbitmq
@pytest.mark.timeout(120)
def test_a_managed_node_serves_its_management_api_from_the_private_plugins_dir(
        shared_broker: ManagedBroker) -> None:
    plugins = shared_broker.layout.directory / "plugins"
    names = {p.name.rsplit("-", 1)[0] for p in plugins.iterdir()}
    assert {"rabbit", "rabbitmq_management", "ra", "osiris"} <= names  # quorum queues, streams
    assert "rabbitmq_mqtt" not in names and "rabbitmq_federation" not in names
    (api,) = apis(shared_broker)
    overview = api.get("overview", timeout=5)
    assert overview["rabbitmq_version"].startswith("3.")
    protocols = {(listener["protocol"], listener["port"]) for listener in overview["listeners"]}
    assert ("http", shared_broker.layout.mgmt_port) in protocols  # the management plugin listens

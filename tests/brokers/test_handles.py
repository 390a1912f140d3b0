"""Broker handles without a managed node: external URLs, and a machine without RabbitMQ."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.brokers import (
    BrokerError,
    BrokerHandle,
    BrokerState,
    ExternalBroker,
    ManagedBroker,
    open_broker,
    rabbitmq_available,
)
from engines.brokers import install as install_mod
from engines.topology.model import BrokerNode


def test_external_handle_declines_what_the_lab_cannot_do(tmp_path: Path) -> None:
    node = BrokerNode(name="shared-mq", url="amqp://app:s3cret@127.0.0.1:1/%2F")
    handle = open_broker(node, tmp_path)
    assert isinstance(handle, ExternalBroker) and isinstance(handle, BrokerHandle)
    assert handle.managed is False and handle.url == node.url and handle.pids() == []
    for action in ("kill", "stop", "restart", "pause", "resume"):
        with pytest.raises(BrokerError) as info:
            getattr(handle, action)()
        message = str(info.value)
        assert f"the lab cannot {action} it" in message
        assert "broker 'shared-mq' is external" in message
        assert "s3cret" not in message  # the password is redacted
    handle.close()
    handle.close()
    assert not (tmp_path / "brokers").exists()


@pytest.mark.timeout(30)
def test_external_start_fails_clearly_when_nothing_answers() -> None:
    handle = ExternalBroker("gone", "amqp://u:p@127.0.0.1:1/%2F")
    with pytest.raises(BrokerError, match="did not accept an AMQP connection"):
        handle.start(timeout=1)
    assert handle.state is BrokerState.STOPPED


@pytest.mark.rabbitmq
@pytest.mark.timeout(120)
def test_external_handle_starts_against_a_live_broker(shared_broker: ManagedBroker) -> None:
    handle = open_broker(BrokerNode(name="ext", url=shared_broker.url), Path("/nonexistent"))
    handle.start(timeout=10)
    assert handle.state is BrokerState.RUNNING


def test_missing_rabbitmq_is_refused_with_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(install_mod, "server_script", lambda: None)
    message = rabbitmq_available()
    assert message is not None
    assert "sudo apt-get install -y rabbitmq-server" in message and "make setup" in message
    monkeypatch.setattr("engines.brokers.managed.rabbitmq_available", rabbitmq_available)
    with pytest.raises(BrokerError, match="apt-get install"):
        open_broker(BrokerNode(name="rabbit"), tmp_path)


def test_server_script_is_the_real_one_not_the_su_wrapper() -> None:
    if rabbitmq_available() is not None:
        pytest.skip(rabbitmq_available())
    script = install_mod.server_script()
    assert script is not None and script.resolve().name == "rabbitmq-server"
    assert "rabbitmq-script-wrapper" not in str(script.resolve())


@pytest.mark.rabbitmq
def test_an_unstarted_managed_handle_runs_nothing(tmp_path: Path) -> None:
    handle = open_broker(BrokerNode(name="idle"), tmp_path)
    assert isinstance(handle, ManagedBroker) and isinstance(handle, BrokerHandle)
    assert handle.managed and handle.state is BrokerState.STOPPED and handle.pids() == []
    with pytest.raises(BrokerError, match="not running"):
        handle.pause()
    handle.close()
    handle.close()
    with pytest.raises(BrokerError, match="closed"):
        handle.start()


@pytest.mark.timeout(60)
def test_a_brokered_run_is_refused_before_any_process_starts_without_rabbitmq(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psutil

    from engines.runtime import RunError, Supervisor
    from tests.runtime.conftest import example

    monkeypatch.setattr(install_mod, "server_script", lambda: None)
    monkeypatch.setattr("engines.brokers.managed.rabbitmq_available", rabbitmq_available)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with Supervisor(example("03"), tmp_path / "run") as sup:
        with pytest.raises(RunError, match="apt-get install -y rabbitmq-server"):
            sup.run()
        assert {p.pid for p in psutil.Process().children(recursive=True)} <= before
        assert all(proc.lives == 0 for proc in sup.table.nodes.values())

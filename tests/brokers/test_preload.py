"""A managed node loads its code in one batch before RabbitMQ boots (engines.brokers.preload)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psutil
import pytest

from engines.brokers import ManagedBroker, preload
from tests.brokers.test_plugins_dir import _app

WITHOUT_ERL = {k: v for k, v in os.environ.items() if not k.startswith("ERL_")}


def test_code_dirs_are_the_plugins_and_the_erlang_applications_they_need(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    plugins, lib = tmp_path / "plugins", tmp_path / "lib"
    _app(plugins, "rabbit-3.10.8", "kernel, stdlib, mnesia, ra")
    _app(plugins, "ra-2.2.0", "kernel")
    _app(plugins, "cowboy-2.8.0", "kernel, ssl")
    for entry, deps in (("kernel-8.5.3", ""), ("stdlib-4.2", "kernel"), ("mnesia-4.21.3", "kernel"),
                        ("ssl-10.8.7", "kernel, public_key"), ("public_key-1.13.2", "asn1"),
                        ("asn1-5.0.21", "kernel"), ("wx-2.2", "kernel")):
        _app(lib, entry, deps)
    monkeypatch.setattr(preload, "erlang_lib_dir", lambda: lib)
    names = [d.parent.name for d in preload.code_dirs(plugins)]
    assert names[:3] == ["cowboy-2.8.0", "ra-2.2.0", "rabbit-3.10.8"]  # every plugin folder
    assert sorted(names[3:]) == ["asn1-5.0.21", "kernel-8.5.3", "mnesia-4.21.3", "public_key-1.13.2",
                                 "ssl-10.8.7", "stdlib-4.2"]  # transitively; wx is nobody's
    flags = preload.preload_flags(plugins)
    assert flags is not None and flags.startswith("-eval 'try ") and flags.endswith(" catch _:_ -> ok end'")
    quoted = tmp_path / "it's here"
    _app(quoted, "rabbit-3.10.8", "kernel")
    assert preload.preload_flags(quoted) is None, "a path the quoting cannot carry: boot as RabbitMQ does"


@pytest.mark.rabbitmq
@pytest.mark.timeout(120)
def test_a_managed_node_boots_with_its_code_loaded_in_one_batch(shared_broker: ManagedBroker) -> None:
    plugins = shared_broker.layout.directory / "plugins"
    flags = preload.preload_flags(plugins)
    assert flags is not None
    assert shared_broker.beam_pid is not None
    assert psutil.Process(shared_broker.beam_pid).environ().get("ERL_AFLAGS") == flags
    # the same flags in a bare Erlang VM: before any other code runs, RabbitMQ's modules, its
    # plugins' and the Erlang applications they need are loaded (erlexec parsed the quoting)
    probe = ("io:format(\"~p~n\", [[code:is_loaded(M) =/= false || M <- [rabbit_boot_steps, cowboy, "
             "rabbit_mgmt_app, mnesia, ssl]]]), halt().")
    out = subprocess.run(["erl", "-noshell", "-eval", probe], env={**WITHOUT_ERL, "ERL_AFLAGS": flags},
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.strip() == "[true,true,true,true,true]"


@pytest.mark.rabbitmq
@pytest.mark.timeout(120)
def test_the_vm_rabbitmq_starts_only_to_make_sure_epmd_runs_loads_nothing(shared_broker: ManagedBroker) -> None:
    """RabbitMQ starts a throwaway VM named epmd-starter-N at every boot; it inherits the node's
    environment, and with the preload it loaded all 1,100 modules (about 2.9 CPU-s a boot)."""
    flags = preload.preload_flags(shared_broker.layout.directory / "plugins")
    assert flags is not None
    probe = "io:format(\"~p~n\", [[code:is_loaded(M) =/= false || M <- [rabbit_boot_steps, cowboy]]]), halt()."
    env = {**WITHOUT_ERL, "ERL_AFLAGS": flags, "ERL_EPMD_PORT": str(shared_broker.layout.epmd_port)}
    found = {}
    for name in (f"{preload.EPMD_STARTER}{os.getpid()}", f"lab-probe-{os.getpid()}"):
        found[name.split("-")[0]] = subprocess.run(
            ["erl", "-sname", name, "-kernel", "inet_dist_use_interface", "{127,0,0,1}", "-noshell",
             "-eval", probe], env=env, capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert found == {"epmd": "[false,false]", "lab": "[true,true]"}

"""A managed RabbitMQ cluster (issue #13) against real rabbitmq-server members.

One three-member cluster boot (~12-25 s) serves the member-control tests of
this module (they run in file order and leave the cluster whole); the
hygiene tests boot their own. Failover, leader changes and the counters are
asserted by the examples 22-25 (tests/brokers/test_cluster_examples.py).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pika
import psutil
import pytest

from engines.brokers import ClusterBroker, procs
from engines.brokers import install as install_mod
from engines.brokers.handle import BrokerState
from engines.brokers.leaders import fetch_queues
from engines.runtime.errors import RunError
from engines.runtime.supervisor import Supervisor
from engines.topology import topofile
from tests.brokers.conftest import RABBIT_MISSING

pytestmark = pytest.mark.rabbitmq
ROOT = Path(__file__).resolve().parents[2]


def running_nodes(cluster: ClusterBroker, via: int) -> list[str]:
    """Member names the cluster reports running, asked through member `via`'s management API."""
    lay = cluster.layouts[via - 1]
    req = urllib.request.Request(f"http://127.0.0.1:{lay.mgmt_port}/api/nodes?columns=name,running")
    token = base64.b64encode(f"{lay.user}:{lay.password}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
        rows = json.loads(resp.read())
    by_node = {x.nodename: x.name for x in cluster.layouts}
    return sorted(by_node[r["name"]] for r in rows if r.get("running"))


def run_processes(cluster: ClusterBroker) -> list[psutil.Process]:
    """Live processes carrying one of the cluster's node names, and epmd on its port."""
    names = [lay.nodename for lay in cluster.layouts]
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if proc.info["status"] != psutil.STATUS_ZOMBIE and any(n in cmd for n in names):
            found.append(proc)
    return found + procs.epmd_processes(cluster.epmd_port)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterBroker]:
    if RABBIT_MISSING:
        pytest.skip(RABBIT_MISSING)
    c = ClusterBroker("rabbit", tmp_path_factory.mktemp("cluster"), 3)
    try:
        c.start(timeout=150)
        yield c
    finally:
        c.close()
        assert run_processes(c) == [], "a member, beam helper or epmd outlived close()"


@pytest.mark.timeout(200)
def test_three_members_form_one_cluster_on_loopback(cluster: ClusterBroker) -> None:
    assert running_nodes(cluster, 3) == ["rabbit/1", "rabbit/2", "rabbit/3"]
    assert cluster.state is BrokerState.RUNNING
    assert len(cluster.url.split()) == 3
    assert len({lay.epmd_port for lay in cluster.layouts}) == 1, "one epmd for the cluster"
    assert len({lay.amqp_port for lay in cluster.layouts}) == 3
    assert len({lay.nodename for lay in cluster.layouts}) == 3
    for lay in cluster.layouts:  # every listener of every member is on loopback
        assert f"listeners.tcp.default = 127.0.0.1:{lay.amqp_port}" in lay.config_file.read_text()
    cookies = {(lay.home / ".erlang.cookie").read_text() for lay in cluster.layouts}
    assert len(cookies) == 1


@pytest.mark.timeout(200)
def test_a_quorum_queue_is_replicated_and_survives_its_leader(cluster: ClusterBroker) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(cluster.urls[0]))
    ch = conn.channel()
    ch.confirm_delivery()
    ch.queue_declare("survivor", durable=True, arguments={"x-queue-type": "quorum"})
    for i in range(50):
        ch.basic_publish("", "survivor", str(i).encode(), pika.BasicProperties(delivery_mode=2))
    conn.close()
    views = {v.name: v for v in fetch_queues(cluster) or []}
    assert views["survivor"].leader == "rabbit/1", "declared through member 1: led there"
    assert sorted(views["survivor"].members) == ["rabbit/1", "rabbit/2", "rabbit/3"]

    cluster.member(1).kill()
    assert cluster.member(1).state is BrokerState.KILLED
    assert cluster.member(1).pids() == []
    deadline = time.monotonic() + 60
    leader = None
    while time.monotonic() < deadline:
        views = {v.name: v for v in fetch_queues(cluster) or []}
        leader = views["survivor"].leader if "survivor" in views else None
        if leader in ("rabbit/2", "rabbit/3"):
            break
        time.sleep(0.25)
    assert leader in ("rabbit/2", "rabbit/3"), "a follower took over"
    conn = pika.BlockingConnection(pika.URLParameters(cluster.urls[1]))
    ok = conn.channel().queue_declare("survivor", passive=True)
    conn.close()
    assert ok.method.message_count == 50, "every confirmed message is still there"

    cluster.start_member(cluster.member(1), timeout=120)  # same data: it rejoins
    assert running_nodes(cluster, 2) == ["rabbit/1", "rabbit/2", "rabbit/3"]


@pytest.mark.timeout(120)
def test_a_member_pauses_and_resumes_on_its_own(cluster: ClusterBroker) -> None:
    member = cluster.member(3)
    member.pause()
    try:
        assert member.state is BrokerState.PAUSED
        assert cluster.member(2).state is BrokerState.RUNNING
        stopped = [p.status() for p in psutil.Process(member.beam_pid).children()]  # type: ignore[arg-type]
        assert psutil.Process(member.beam_pid).status() == psutil.STATUS_STOPPED  # type: ignore[arg-type]
        assert all(s == psutil.STATUS_STOPPED for s in stopped)
    finally:
        member.resume()
    assert member.state is BrokerState.RUNNING
    assert running_nodes(cluster, 3) == ["rabbit/1", "rabbit/2", "rabbit/3"]


@pytest.mark.timeout(200)
def test_sigkilled_runner_during_cluster_boot_leaves_nothing(tmp_path: Path) -> None:
    """The runner dies while members boot: every beam, helper and the epmd go too."""
    if RABBIT_MISSING:
        pytest.skip(RABBIT_MISSING)
    out = tmp_path / "out"
    runner = subprocess.Popen(
        [sys.executable, "-m", "labgui", "run", "--out", str(out),
         str(ROOT / "topologies" / "22-cluster-quorum-leader-killed.topo.yaml")],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        beams: list[int] = []
        while time.monotonic() < deadline and runner.poll() is None:
            states = [json.loads(p.read_text()) for p in out.glob("brokers/*/state.json")]
            beams = [s["beam_pid"] for s in states if s.get("beam_pid")]
            if beams:  # member 1 is booting (the others wait for it)
                break
            time.sleep(0.05)
        assert beams, "the cluster never started booting"
        states = [json.loads(p.read_text()) for p in out.glob("brokers/*/state.json")]
        assert len(states) == 3
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    names = [s["nodename"] for s in states]
    epmd_port = states[0]["epmd_port"]
    deadline = time.monotonic() + 20
    left: list[psutil.Process] = []
    while time.monotonic() < deadline:
        left = [p for p in psutil.process_iter(["cmdline", "status"])
                if p.info["status"] != psutil.STATUS_ZOMBIE
                and any(n in " ".join(p.info["cmdline"] or []) for n in names)]
        left += procs.epmd_processes(epmd_port)
        if not left:
            break
        time.sleep(0.2)
    assert left == [], f"outlived the SIGKILLed runner: {left}"


def test_cluster_run_refused_in_preflight_without_rabbitmq(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(install_mod, "server_script", lambda: None)
    topo = topofile.load(ROOT / "topologies" / "22-cluster-quorum-leader-killed.topo.yaml").topology
    sup = Supervisor(topo, tmp_path / "run")
    try:
        with pytest.raises(RunError, match="needs RabbitMQ"):
            sup.start()
        assert not list((tmp_path / "run").glob("brokers/*")), "nothing of a member was made"
    finally:
        sup.close()


def test_member_names_and_quorum_default() -> None:
    from engines.brokers.plan import link_specs

    topo = topofile.load(ROOT / "topologies" / "24-single-node-vs-cluster.topo.yaml").topology
    assert topo.node("cluster").member_names() == ["cluster/1", "cluster/2", "cluster/3"]
    assert topo.node("single").member_names() == []
    specs = link_specs(topo)
    assert specs["cluster->pay_cluster"]["queues"][0]["queue_type"] == "quorum", "clustered: quorum"
    assert specs["single->pay_single"]["queues"][0]["queue_type"] == "classic"
    classic = topofile.load(ROOT / "topologies" / "25-cluster-classic-queue-host-killed.topo.yaml").topology
    assert link_specs(classic)["rabbit->payments"]["queues"][0]["queue_type"] == "classic"
    assert os.sep not in topo.node("cluster").name

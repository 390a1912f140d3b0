"""Every ZeroMQ and HTTP example runs headless as real processes, and with its faults removed
the counts are exact: every message sent is processed once, nothing lost, nothing duplicated."""

from __future__ import annotations

import pytest

from engines.topology.model import ClientNode, ServiceNode
from tests.runtime.conftest import assert_no_node_left, without_faults

BROKERLESS = ["01", "02", "04", "06", "08", "10", "15"]


@pytest.mark.timeout(90)
@pytest.mark.parametrize("number", BROKERLESS)
def test_example_counts_are_exact_without_faults(lab, number):
    topo = without_faults(number)
    summary, sup = lab.run(topo)
    total = summary["total"]
    for client in topo.clients():
        node = summary["nodes"][client.name]
        assert node["sent"] == client.count, f"{client.name} did not send its count"
        assert node["errors"] == 0
        assert node["timeouts"] == 0
        if client.style.one_to_many:  # every subscriber gets every message
            for link in topo.links_from(client.name):
                scoped = summary["links"][link.key]
                assert scoped["processed"] == scoped["sent"] == client.count, link.key
                assert scoped["lost"] == 0
        else:
            assert node["processed"] == node["sent"]
            if client.style.expects_reply:
                assert node["acknowledged"] == node["sent"]
    assert total["lost"] == 0
    assert total["in_doubt"] == 0
    assert total["duplicates_delivered"] == 0
    assert total["duplicates_processed"] == 0
    assert total["duplicates_suppressed"] == 0
    assert total["throughput"] > 0 and total["p50_latency_ms"] is not None
    assert all(state["state"] == "exited" for state in summary["node_states"].values())
    assert (sup.run_dir / "summary.json").exists() and (sup.run_dir / "metrics.csv").exists()
    assert (sup.run_dir / "events.jsonl").read_text().count('"ready"') == len(topo.nodes)
    sup.close()
    assert_no_node_left()


@pytest.mark.timeout(90)
def test_http_async_and_notification_are_exact(lab):
    from engines.topology.model import Topology

    topo = Topology(
        name="http-styles",
        nodes=[ClientNode(name="burst", style="async-request-response", transport="http", rate=0,
                          count=400, in_flight=8),
               ClientNode(name="notes", style="notification", transport="http", rate=200, count=200),
               ServiceNode(name="api"), ServiceNode(name="inbox", reply=False)],
        links=[{"from": "burst", "to": "api"}, {"from": "notes", "to": "inbox"}],
    )
    summary, sup = lab.run(topo)
    for name, count in (("burst", 400), ("notes", 200)):
        node = summary["nodes"][name]
        assert node["sent"] == node["acknowledged"] == node["processed"] == count, name
        assert node["errors"] == 0 and node["timeouts"] == 0
    assert summary["nodes"]["burst"]["replies"] == 400, "200 with a reply body"
    assert summary["nodes"]["notes"]["replies"] == 0, "202 Accepted carries no reply"
    assert summary["total"]["lost"] == summary["total"]["duplicates_delivered"] == 0

"""The HTTP server's group commit and a crash after commit: the named message alone comes back.

Many requests in flight make the HTTP service's threads commit together (group commit). A
crash after the Nth message's commit must duplicate that message and no other: the messages
before it commit in a transaction of their own and are answered before it commits.
"""

from __future__ import annotations

import pytest

from engines.topology.model import ClientNode, Crash, ServiceNode, Topology


def _crowded(idempotent: bool) -> Topology:
    name = "cards-idempotent" if idempotent else "cards-naive"
    return Topology(
        name=f"http-group-commit-{name}",
        nodes=[ClientNode(name="orders", style="async-request-response", transport="http", rate=0,
                          count=600, in_flight=48, timeout_ms=30_000, retries=20),
               ServiceNode(name=name, processing_ms=2, idempotent=idempotent, restart_on_crash=True,
                           crash=Crash(after=200, point="after-commit"))],
        links=[{"from": "orders", "to": name}],
    )


@pytest.mark.timeout(180)
@pytest.mark.parametrize("idempotent", [False, True], ids=["naive", "idempotent"])
def test_a_crash_after_commit_in_a_group_commit_duplicates_the_named_message_only(lab, idempotent):
    summary, sup = lab.run(_crowded(idempotent))
    name = "cards-idempotent" if idempotent else "cards-naive"
    node, total = summary["nodes"][name], summary["total"]
    assert summary["node_states"][name]["lives"] == 2
    assert (sup.table.nodes[name].node_dir / "crashed").exists()
    assert total["sent"] == 600 and total["acknowledged"] == 600 and total["lost"] == 0, total
    assert total["retries"] >= 1, total  # what the crash took in flight was sent again
    assert total["timeouts"] == 0, total  # (a request timed out on a loaded machine would be resent)
    if idempotent:
        assert node["duplicates_suppressed"] == 1 and node["duplicates_processed"] == 0, node
    else:
        assert node["duplicates_processed"] == 1, node  # the 200th, committed and never answered

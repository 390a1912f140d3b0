"""Where a step 'after N messages' lands on the run clock, from the clients' rates and counts."""

from __future__ import annotations

from engines.topology.model import ClientNode, Topology
from engines.topology.scenario_times import messages_at, time_of_message


def lab(*clients: ClientNode) -> Topology:
    return Topology(name="t", nodes=list(clients))


def test_two_clients_until_the_first_is_done_then_one() -> None:
    topo = lab(ClientNode(name="a", rate=100, count=200), ClientNode(name="b", rate=50, count=None, duration_s=10))
    assert time_of_message(topo, 150) == 1.0  # 150/s together
    assert time_of_message(topo, 300) == 2.0  # a is done at 2 s with 200, b has 100
    assert time_of_message(topo, 350) == 3.0  # then b alone at 50/s
    assert messages_at(topo, 3.0) == 350
    assert time_of_message(topo, 700) == 10.0 and time_of_message(topo, 701) is None  # b stops
    assert messages_at(topo, 0.0) == 1


def test_no_estimate_when_the_message_is_never_sent_or_a_client_is_unpaced() -> None:
    assert time_of_message(lab(ClientNode(name="a", rate=100, count=100)), 101) is None
    assert time_of_message(lab(ClientNode(name="a", rate=0)), 5) is None
    assert messages_at(lab(ClientNode(name="a", rate=0)), 5.0) is None
    assert time_of_message(lab(), 5) is None

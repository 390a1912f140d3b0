"""The live view of a chain of zmq calls (issue 12): calls out piling up at a service fed by a
ROUTER, and the breaker of a zmq call link shown on the link, against real processes.

Screenshot to test-output/chain-zmq.png; with LAB_UPDATE_SCREENSHOTS=1 also to docs/images/.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import ROOT
from tests.gui.runs import (
    assert_run_left_nothing,
    menu_action,
    node,
    open_example,
    wait_phase,
    wait_state,
)
from tests.gui.test_run_chain import by_hand, delivered, keep
from tests.gui.test_screenshots import shoot

pytestmark = [pytest.mark.gui]


def with_breaker(data):
    """Example 38 by hand, its payment->fraud call with a breaker that stays open once opened."""
    by_hand(data)
    node(data, "shop")["rate"] = 100
    link = next(lk for lk in data["links"] if lk["from"] == "payment" and lk["to"] == "fraud")
    link.update(breaker_failures=2, breaker_open_ms=60000)


@pytest.mark.timeout(240)
def test_zmq_calls_pile_up_and_the_breaker_shows_on_its_link(window, qtbot, tmp_path):
    open_example(window, tmp_path, "38", with_breaker)
    rm, scene = window.run_mode, window.scene
    rm.run()
    wait_state(qtbot, window, "shop", ("ready",), 60)
    qtbot.waitUntil(lambda: rm.session.now() > 2 and delivered(rm, "fraud") > 50, timeout=60000)
    menu_action(window, scene.node_item("fraud"), "pause").trigger()
    wait_state(qtbot, window, "fraud", ("paused",), 20)
    link = scene.link_item("payment->fraud")
    qtbot.waitUntil(lambda: rm.sampler.breakers.get("payment->fraud", "") == "open"
                    and "breaker open" in (link.rate or ""), timeout=30000)
    # payment fails fast and answers nothing; order's REQ calls wait their 2 s each: they pile up
    qtbot.waitUntil(lambda: rm.sampler.nodes["order"].in_flight >= 16, timeout=30000)
    qtbot.wait(600)
    window.view.fit_to_view()
    path = shoot(window, "chain-zmq.png")
    assert "calls out" in (scene.node_item("order").detail or "")
    assert scene.node_item("order").badge and "calls out" in scene.node_item("order").badge
    column = rm.sampler.ring.column(rm.sampler.col_in_flight["order"])
    assert np.nanmax(column) >= 16  # the "in flight" plot's data
    assert any(e.get("event") == "breaker" and e.get("state") == "open"
               for e in rm.sampler.sup.events.since(0))
    menu_action(window, scene.node_item("fraud"), "resume").trigger()
    rm.stop()
    wait_phase(qtbot, window, ("ended",), 60)
    assert_run_left_nothing(window)
    keep(path)


def test_the_inspector_shows_an_amqp_rpc_calls_settings(window, qtbot):
    window.open_file(ROOT / "topologies" / "39-chain-rabbitmq-rpc-restart.topo.yaml")
    window.scene.select(links=["payment->rabbit"])
    qtbot.waitUntil(lambda: window.inspector.target == ("link", "payment->rabbit"))
    editors = window.inspector.editors
    for field in ("style", "timeout_ms", "retries", "in_flight", "max_concurrent", "breaker_failures"):
        assert field in editors, field
    assert editors["timeout_ms"].value() == 10000

"""The live view of a service chain (issue 12): the pile-up of calls on the canvas and the
"in flight" plot, and a circuit breaker's state on its link, against real processes.

Screenshots go to test-output/; with LAB_UPDATE_SCREENSHOTS=1 also to docs/images/
(chain-pile-up.png, chain-breaker.png: the README shows them).
"""

from __future__ import annotations

import os

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
from tests.gui.test_screenshots import shoot

pytestmark = [pytest.mark.gui]
IMAGES = ROOT / "docs" / "images"


def by_hand(data):
    """A chain example without its scenario: the test pauses fraud itself."""
    data["scenario"] = []
    data["expectations"] = []
    node(data, "shop")["count"] = 100_000


def delivered(rm, service: str) -> int:
    return int(rm.sampler.nodes[service].totals.get("delivered", 0))


def keep(path):
    if os.environ.get("LAB_UPDATE_SCREENSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        (IMAGES / path.name).write_bytes(path.read_bytes())


@pytest.mark.timeout(240)
def test_paused_end_of_a_chain_piles_calls_up_on_the_canvas(window, qtbot, tmp_path):
    open_example(window, tmp_path, "17", by_hand)
    rm, scene = window.run_mode, window.scene
    rm.run()
    wait_state(qtbot, window, "shop", ("ready",), 60)
    qtbot.waitUntil(lambda: rm.session.now() > 2 and delivered(rm, "fraud") > 50, timeout=60000)
    menu_action(window, scene.node_item("fraud"), "pause").trigger()
    wait_state(qtbot, window, "fraud", ("paused",), 20)
    qtbot.waitUntil(lambda: rm.sampler.nodes["order"].in_flight >= 16, timeout=20000)
    # both upstream tiles show their calls out (sampled a few times a second: wait for the sample)
    qtbot.waitUntil(lambda: "calls out" in (scene.node_item("order").detail or "")
                    and "calls out" in (scene.node_item("payment").badge or ""), timeout=20000)
    path = shoot(window, "chain-pile-up.png")
    column = rm.sampler.ring.column(rm.sampler.col_in_flight["order"])
    assert np.nanmax(column) >= 16  # the "in flight" plot's data
    menu_action(window, scene.node_item("fraud"), "resume").trigger()
    rm.stop()
    wait_phase(qtbot, window, ("ended",), 60)
    assert_run_left_nothing(window)
    keep(path)


@pytest.mark.timeout(240)
def test_an_open_breaker_shows_on_its_link(window, qtbot, tmp_path):
    open_example(window, tmp_path, "19", by_hand)
    rm, scene = window.run_mode, window.scene
    rm.run()
    wait_state(qtbot, window, "shop", ("ready",), 60)
    qtbot.waitUntil(lambda: rm.session.now() > 2 and delivered(rm, "fraud") > 50, timeout=60000)
    menu_action(window, scene.node_item("fraud"), "pause").trigger()
    wait_state(qtbot, window, "fraud", ("paused",), 20)
    link = scene.link_item("payment->fraud")
    seen: list[str] = []  # on a loaded machine a call may time out before the pause, too

    def open_now() -> bool:
        seen.append(rm.sampler.breakers.get("payment->fraud", ""))
        return seen[-1] == "open" and "breaker open" in (link.rate or "")

    qtbot.waitUntil(open_now, timeout=20000)
    path = shoot(window, "chain-breaker.png")
    assert rm.sampler.nodes["payment"].in_flight_peak <= 4  # the bulkhead held
    qtbot.waitUntil(lambda: any(e.get("event") == "breaker" for e in rm.sampler.sup.events.since(0)), timeout=5000)
    menu_action(window, scene.node_item("fraud"), "resume").trigger()
    qtbot.waitUntil(lambda: "breaker" not in (link.rate or ""), timeout=20000)  # it closes again
    rm.stop()
    wait_phase(qtbot, window, ("ended",), 60)
    assert_run_left_nothing(window)
    keep(path)


def test_the_inspector_edits_a_service_link_and_hides_those_fields_on_a_client_link(window, qtbot):
    window.open_file(ROOT / "topologies" / "19-chain-http-breaker.topo.yaml")
    window.scene.select(links=["payment->fraud"])
    qtbot.waitUntil(lambda: window.inspector.target == ("link", "payment->fraud"))
    editors = window.inspector.editors
    for field in ("style", "transport", "timeout_ms", "max_concurrent", "breaker_failures", "breaker_open_ms"):
        assert field in editors, field
    assert editors["max_concurrent"].value() == 4
    window.view.fit_to_view()
    keep(shoot(window, "chain-inspector.png"))
    window.scene.select(links=["shop->order"])
    qtbot.waitUntil(lambda: window.inspector.target == ("link", "shop->order"))
    assert not {"style", "timeout_ms", "max_concurrent", "delivery"} & set(window.inspector.editors)

"""A client -> broker topology with no consumer (issue 16, defect 4).

Validation warns (a queue nobody consumes); the client's link shows the rate
the client really sends, not 0/s; the result is coloured by what happened (all
lost is red), not green because no expectation failed.
"""

from __future__ import annotations

import pytest

from engines.topology.problems import Severity
from labgui.run.result_panel import FAIL, PASS
from tests.gui.runs import assert_run_left_nothing, needs_rabbitmq, wait_phase

pytestmark = pytest.mark.gui

TOPOLOGY = """\
version: 1
name: no-consumer
nodes:
  - {name: shop, kind: client, style: notification, transport: amqp, rate: 100, count: 300}
  - {name: rabbit, kind: broker}
links:
  - {from: shop, to: rabbit}
"""


def test_validation_warns_about_a_queue_nobody_consumes(window, tmp_path):
    path = tmp_path / "no-consumer.topo.yaml"
    path.write_text(TOPOLOGY)
    assert window.open_file(path)
    warnings = [p for p in window.problems.problems() if p.severity is Severity.WARNING]
    assert any("nothing consumes queue 'shop'" in p.message and p.link == "shop->rabbit" for p in warnings)
    assert "warning" in window.problem_label.text() and "ready to run" not in window.problem_label.text()


@pytest.mark.rabbitmq
@needs_rabbitmq
@pytest.mark.timeout(240)
def test_the_link_shows_its_real_rate_and_the_result_is_red_when_all_is_lost(window, qtbot, tmp_path):
    path = tmp_path / "no-consumer.topo.yaml"
    path.write_text(TOPOLOGY)
    assert window.open_file(path)
    window.run_mode.run_root = tmp_path / "runs"
    rm = window.run_mode
    link = window.scene.link_item("shop->rabbit")
    rm.run_action.trigger()
    qtbot.waitUntil(lambda: rm.sampler is not None and rm.sampler.link_rates.get("shop->rabbit", 0) > 5,
                    timeout=90000)
    qtbot.waitUntil(lambda: link.rate not in ("0/s", "–", None), timeout=2000)  # the canvas shows it
    wait_phase(qtbot, window, ("ended",), 90)
    total = rm.session.summary["total"]
    assert total["sent"] == 300 and total["processed"] == 0
    assert total["lost"] + total["in_doubt"] == 300
    style = rm.dashboard.result.headline.styleSheet()
    assert PASS not in style and FAIL in style
    assert_run_left_nothing(window, timeout_s=90)

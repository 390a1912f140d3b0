"""Screenshots of a running brokered topology before and after a broker kill, 1280x800, to be looked at.

Written to test-output/; with LAB_UPDATE_SCREENSHOTS=1 also to
docs/images/run-before-kill.png and docs/images/run-after-kill.png (the README
shows one). What a reader must see in the second: the broker is down, the
rates fell to zero, and messages pile up at the publisher.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import ROOT
from tests.gui.runs import (
    assert_run_left_nothing,
    by_hand,
    menu_action,
    needs_rabbitmq,
    open_example,
    wait_phase,
    wait_state,
)
from tests.gui.test_run_broker_failure import processed
from tests.gui.test_screenshots import shoot

pytestmark = [pytest.mark.gui, pytest.mark.rabbitmq]
IMAGES = ROOT / "docs" / "images"


@needs_rabbitmq
@pytest.mark.timeout(120)
def test_screenshots_before_and_after_a_broker_kill(window, qtbot, tmp_path):
    open_example(window, tmp_path, "12", by_hand)
    rm, scene = window.run_mode, window.scene
    rm.run()
    wait_state(qtbot, window, "checkout", ("ready",), 60)
    qtbot.waitUntil(lambda: rm.session.now() > 4 and processed(window) > 500
                    and (rm.dashboard.counters.values()["processed"] or 0) > 0, timeout=30000)
    qtbot.wait(300)
    before = shoot(window, "run-before-kill.png")

    menu_action(window, scene.node_item("rabbit"), "kill").trigger()
    wait_state(qtbot, window, "rabbit", ("killed",), 20)
    killed_at = rm.session.now()
    qtbot.waitUntil(lambda: rm.session.now() > killed_at + 3, timeout=10000)
    qtbot.wait(300)
    after = shoot(window, "run-after-kill.png")
    assert scene.node_item("rabbit").badge == "KILLED"
    assert scene.link_item("checkout->rabbit").rate == "0/s"
    assert rm.sampler.nodes["checkout"].backlog > 300  # 200/s for 3 s, not sent

    rm.stop()
    wait_phase(qtbot, window, ("ended",), 60)
    assert_run_left_nothing(window)
    if os.environ.get("LAB_UPDATE_SCREENSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        for path in (before, after):
            (IMAGES / path.name).write_bytes(path.read_bytes())

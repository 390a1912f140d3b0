"""Mail on the canvas during a run: its own glyphs and link colours, the mailbox depth as a badge.

Example 27 with slow readers, so mail piles up unseen: the mail service's
badge shows the unseen mails like a broker's queue depth. Written to
test-output/run-mail.png; with LAB_UPDATE_SCREENSHOTS=1 also to
docs/images/run-mail.png (the README shows it).
"""

from __future__ import annotations

import os
from typing import Any

import psutil
import pytest

from engines.topology.vocabulary import Transport
from labgui.canvas import theme
from tests.conftest import ROOT
from tests.gui.runs import assert_run_left_nothing, node, open_example, wait_phase, wait_state
from tests.gui.test_screenshots import shoot

pytestmark = [pytest.mark.gui]
IMAGES = ROOT / "docs" / "images"


def _slow_readers(data: dict[str, Any]) -> None:
    node(data, "shop")["rate"] = 60
    node(data, "shop")["count"] = 400
    for name in ("reader", "reader-naive"):
        node(data, name)["processing_ms"] = 30  # ~33 mails/s: the mailbox fills


def _mailbox_depth(window: Any) -> int:
    badge = window.scene.node_item("mail").badge or ""
    return int(badge.split()[1]) if badge.startswith("mailbox ") else -1


@pytest.mark.timeout(240)
def test_mail_run_shows_mailbox_depth_and_its_own_look(window, qtbot, tmp_path):
    open_example(window, tmp_path, "27", _slow_readers)
    scene = window.scene
    assert scene.node_item("mail").glyph == theme.MAIL_SERVICE
    assert scene.node_item("reader").glyph == theme.MAIL_READER
    assert scene.node_item("shop").glyph is None
    assert scene.link_item("shop->mail").transport is Transport.SMTP
    assert scene.link_item("mail->reader").transport is Transport.IMAP
    rm = window.run_mode
    rm.run()
    wait_state(qtbot, window, "shop", ("ready",), 60)
    qtbot.waitUntil(lambda: _mailbox_depth(window) >= 20, timeout=60000)
    # a fuller picture when the machine allows it (SMTP takes four round trips per mail)
    qtbot.waitUntil(lambda: rm.sampler.nodes["shop"].totals.get("sent", 0) >= 200
                    or rm.session.now() > 12, timeout=60000)
    qtbot.wait(300)
    path = shoot(window, "run-mail.png")
    assert scene.link_item("shop->mail").rate not in (None, "–")
    rm.stop()
    wait_phase(qtbot, window, ("ended",), 90)
    assert_run_left_nothing(window)
    left = [p for p in psutil.Process().children(recursive=True)
            if "mailbox_server" in " ".join(p.cmdline())]
    assert not left, "an IMAP server outlived the run"
    if os.environ.get("LAB_UPDATE_SCREENSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        (IMAGES / path.name).write_bytes(path.read_bytes())


def test_a_mail_service_links_to_its_reader_by_drag(window, qtbot, tmp_path):
    """smtp client -> service makes a mail service: its + handle draws an imap link to a reader
    (every service has a + handle since service chains; a mail service's link is a reader's)."""
    from engines.topology.vocabulary import NodeKind
    from tests.gui.conftest import drag, drop_from_palette, handle_of

    drop_from_palette(window, NodeKind.CLIENT, (0, 0))
    drop_from_palette(window, NodeKind.SERVICE, (300, 0))
    drop_from_palette(window, NodeKind.SERVICE, (600, 0))
    scene = window.scene
    drag(window, handle_of(window, "client"), scene.node_item("service").pos())
    scene.select(["client"])
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "client"))
    qtbot.waitUntil(lambda: "transport" in window.inspector.editors)
    combo = window.inspector.editors["transport"].widget
    combo.setCurrentIndex(combo.findData(Transport.SMTP))  # the inspector, as a user would
    qtbot.waitUntil(lambda: window.doc.topology.node("client").transport is Transport.SMTP, timeout=2000)
    qtbot.waitUntil(lambda: scene.node_item("service").glyph == theme.MAIL_SERVICE, timeout=2000)
    assert scene.node_item("service").is_source
    drag(window, handle_of(window, "service"), scene.node_item("service-2").pos())
    assert window.doc.topology.has_link("service->service-2")
    assert scene.link_item("service->service-2").transport is Transport.IMAP
    qtbot.waitUntil(lambda: scene.node_item("service-2").glyph == theme.MAIL_READER, timeout=2000)
    assert scene.node_item("service-2").subtitle.startswith("mail reader")

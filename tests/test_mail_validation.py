"""Mail in a topology file: what validation accepts and refuses, and the Message-ID format."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.topology import topofile
from engines.topology.problems import Severity, TopologyError
from engines.topology.validation import link_refusal
from engines.topology.vocabulary import Transport
from engines.transports import maildirs


def _errors(text: str) -> list[str]:
    try:
        topology = topofile.loads(text).topology
    except TopologyError as exc:
        return [p.message for p in exc.problems if p.severity is Severity.ERROR]
    return [p.message for p in topofile.check(topology) if p.severity is Severity.ERROR]


MAIL = """
version: 1
name: mail
nodes:
  - {{name: shop, kind: client, style: {style}, transport: {transport}, count: 10}}
  - {{name: mail, kind: service}}
  - {{name: reader, kind: service}}
links:
  - {{from: shop, to: mail}}
  - {{from: mail, to: reader}}
"""


def test_smtp_notification_with_a_reader_is_valid() -> None:
    assert _errors(MAIL.format(style="notification", transport="smtp")) == []
    topology = topofile.loads(MAIL.format(style="notification", transport="smtp")).topology
    assert topology.link_transport(topology.link("mail->reader")) is Transport.IMAP
    assert [lk.key for lk in topology.mail_readers("mail")] == ["mail->reader"]


@pytest.mark.parametrize("style", ["request-response", "async-request-response", "publish-subscribe"])
def test_other_styles_over_smtp_are_refused_with_a_clear_message(style: str) -> None:
    errors = _errors(MAIL.format(style=style, transport="smtp"))
    assert any("smtp carries one-way notification only" in e and style in e for e in errors), errors


def test_a_client_cannot_speak_imap() -> None:
    errors = _errors(MAIL.format(style="notification", transport="imap"))
    assert any("a client cannot speak imap" in e for e in errors), errors


def test_only_a_mail_service_links_to_a_reader() -> None:
    # without smtp, 'mail' is an ordinary service: its link to 'reader' is a chain hop (issue 12),
    # an http call here, which a service fed over zmq makes too
    topology = topofile.loads(MAIL.format(style="notification", transport="http")).topology
    assert topology.link_transport(topology.link("mail->reader")) is Transport.HTTP
    assert topology.mail_readers("mail") == []
    errors = _errors(MAIL.format(style="notification", transport="zmq"))
    assert errors == [], errors
    topology = topofile.loads(MAIL.format(style="notification", transport="smtp")).topology
    assert link_refusal(topology, "mail", "reader") is None
    assert link_refusal(topology, "mail", "shop") is not None  # readers are services


def test_message_id_round_trip_and_hostile_values() -> None:
    assert maildirs.parse_message_id(maildirs.message_id("shop-1", 42)) == ("shop-1", 42)
    for bad in ["", "<shop.1@elsewhere>", "<shop.x@topology-lab>", "<.1@topology-lab>",
                "<shop.99999999999@topology-lab>", "<" + "a" * 200 + ".1@topology-lab>", "shop.1"]:
        assert maildirs.parse_message_id(bad) is None, bad


def test_recovery_publishes_committed_mail_and_drops_the_rest(tmp_path: Path) -> None:
    boxes = maildirs.prepare(tmp_path, {})
    kept = maildirs.write_tmp(boxes, f"Message-ID: {maildirs.message_id('shop', 1)}\r\n\r\nx".encode())
    maildirs.write_tmp(boxes, f"Message-ID: {maildirs.message_id('shop', 2)}\r\n\r\nx".encode())
    assert maildirs.recover(boxes, lambda name, seq: seq == 1) == (1, 1)
    assert [p.name for p in (boxes[0] / "new").iterdir()] == [kept[0].name]
    assert not list((boxes[0] / "tmp").iterdir())
    assert maildirs.unseen(boxes[0]) == 1


def test_an_idempotent_mailbox_recovers_a_message_id_once(tmp_path: Path) -> None:
    """The first copy committed, a retry's copy waited in tmp/ when the service was killed:
    an idempotent mailbox publishes the Message-ID once; a naive one publishes both."""
    mail = f"Message-ID: {maildirs.message_id('shop', 7)}\r\n\r\nx".encode()
    for once, published in ((True, 1), (False, 2)):
        boxes = maildirs.prepare(tmp_path / str(once), {})
        maildirs.write_tmp(boxes, mail)
        maildirs.write_tmp(boxes, mail)
        assert maildirs.recover(boxes, lambda name, seq: seq == 7, once=once) == (published, 2 - published)
        assert len(list((boxes[0] / "new").iterdir())) == published
        # a copy already published stays the only one
        maildirs.write_tmp(boxes, mail)
        assert maildirs.recover(boxes, lambda name, seq: seq == 7, once=once)[0] == (0 if once else 1)

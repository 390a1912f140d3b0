"""Mail against the real servers: aiosmtpd in the mail service, pymap serving its Maildirs.

The examples' counters and what the mailboxes hold on disk; garbage on the
SMTP port counted as errors while real mail stays exact; every listener on
127.0.0.1 and nothing (node, IMAP server, port) left after the run.
"""

from __future__ import annotations

import re
import socket
import threading
from pathlib import Path

import psutil
import pytest

from engines.runtime import Supervisor
from engines.runtime.table import format_summary
from engines.topology import topofile
from engines.transports.base import IMAP, SMTP
from tests.runtime.conftest import Lab, example


def _mails(box: Path) -> list[str]:
    """The Message-IDs of the mails a Maildir holds (new and cur)."""
    ids = []
    for sub in ("new", "cur"):
        for path in (box / sub).iterdir():
            found = re.search(rb"^Message-ID: (\S+)", path.read_bytes(), re.MULTILINE | re.IGNORECASE)
            assert found, path
            ids.append(found.group(1).decode())
    return ids


@pytest.mark.timeout(120)
def test_rfc1047_window_mail_service_killed_before_250(lab: Lab) -> None:
    summary, sup = lab.run(example("26"))
    nodes = summary["nodes"]
    for client, service in (("shop", "mail"), ("shop-naive", "mail-naive")):
        assert nodes[client]["sent"] == nodes[client]["acknowledged"] == 200
        assert nodes[client]["resent_in_doubt"] >= 1  # the 250 never came for the 60th mail
        assert nodes[client]["errors_by_kind"].get("reset", 0) >= 1
        assert nodes[service]["processed"] == 200 and nodes[service]["lost"] == 0
    # the idempotent service holds each mail once: the retry was refused by its Message-ID
    kept = _mails(sup.table.nodes["mail"].node_dir / "mail" / "postmaster")
    assert len(kept) == len(set(kept)) == 200 == nodes["mail"]["stored"]
    assert nodes["mail"]["duplicates_suppressed"] >= 1 and nodes["mail"]["duplicates_processed"] == 0
    # the naive one holds the mail of the window twice
    naive = _mails(sup.table.nodes["mail-naive"].node_dir / "mail" / "postmaster")
    twice = nodes["mail-naive"]["duplicates_processed"]
    assert twice >= 1 and len(naive) == 200 + twice == nodes["mail-naive"]["stored"]
    assert len(set(naive)) == 200
    assert summary["total"]["in_doubt"] == 0 and summary["total"]["lost"] == 0
    text = format_summary(summary)  # what `labgui run` prints
    assert "mail stored 200 mail(s) in its Maildir" in text
    assert f"mail-naive stored {200 + twice} mail(s)" in text and "shop resent " in text


@pytest.mark.timeout(120)
def test_reader_killed_between_fetch_and_seen_reads_again(lab: Lab) -> None:
    summary, sup = lab.run(example("27"))
    nodes, links = summary["nodes"], summary["links"]
    assert nodes["shop"]["acknowledged"] == nodes["mail"]["processed"] == 150
    assert nodes["mail"]["stored"] == 150
    for reader in ("reader", "reader-naive"):
        assert nodes[reader]["processed"] == 150 and nodes[reader]["lost"] == 0
        assert nodes[reader]["read"] == nodes[reader]["delivered"] > 150  # read again after the kill
        assert links[f"mail->{reader}"]["processed"] == 150
        box = sup.table.nodes["mail"].node_dir / "mail" / reader
        assert len(list((box / "cur").glob("*:2,*S*"))) == 150  # every mail \Seen in the end
        assert not list((box / "new").iterdir())
    assert nodes["reader"]["duplicates_suppressed"] >= 1 and nodes["reader"]["duplicates_processed"] == 0
    assert nodes["reader-naive"]["duplicates_processed"] >= 1
    # a reader is a second stage: the totals are the client's, not doubled by readers
    assert summary["total"]["processed"] == 150 and summary["total"]["duplicates_processed"] == 0


HOSTILE = """
version: 1
name: hostile-mail
nodes:
  - {name: shop, kind: client, style: notification, transport: smtp, rate: 100, count: 300,
     timeout_ms: 10000}
  - {name: mail, kind: service}
  - {name: reader, kind: service}
links:
  - {from: shop, to: mail}
  - {from: mail, to: reader}
"""

_ENV = b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"
# each one draws exactly one 4xx/5xx answer
SMTP_GARBAGE = [
    b"GARBAGE\r\n",
    b"HELO\r\n",  # no domain
    b"MAIL FROM:<a@b>\r\n",  # before HELO
    b"EHLO x\r\nDATA\r\n",  # DATA before MAIL
    b"EHLO " + b"a" * 5000 + b"\r\n",  # a command line far too long
    _ENV + b"Subject: hi\r\n\r\nnot a lab mail\r\n.\r\n",
    _ENV + b"Message-ID: <nobody.1@topology-lab>\r\nX-Lab-Attempt: 0\r\nX-Lab-Sent-Ns: 1\r\n\r\nx\r\n.\r\n",
    _ENV + b"Message-ID: <shop.99999999999@topology-lab>\r\nX-Lab-Attempt: 0\r\nX-Lab-Sent-Ns: 1\r\n\r\n.\r\n",
    _ENV + b"Message-ID: <shop.5@topology-lab>\r\nX-Lab-Attempt: -1\r\nX-Lab-Sent-Ns: 1\r\n\r\n.\r\n",
]


def _talk(address: str, data: bytes) -> bytes:
    host, _, port = address.rpartition(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer


def _mailbox_servers() -> list[psutil.Process]:
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "engines.transports.mailbox_server" in " ".join(child.cmdline()) \
                    and child.status() != psutil.STATUS_ZOMBIE:
                out.append(child)
        except psutil.NoSuchProcess:
            continue
    return out


def _listening(ports: set[int]) -> list[tuple[str, int]]:
    return [(c.laddr.ip, c.laddr.port) for c in psutil.net_connections("tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr.port in ports]


@pytest.mark.timeout(120)
def test_garbage_on_the_mail_port_is_counted_and_nothing_is_left(tmp_path: Path) -> None:
    topology = topofile.loads(HOSTILE).topology
    answers: list[bytes] = []
    seen: dict[str, object] = {}
    started: list[threading.Thread] = []

    idle: list[socket.socket] = []

    def attack(address: str) -> None:
        host, _, port = address.rpartition(":")
        idle.append(socket.create_connection((host, int(port)), timeout=10))
        idle[0].sendall(b"EHLO idle\r\nMAIL FROM:<a@b>\r\n")  # a session left open to the end
        answers.extend(_talk(address, data) for data in SMTP_GARBAGE)
        noise = bytes(range(256)) * 64
        answers.append(_talk(address, noise))

    def on_tick(sup: Supervisor) -> None:
        if sup.started_at is None or started or sup.plan is None:
            return
        listen = sup.plan.listen["mail"]
        ports = {int(listen[SMTP].rpartition(":")[2]), int(listen[IMAP].rpartition(":")[2])}
        seen["ports"] = ports
        seen["listening"] = _listening(ports)
        seen["servers"] = [p.pid for p in _mailbox_servers()]
        started.append(threading.Thread(target=attack, args=(listen[SMTP],), daemon=True))
        started[0].start()

    with Supervisor(topology, tmp_path / "run") as sup:
        summary = sup.run(on_tick=on_tick)
    started[0].join(30)
    for sock in idle:
        sock.close()
    nodes = summary["nodes"]
    assert nodes["shop"]["sent"] == nodes["shop"]["acknowledged"] == nodes["mail"]["processed"] == 300
    assert nodes["mail"]["duplicates_processed"] == 0 and nodes["reader"]["processed"] == 300
    assert all(a.startswith(b"220 ") for a in answers)  # every connection was served
    refusals = [a for a in answers[:len(SMTP_GARBAGE)] if re.search(rb"\r\n[45]\d\d ", a)]
    assert len(refusals) == len(SMTP_GARBAGE), answers
    assert nodes["mail"]["input_errors"] >= len(SMTP_GARBAGE) + 1  # the noise drew at least one
    states = summary["node_states"]
    assert {s["state"] for s in states.values()} == {"exited"}, states
    # servers bound loopback only, and nothing outlives the run
    ports = seen["ports"]
    assert isinstance(ports, set) and len(seen["listening"]) == 2  # type: ignore[arg-type]
    assert {ip for ip, _ in seen["listening"]} == {"127.0.0.1"}  # type: ignore[attr-defined]
    assert seen["servers"], "the mail service started no IMAP server"
    assert not _mailbox_servers()
    assert not _listening(ports)


def _shop_mail_reader(name: str, shop: str, mail: str = "") -> str:
    """shop -> mail (SMTP) -> reader (IMAP), with the shop's and the mail service's settings."""
    return f"""
version: 1
name: {name}
nodes:
  - {{name: shop, kind: client, style: notification, transport: smtp, {shop}}}
  - {{name: mail, kind: service{mail}}}
  - {{name: reader, kind: service}}
links:
  - {{from: shop, to: mail}}
  - {{from: mail, to: reader}}
"""


CUT = _shop_mail_reader("mail-cut", "rate: 50, count: 200, timeout_ms: 500, retries: 8") + """
scenario:  # on the run's clock, which starts when every node is ready: a heal "after message 51"
  # would wait for the shop's 51st mail, and a shop whose 50th mail the cut caught retries that
  # one for 27 s (its back-off) before it sends another: a suite run saw it give up
  - {action: cut, target: shop->mail, at_s: 1}
  - {action: heal, target: shop->mail, at_s: 1.5}
  - {action: cut, target: mail->reader, at_s: 2}
  - {action: heal, target: mail->reader, at_s: 2.4}
"""


@pytest.mark.timeout(120)
def test_cut_smtp_and_imap_links_heal_without_loss(lab: Lab) -> None:
    summary, _ = lab.run(topofile.loads(CUT).topology)
    nodes = summary["nodes"]
    assert nodes["shop"]["errors_by_kind"].get("reset", 0) >= 1  # the cut closed its session
    assert nodes["shop"]["acknowledged"] == nodes["mail"]["processed"] == 200
    assert nodes["reader"]["processed"] == 200 and nodes["reader"]["lost"] == 0
    assert summary["total"]["lost"] == 0


KILL = _shop_mail_reader("mail-kill", "rate: 50, count: 200, timeout_ms: 500, retries: 8") + """
scenario:  # in seconds: a start right after a kill would find the node still alive
  - {action: kill, target: mail, at_s: 1}
  - {action: start, target: mail, at_s: 2}
"""


@pytest.mark.timeout(120)
def test_a_killed_mail_service_takes_its_imap_server_along(lab: Lab) -> None:
    servers: set[int] = set()

    def on_tick(_sup: Supervisor) -> None:
        servers.update(p.pid for p in _mailbox_servers())

    summary, _ = lab.run(topofile.loads(KILL).topology, on_tick=on_tick)
    nodes = summary["nodes"]
    assert nodes["shop"]["acknowledged"] == nodes["mail"]["processed"] == 200
    assert nodes["reader"]["processed"] == 200 and summary["total"]["lost"] == 0
    assert len(servers) >= 2  # one IMAP server per life of the mail service
    assert not _mailbox_servers()
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in servers)


@pytest.mark.timeout(60)
def test_a_new_life_serves_mailboxes_a_killed_imap_server_left_locked(tmp_path: Path) -> None:
    """pymap deletes a uid list lock only when it is ten minutes old: a server killed with its
    mail service left one, and the next life's server answered every SELECT "[TIMEOUT]"."""
    import imaplib

    from engines.transports import mailbox_server, maildirs

    base = tmp_path / "mail"
    box = maildirs.prepare(base, {"reader": "secret"})[0]
    (box / maildirs.UID_LOCK).write_text("")  # what a SIGKILLed server leaves
    maildirs.prepare(base, {"reader": "secret"})  # the mail service's next life
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = mailbox_server.start("127.0.0.1", port, base, tmp_path / "imap.log", Path.cwd())
    try:
        imap = imaplib.IMAP4("127.0.0.1", port, timeout=8)
        imap.login("reader", "secret")
        status, _ = imap.select("INBOX")
        imap.logout()
    finally:
        mailbox_server.stop(server)
    assert status == "OK"


SLOW = _shop_mail_reader("mail-slow", "rate: 20, count: 10, timeout_ms: 300, retries: 2",
                        ", heavy_every: 5, heavy_ms: 900")


@pytest.mark.timeout(120)
def test_a_mail_committed_after_its_client_gave_up_still_reaches_the_reader(lab: Lab) -> None:
    """The shop waits 300 ms for a 250; every fifth mail takes the service 900 ms. The shop gives
    up on it (closing the session), the service commits it all the same, and the mail must then be
    in the mailbox: the shop's retries are refused as duplicates of it. It was left in tmp/ when
    the session's end cancelled the delivery between its commit and its move into new/."""
    summary, sup = lab.run(topofile.loads(SLOW).topology)
    nodes = summary["nodes"]
    assert nodes["shop"]["timeouts"] >= 2 and nodes["shop"]["acknowledged"] <= 8
    assert nodes["mail"]["processed"] == 10 and nodes["mail"]["duplicates_suppressed"] >= 2
    assert nodes["reader"]["processed"] == 10
    box = sup.table.nodes["mail"].node_dir / "mail" / "reader"
    assert sorted(_mails(box)) == sorted(f"<shop.{seq}@topology-lab>" for seq in range(10))
    assert not list((box / "tmp").iterdir())

"""A mail service's mailboxes on disk: one Maildir per reader, in the layout pymap serves.

The mail service (engines.transports.smtp_mail) writes each mail into
`tmp/` of every mailbox before its database commit and renames it into
`new/` after (Maildir's own two-step delivery), so a mail is never half in a
mailbox. A service killed between the commit and the rename leaves the file
in `tmp/`; the next life moves it to `new/` when its Message-ID was committed
and deletes it when not (`recover`). pymap (engines.transports.mailbox_server)
serves the same directories over IMAP: it keeps flags in the file names
(`:2,S` is \\Seen), so the unseen count is a directory listing.

Layout under the base directory: `pymap-etc-passwd` and `pymap-etc-shadow`
(pymap's users files; the password must be hashed with pysasl's hashing
helper, a plain one makes LOGIN fail with "[SERVERBUG]"), and one Maildir
per reader, named after it. Without readers the mail goes to `postmaster`.

pymap guards each Maildir's uid list with a lock file that it deletes only
when it is 600 s old; an IMAP server killed along with its mail service can
leave one behind, and the next life's server would answer every SELECT with
"[TIMEOUT]" for ten minutes. No server of the mailboxes is alive when a life
starts (it dies with its service), so `prepare` removes such leftovers.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from itertools import count
from pathlib import Path

POSTMASTER = "postmaster"
DOMAIN = "topology-lab"
_SUBDIRS = ("tmp", "new", "cur")
UID_LOCK = "dovecot-uidlist.lock"  # pymap's (dovecot's) uid list lock
_serial = count()


def message_id(client: str, seq: int) -> str:
    """The Message-ID header value that carries the lab's message ID ('client:seq')."""
    return f"<{client}.{seq}@{DOMAIN}>"


def parse_message_id(value: str) -> tuple[str, int] | None:
    """('client', seq) from a lab Message-ID; None for anything else."""
    value = value.strip()
    if not (value.startswith("<") and value.endswith(f"@{DOMAIN}>")) or len(value) > 120:
        return None
    local = value[1:-len(DOMAIN) - 2]
    name, _, number = local.rpartition(".")
    if not name or not number.isdigit() or len(number) > 10:
        return None
    return name, int(number)


def prepare(base: Path, mailboxes: Mapping[str, str]) -> list[Path]:
    """Create the Maildirs and pymap's users files (passwords hashed); return the Maildirs."""
    base.mkdir(parents=True, exist_ok=True)
    names = list(mailboxes) or [POSTMASTER]
    for name in names:
        for sub in _SUBDIRS:
            (base / name / sub).mkdir(parents=True, exist_ok=True)
        (base / name / UID_LOCK).unlink(missing_ok=True)  # a killed server's, never a live one's
    if mailboxes:
        from pysasl.hashing import BuiltinHash  # only where a reader needs a login

        hasher = BuiltinHash()
        passwd = "".join(f"{n}:x::::{n}:\n" for n in mailboxes)
        shadow = "".join(f"{n}:{hasher.hash(pw)}:::::::\n" for n, pw in mailboxes.items())
        _write_private(base / "pymap-etc-passwd", passwd)
        _write_private(base / "pymap-etc-shadow", shadow)
    return [base / n for n in names]


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def unique_name() -> str:
    """A Maildir file name: time, pid, a counter, the host (the Maildir convention)."""
    now = time.time()
    return f"{int(now)}.M{int(now * 1e6) % 1000000}P{os.getpid()}Q{next(_serial)}.{socket.gethostname()}"


def write_tmp(boxes: list[Path], data: bytes) -> list[Path]:
    """Step one of a delivery: the mail in `tmp/` of every mailbox, flushed."""
    name = unique_name()
    written = []
    for box in boxes:
        path = box / "tmp" / name
        with open(path, "wb") as fh:
            fh.write(data)
        written.append(path)
    return written


def publish(paths: list[Path]) -> None:
    """Step two, after the commit: into `new/`, where readers see it."""
    for path in paths:
        os.replace(path, path.parent.parent / "new" / path.name)


def discard(paths: list[Path]) -> None:
    """A duplicate the service refused: the mailbox holds the first copy already."""
    for path in paths:
        path.unlink(missing_ok=True)


def recover(boxes: list[Path], committed: Callable[[str, int], bool], once: bool = False) -> tuple[int, int]:
    """After a kill: publish the mails in `tmp/` that were committed, drop the others.

    With `once` (an idempotent service) a Message-ID already in the mailbox, or met
    twice in `tmp/` (a retry that arrived while the first copy's commit was the last
    thing the killed process did), is published once: its Message-ID is the key the
    service refuses duplicates by, so the mailbox never holds it twice.
    """
    published = dropped = 0
    for box in boxes:
        held = {mid for sub in ("new", "cur") for p in (box / sub).iterdir()
                if (mid := _read_message_id(p)) is not None} if once else set()
        for path in sorted((box / "tmp").iterdir()):
            mid = _read_message_id(path)
            if mid is not None and committed(*mid) and mid not in held:
                publish([path])
                published += 1
                if once:
                    held.add(mid)
            else:
                path.unlink(missing_ok=True)
                dropped += 1
    return published, dropped


def _read_message_id(path: Path) -> tuple[str, int] | None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    for line in head.split(b"\n"):
        if not line.strip():
            break
        if line.lower().startswith(b"message-id:"):
            return parse_message_id(line[11:].decode("ascii", "replace"))
    return None


def unseen(box: Path) -> int:
    """Mails not yet flagged \\Seen: everything in `new/`, and `cur/` files without 'S'."""
    try:
        fresh = len(os.listdir(box / "new"))
        cur = os.listdir(box / "cur")
    except OSError:
        return 0
    return fresh + sum(1 for name in cur if "S" not in name.rpartition(":2,")[2] or ":2," not in name)

"""The mail service's IMAP server: pymap's maildir backend, a child process that dies with it.

pymap is an IMAP4rev1 server in pure Python that runs unprivileged; the mail
service starts it on its `imap` listener over the Maildirs it delivers into
(engines.transports.maildirs). Run as `python -m engines.transports.mailbox_server
PARENT_PID HOST PORT BASE_DIR`: it arms a parent-death signal and a watchdog
first, so a SIGKILLed mail service never leaves an IMAP server behind, then
hands over to pymap (no TLS: loopback only; no admin service).
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1


def command(host: str, port: int, base: Path) -> list[str]:
    """The command line that starts the IMAP server as a child of this process."""
    return [sys.executable, "-m", "engines.transports.mailbox_server", str(os.getpid()), host,
            str(port), str(base)]


def start(host: str, port: int, base: Path, log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start pymap and return once it accepts connections (or raise RuntimeError)."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(command(host, port, base), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=str(cwd))
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the IMAP server exited with {proc.returncode} (see {log_path})")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"the IMAP server did not listen on {host}:{port} within 30 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it lingers; always reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _die_with(parent: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(71)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(71)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def main(argv: list[str]) -> None:
    parent, host, port, base = argv
    _die_with(int(parent))
    from pymap.main import main as pymap_main

    sys.argv = ["pymap", "--no-service", "admin", "--host", host, "--port", port, "--no-tls",
                "maildir", base]
    pymap_main()


if __name__ == "__main__":
    main(sys.argv[1:])

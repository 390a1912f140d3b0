"""Free loopback ports for the listeners of a run (discovery starts here).

The supervisor picks every port before any node starts, so it can hand each
node its peers' endpoints in its spec, and a restarted service binds the same
port its clients keep reconnecting to. Ports are picked below the kernel's
ephemeral range (engines.hygiene.portrange: the kernel never gives those to an
outgoing connection meanwhile) and checked by binding them; the ports of one
run are kept distinct, and with a `RunPorts` entry (engines.hygiene.portreg) no
port another live run holds is ever handed out.
"""

from __future__ import annotations

import socket

from engines.hygiene.portrange import bind_free, candidates
from engines.hygiene.portreg import RunPorts


class PortError(RuntimeError):
    """No free port, or a fixed port that is already taken."""


class Ports:
    def __init__(self, host: str = "127.0.0.1", registry: RunPorts | None = None) -> None:
        self.host = host
        self.taken: set[int] = set()
        self.registry = registry

    def _claim(self, port: int) -> bool:
        return self.registry is None or self.registry.claim(port)

    def free(self, host: str | None = None) -> int:
        """A port nobody listens on now, not yet handed out in this run."""
        tries = candidates()
        for _ in range(500):
            try:
                port = bind_free(host or self.host, next(tries))
            except OSError as exc:  # e.g. a bind address that is no address of this machine
                raise PortError(f"cannot listen on {host or self.host!r}: {exc}") from None
            if port is not None and port not in self.taken and self._claim(port):
                self.taken.add(port)
                return port
        raise PortError("no free port found after 500 tries")

    def fixed(self, port: int, host: str | None = None) -> int:
        """A port the topology fixed: refuse it clearly if it is already in use."""
        if port in self.taken:
            raise PortError(f"port {port} is used twice in this run")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host or self.host, port))
            except OSError as exc:
                raise PortError(f"port {port} on {host or self.host} is not free: {exc.strerror}") from None
        if not self._claim(port):
            raise PortError(f"port {port} is held by another run of the lab that is still alive")
        self.taken.add(port)
        return port


def connect_host(bind: str) -> str:
    """Where peers connect to reach a listener bound to `bind`."""
    return "127.0.0.1" if bind in ("0.0.0.0", "", "*") else bind

"""The telemetry socket's gate: only the run's own nodes may report, and every refusal is counted.

Why: the supervisor trusts telemetry for node states (ready, done) and live
counters, and its PULL socket listens on a loopback port any local process
can reach. Each node logs in with ZeroMQ's PLAIN mechanism: user = its node
name, password = the run's token, which only the run's 0600 spec files hold.
A ZAP handler (ZeroMQ's authentication protocol, served here in the
collector's own thread) accepts exactly those; a socket monitor counts the
handshakes that fail (no credentials, wrong mechanism, garbage bytes). Each
accepted message also carries the authenticated user ("User-Id"), so a node
cannot report as another one.
"""

from __future__ import annotations

import hmac
from collections import Counter

import zmq
from zmq.utils.monitor import recv_monitor_message

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
DOMAIN = b"topology-lab"
_FAILED = (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
           | zmq.EVENT_HANDSHAKE_FAILED_AUTH)


class Gate:
    """ZAP handler and handshake monitor for one PLAIN server socket (call before it binds)."""

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], server: zmq.Socket[bytes], token: str, nodes: set[str]) -> None:
        self._token = token.encode()
        self._nodes = {n.encode() for n in nodes}
        self.rejected: Counter[str] = Counter()
        self.zap = ctx.socket(zmq.REP)
        self.zap.setsockopt(zmq.LINGER, 0)
        self.zap.bind(ZAP_ENDPOINT)
        server.setsockopt(zmq.ZAP_DOMAIN, DOMAIN)
        server.plain_server = True
        self.monitor = server.get_monitor_socket(_FAILED)
        self.sockets = (self.zap, self.monitor)

    def serve(self, sock: zmq.Socket[bytes]) -> None:
        """Answer one ZAP request or read one monitor event (`sock` is one of `sockets`)."""
        if sock is self.zap:
            self._answer(self.zap.recv_multipart())
        else:
            event = recv_monitor_message(self.monitor)
            if event["event"] & _FAILED:
                self.rejected["handshake"] += 1

    def _answer(self, request: list[bytes]) -> None:
        # version, request id, domain, address, identity, mechanism, credentials...
        if len(request) < 6:
            return
        version, request_id, mechanism = request[0], request[1], request[5]
        ok = (version == b"1.0" and mechanism == b"PLAIN" and len(request) == 8
              and request[6] in self._nodes and hmac.compare_digest(request[7], self._token))
        if not ok:
            self.rejected["credentials"] += 1
        user = request[6] if ok else b""
        self.zap.send_multipart([b"1.0", request_id, b"200" if ok else b"400",
                                 b"OK" if ok else b"not a node of this run", user, b""])

    def close(self) -> None:
        self.zap.close()
        self.monitor.close()

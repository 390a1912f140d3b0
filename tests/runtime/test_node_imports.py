"""A node loads only its own transport: a zmq node never imports pika, asyncio, ssl or the HTTP modules."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PROBE = """
import json, sys
import engines.nodes.main, engines.nodes.client, engines.nodes.service
from engines import transports
transports.driver(sys.argv[1], sys.argv[2], "client")
transports.driver(sys.argv[1], sys.argv[2], "service")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in
      ("pika", "asyncio", "ssl", "http", "aiosmtpd", "smtplib", "imaplib", "zmq"))))
"""


def _loaded(transport: str, style: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, transport, style], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=60)
    return {m.split(".")[0] for m in json.loads(out.stdout)}


@pytest.mark.timeout(120)
def test_each_node_imports_its_own_transport_only():
    assert _loaded("zmq", "request-response") == {"zmq"}  # zmq: telemetry too
    http = _loaded("http", "request-response")
    assert "http" in http and "pika" not in http and "asyncio" not in http
    amqp = _loaded("amqp", "notification")
    assert "pika" in amqp and "http" not in amqp

"""A node's log tells its own story (issue 16): a Lazy Pirate client says when and why it resends."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import example


@pytest.mark.timeout(120)
def test_a_lazy_pirate_client_logs_each_resend(lab):
    summary, sup = lab.run(example("02"))  # the service is killed at 1.5 s and started at 2.5 s
    retries = summary["nodes"]["pricing-client"]["retries"]
    assert retries > 0
    log = (sup.table.nodes["pricing-client"].node_dir / "node.log").read_text(encoding="utf-8")
    lines = [line for line in log.splitlines() if "Lazy Pirate: no reply to pricing-client:" in line]
    assert len(lines) == retries, (len(lines), retries)
    assert "reopened the socket, resending (retry 1 of 10)" in lines[0]


@pytest.mark.timeout(120)
def test_an_http_client_logs_each_retry(lab):
    summary, sup = lab.run(example("15"))  # the payment services crash after 50 and restart
    retries = summary["nodes"]["checkout-keyed"]["retries"]
    assert retries > 0
    log = (sup.table.nodes["checkout-keyed"].node_dir / "node.log").read_text(encoding="utf-8")
    lines = [line for line in log.splitlines() if "HTTP: " in line and "checkout-keyed:" in line]
    assert len(lines) == retries, (len(lines), retries)
    assert "resending with the same Idempotency-Key (retry 1 of 5)" in lines[0]

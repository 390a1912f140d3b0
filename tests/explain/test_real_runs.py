"""Explanations of real runs of the examples: the right node, fault, time and cause for each nonzero counter.

Each example runs once, headless, as real processes (RabbitMQ ones only where it is
installed). Times are checked against the run's own events.jsonl, never hard-coded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engines.brokers import rabbitmq_available
from engines.cli import main as cli_main
from engines.explain import explain_run
from engines.report.build import build_report
from engines.testing.runner import TopologyResult
from tests.trace.conftest import run_example

RABBIT = rabbitmq_available()
_skip = pytest.mark.skipif(RABBIT is not None, reason=f"needs RabbitMQ: {RABBIT}")


def needs_rabbitmq(test):  # noqa: ANN001, ANN201 - a marker pair
    return pytest.mark.rabbitmq(_skip(test))


pytestmark = pytest.mark.slow


def events(run_dir: Path, kind: str, node: str) -> list[dict[str, Any]]:
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e.get("event") == kind and e.get("node") == node]


def summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def find(run_dir: Path, subject: str, counter: str) -> Any:
    found = explain_run(run_dir, node=subject, counter=counter)
    assert found, f"no explanation of {subject} {counter}"
    return found[0]


@pytest.fixture(scope="module")
def pubsub(tmp_path_factory: pytest.TempPathFactory) -> TopologyResult:
    return run_example("08", tmp_path_factory.mktemp("pubsub"))


@pytest.mark.timeout(120)
def test_late_subscriber_loss_is_the_slow_joiner_at_its_join_time(pubsub: TopologyResult, capsys) -> None:  # noqa: ANN001
    run_dir = pubsub.run_dir
    assert run_dir is not None
    nodes = summary(run_dir)["nodes"]
    assert nodes["latecomer"]["lost"] > 0  # the example's own expectation: it delivered fewer
    joined = events(run_dir, "joined", "latecomer")[0].get("run_t")
    e = find(run_dir, "latecomer", "lost")
    assert e.value == nodes["latecomer"]["lost"] and "'latecomer'" in e.text
    if joined is None or joined <= 0:  # under load it may join before the clients start: no slow joiner
        assert "slow-joiner" not in e.causes
        pytest.skip(f"'latecomer' joined before the clients started (run_t {joined}); the rest needs a late join")
    assert f"'latecomer' joined at {joined:.2f} s" in e.text and "slow joiner" in e.text
    assert "slow-joiner" in e.causes
    if nodes["dashboard"]["lost"] == 0:  # then the IDs behind the total are exactly the latecomer's
        assert e.message_ids and all(i.startswith("prices:") for i in e.message_ids)
    assert cli_main(["explain", str(run_dir), "--node", "latecomer", "--counter", "lost"]) == 0
    out = capsys.readouterr().out
    assert "node latecomer" in out and "slow joiner" in out and "joined at" in out
    page = build_report(run_dir).read_text(encoding="utf-8")
    assert "Why these numbers" in page and "slow joiner" in page
    assert 'href="#msg-prices-' in page.split("Why these numbers")[1]  # an ID links to its story
    assert "'dashboard'" not in find(run_dir, "total", "lost").text or nodes["dashboard"]["lost"]


@pytest.fixture(scope="module")
def idempotent(tmp_path_factory: pytest.TempPathFactory) -> TopologyResult:
    return run_example("13", tmp_path_factory.mktemp("idem"))


@pytest.fixture(scope="module")
def naive(tmp_path_factory: pytest.TempPathFactory) -> TopologyResult:
    return run_example("14", tmp_path_factory.mktemp("naive"))


def _crash_checks(run_dir: Path, counter: str) -> Any:
    crash = events(run_dir, "crashed", "card-authoriser")[0]["run_t"]
    e = find(run_dir, "card-authoriser", counter)
    ids = json.loads((run_dir / "ids.json").read_text(encoding="utf-8"))[counter]["ids"]
    assert e.value == summary(run_dir)["nodes"]["card-authoriser"][counter] >= 1
    assert f"'card-authoriser' crashed at {crash:.2f} s after committing message 200 and before its ack" in e.text
    assert "RabbitMQ redelivered" in e.text and list(e.message_ids) == ids
    return e


@needs_rabbitmq
@pytest.mark.timeout(180)
def test_idempotent_consumer_suppressed_the_redelivery_after_its_crash(idempotent: TopologyResult) -> None:
    run_dir = idempotent.run_dir
    assert run_dir is not None
    e = _crash_checks(run_dir, "duplicates_suppressed")
    assert "PROCESSED_MESSAGES refused" in e.text
    zero = find(run_dir, "card-authoriser", "duplicates_processed")
    assert zero.value == 0 and "idempotent consumer" in zero.text


@needs_rabbitmq
@pytest.mark.timeout(180)
def test_naive_consumer_applied_the_redelivery_twice(naive: TopologyResult) -> None:
    run_dir = naive.run_dir
    assert run_dir is not None
    e = _crash_checks(run_dir, "duplicates_processed")
    assert "idempotent: false" in e.text and "applied a second time" in e.text
    assert "nothing suppressed" in find(run_dir, "card-authoriser", "duplicates_suppressed").text


@needs_rabbitmq
@pytest.mark.timeout(180)
def test_broker_kill_with_durable_persistent_confirmed_explains_lost_zero(tmp_path: Path) -> None:
    run_dir = run_example("12", tmp_path).run_dir
    assert run_dir is not None
    killed = events(run_dir, "killed", "rabbit")[0]["run_t"]
    total = summary(run_dir)["total"]
    assert total["lost"] == 0
    e = find(run_dir, "total", "lost")
    assert f"the broker 'rabbit' was killed at {killed:.2f} s" in e.text and "durable" in e.text
    if total["errors"]:
        assert f"'rabbit' was killed at {killed:.2f} s" in find(run_dir, "checkout", "errors").text
    for counter in ("duplicates_suppressed", "resent_in_doubt", "in_doubt"):
        if total.get(counter):
            assert "'rabbit' was killed" in find(run_dir, "total", counter).text, counter


@needs_rabbitmq
@pytest.mark.timeout(180)
def test_dual_write_hop_lost_and_outbox_duplicates(tmp_path: Path) -> None:
    run_dir = run_example("20", tmp_path).run_dir
    assert run_dir is not None
    crash = events(run_dir, "crashed", "order-dual")[0]["run_t"]
    chains = summary(run_dir)["chains"]
    lost = chains["shop-a"]["stages"][0]["hop_lost"]
    assert lost > 0
    e = find(run_dir, "shop-a: order-dual->rabbit", "hop_lost")
    assert e.value == lost and f"'order-dual' crashed at {crash:.2f} s" in e.text and "dual-write" in e.causes
    if summary(run_dir)["nodes"]["payment-b"]["duplicates_suppressed"]:
        dup = find(run_dir, "payment-b", "duplicates_suppressed")
        assert "outbox-resend" in dup.causes and "'payment-b' is an idempotent consumer" in dup.text

"""Fuzz what reads bytes from other processes: a service's frame decoder and the telemetry collector.

Neither may raise on any input (an exception there stops a node's receiving
thread or the supervisor's telemetry thread); whatever they accept must be
exactly what the lab itself would send.
"""

from __future__ import annotations

from pathlib import Path

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engines.runtime.metrics import Collector, parse
from engines.transports import wire
from engines.transports._zmq import Accept, Batch

CLIENTS = {0, 3}
header = st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF),
                   st.integers(0, 0xFFFFFFFF), st.integers(0, 2**64 - 1), st.integers(0, 0xFFFFFFFF))
frames = st.one_of(
    st.binary(max_size=300),
    st.lists(st.tuples(header, st.binary(max_size=40)), min_size=1, max_size=5).map(
        lambda parts: b"".join(wire.HEADER.pack(*h) + body for h, body in parts)),
    st.tuples(st.sampled_from([wire.NOTIFY, wire.REQUEST]), st.sampled_from(sorted(CLIENTS | {7})),
              st.integers(1, 30), st.binary(max_size=16)).map(
        lambda t: wire.pack_batch(t[0], t[1], 0, t[2], 1, t[3])),
)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames)
def test_frame_decoding_never_raises_and_accepts_only_its_own(frame: bytes) -> None:
    batch = Batch(Accept(wire.NOTIFY, CLIENTS))
    batch.add(frame)
    assert batch.bad + bool(batch.items) == 1
    if batch.items:
        heads = list(wire.iter_headers(frame))
        assert batch.heads == heads
        assert {h[0] for h in heads} == {wire.NOTIFY} and {h[2] for h in heads} <= CLIENTS


json_like = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64 - 1), st.floats(allow_nan=True),
              st.text(max_size=8), st.binary(max_size=8)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(st.text(max_size=6), st.integers(-3, 40)),
                                               children, max_size=5)),
    max_leaves=20)
def _encoded_histogram() -> bytes:
    from engines.ledger.histogram import Histogram

    h = Histogram()
    for us in (5, 80, 81, 2_000, 70_000):
        h.add(us * 1000)
    return h.hdr.encode()


_ENCODED = _encoded_histogram()
histograms = st.one_of(json_like, st.fixed_dictionaries({
    "hdr": st.one_of(  # garbage, a real encoding, or a real encoding with one byte changed or cut
        st.binary(max_size=64), st.just(_ENCODED),
        st.tuples(st.integers(0, len(_ENCODED) - 1), st.integers(0, 255)).map(
            lambda t: _ENCODED[:t[0]] + bytes([t[1]]) + _ENCODED[t[0] + 1:]),
        st.integers(0, len(_ENCODED)).map(lambda n: _ENCODED[:n])),
    "max": st.integers(-5, 10**12)}))
snapshots = st.fixed_dictionaries(
    {"t": st.sampled_from(["metrics", "event", "other"]), "node": st.sampled_from(["svc", "cli", "nobody"]),
     "pid": st.one_of(st.integers(0, 10), st.text(max_size=3))},
    optional={"c": json_like, "by_client": json_like, "h": histograms, "ts": json_like,
              "event": json_like})


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory):
    col = Collector(Path(tmp_path_factory.mktemp("telemetry")), {"svc": "service", "cli": "client"},
                    lambda *args: None)
    yield col
    col.close()


class _Frame:
    def __init__(self, data: bytes) -> None:
        self.bytes = data

    def get(self, name: str) -> None:
        return None


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=200), snapshots.map(lambda m: msgpack.packb(m, use_bin_type=True))))
def test_telemetry_never_raises_and_keeps_working(collector: Collector, raw: bytes) -> None:
    assert parse(raw) is None or isinstance(parse(raw), dict)
    collector._receive(_Frame(raw))  # type: ignore[arg-type]
    collector._sample(0.0)  # adds up and samples whatever was accepted
    for node in ("svc", "cli"):
        assert all(isinstance(v, int) for v in collector.totals(node).values())
        collector.histogram(node).percentile_ms(99)

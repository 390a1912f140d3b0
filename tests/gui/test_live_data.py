"""The run view's buffers and timeline, without processes: ring order, fault spans, round axes."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engines.runtime.events import EventLog
from engines.topology.model import ClientNode, Link, ServiceNode, Topology
from labgui.run.live_data import LiveSampler, RingBuffer
from labgui.run.plots import nice_ceiling

pytestmark = pytest.mark.gui


def test_the_ring_gives_samples_oldest_first_once_it_wraps():
    ring = RingBuffer(4, 2)
    for i in range(6):
        ring.append(float(i), [i, 10 * i])
    assert ring.times().tolist() == [2.0, 3.0, 4.0, 5.0]
    assert ring.column(1).tolist() == [20, 30, 40, 50]
    assert ring.back(0)[0] == 5.0 and ring.back(3)[0] == 2.0 and ring.back(4) is None


def _sampler() -> tuple[LiveSampler, EventLog]:
    topo = Topology(name="t", nodes=[ClientNode(name="c", transport="zmq", rate=100, count=10),
                                     ServiceNode(name="s")],
                    links=[Link.model_validate({"from": "c", "to": "s"})])
    events = EventLog(None)
    sup = SimpleNamespace(topology=topo, events=events, started_at=events.t0, ended_at=None,
                          queue_depths=None, metrics=None, plan=None, states=lambda: {"c": "ready", "s": "ready"})
    return LiveSampler(sup), events


def test_a_fault_lasts_until_the_node_is_ready_again_not_until_the_restart_is_asked():
    sampler, events = _sampler()
    events._events = [  # on the run clock: the kill at 1 s, restart asked at 3 s, ready at 7 s
        {"t": 1.0, "event": "manual", "node": "s", "action": "kill"},
        {"t": 1.5, "event": "killed", "node": "s"},
        {"t": 3.0, "event": "manual", "node": "s", "action": "restart"},
        {"t": 7.0, "event": "ready", "node": "s"},
        {"t": 8.0, "event": "scenario", "node": "c", "action": "pause"},
        {"t": 9.0, "event": "crashed", "node": "s"},
    ]
    sampler.sample()
    spans = [(p.label, p.start, round(p.end, 1) if not p.open_ended else "open") for p in sampler.periods()]
    assert spans[:2] == [("s killed", 1.0, 7.0), ("c paused", 8.0, "open")]
    assert spans[2][:2] == ("s crashed", 9.0)
    assert [e["event"] for e in sampler.take_events()][:2] == ["manual", "killed"]
    assert sampler.take_events() == []


def test_restarting_a_running_node_shades_it_as_stopped_until_ready():
    sampler, events = _sampler()
    events._events = [{"t": 2.0, "event": "manual", "node": "s", "action": "restart"},
                      {"t": 2.6, "event": "ready", "node": "s"}]
    sampler.sample()
    (period,) = sampler.periods()
    assert (period.label, period.start, period.end) == ("s stopped", 2.0, 2.6)


@pytest.mark.parametrize(("value", "expected"), [(0, 1), (0.4, 1), (1.2, 1.5), (236, 250), (1001, 1500),
                                                 (7.9, 8), (8.1, 10)])
def test_axes_end_on_round_values(value, expected):
    assert nice_ceiling(value) == expected


def test_the_sampler_holds_no_clock_before_the_clients_start():
    sampler, _events = _sampler()
    sampler.sup.started_at = None
    assert sampler.sample() is False and sampler.run_clock() is None
    assert np.isnan(sampler.ring.v).all()

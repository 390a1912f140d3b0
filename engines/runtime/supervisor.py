"""The supervisor: start every node as its own process, control it during a run, stop it in order.

Usable from a GUI thread: every control method (kill, stop_node, start_node,
restart, pause, resume) returns at once; processes are created by one
long-lived spawner thread (a parent-death signal is tied to the thread that
forked the child, so it must outlive the nodes); a monitor thread notices
exits and restarts crashed services that ask for it; readers (`states`,
`events.since`, `metrics.series`) are thread-safe. Headless use is
`run(duration)`, which also plays the scenario and returns the summary.

Order: brokers start first and stop last; services start before clients, and each client
starts once the services it sends to report ready (engines.runtime.startorder); at the end
clients stop, then services once caught up with the clients, then brokers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from engines.runtime import brokers as broker_support
from engines.runtime import insides, preflight, startorder
from engines.runtime.background import in_background as _in_background
from engines.runtime.clusters import Clusters
from engines.runtime.control import POLL_S, Control
from engines.runtime.diskfull import DiskFull
from engines.runtime.drain import wait_drained
from engines.runtime.errors import RunError
from engines.runtime.events import EventLog
from engines.runtime.guard import RunGuard
from engines.runtime.linkfaults import LinkFaults
from engines.runtime.metrics import Collector
from engines.runtime.ports import PortError, Ports
from engines.runtime.proctable import RUNNING, NodeProcess, ProcessTable
from engines.runtime.specs import RunPlan, make_plan, node_spec, write_spec
from engines.topology import topofile
from engines.topology.model import BrokerNode, Step, Topology
from engines.transports.amqp_streams import request_reread, write_origin

BROKER_BACK_QUIET_S = 5.0  # consumers' reconnect back-off (at most 1 s) and a connection, under load


class Supervisor:
    """One run of a topology in `run_dir`.

    stop_timeout_s: how long a SIGTERMed node may take before SIGKILL.
    ready_timeout_s: how long a node (or broker) may take to report ready.
    drain_quiet_s / drain_timeout_s: at the end, wait for the services to
    catch up with what the clients sent until nothing moved for
    drain_quiet_s, at most drain_timeout_s.
    """

    def __init__(self, topology: Topology, run_dir: Path, *, stop_timeout_s: float = 5.0,
                 ready_timeout_s: float = 30.0, drain_quiet_s: float = 1.0,
                 drain_timeout_s: float = 60.0, proxy_all_links: bool = False) -> None:
        self.topology = topology
        self.proxy_all_links = proxy_all_links
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.stop_timeout_s = stop_timeout_s
        self.ready_timeout_s = ready_timeout_s
        self.drain_quiet_s = drain_quiet_s
        self.drain_timeout_s = drain_timeout_s
        self.disk = DiskFull()  # the first failed write of the run: it then stops in order
        self.events = EventLog(self.run_dir / "events.jsonl", self.disk)
        self.table = ProcessTable(self.run_dir / "pids.json", self.disk)
        kinds = {n.name: n.kind.value for n in topology.nodes}
        for node in topology.nodes:
            self.table.add(NodeProcess(node.name, node.kind.value, self.run_dir / "nodes" / node.name))
        self.control = Control(topology, self.table, self.events, stop_timeout_s, ready_timeout_s)
        self.link_faults = LinkFaults(self.events)
        self.clusters = Clusters(self.control, self.events, self.run_dir)
        self.metrics: Collector | None = None
        self.plan: RunPlan | None = None
        self.queue_depths: Any = None  # engines.brokers.QueueDepthMonitor when there are brokers
        self.queue_consumers: dict[tuple[str, str], list[str]] = {}  # (broker, queue) -> its services
        self.internals: Any = None  # engines.brokers.internals_monitor.InternalsMonitor (insides.start)
        self._kinds = kinds
        self._lock = self.control.lock
        self._finishing = False
        self._started = False
        self._start_future: Future[None] | None = None
        self._closed = False
        self.started_at: float | None = None
        self.steps_before_clients: list[Step] = []  # the scenario's 0 s steps, fired by start()
        self.ended_at: float | None = None
        self.summary: dict[str, Any] | None = None
        self.guard: RunGuard | None = None  # reaper, port registry entry, telemetry token

    @property
    def brokers(self) -> dict[str, Any]:
        return self.control.brokers

    @property
    def sigkilled(self) -> set[str]:
        """Nodes SIGKILLed during the run (their client-side counts are lower bounds)."""
        return self.control.sigkilled

    # -- starting ---------------------------------------------------------------------
    def preflight(self) -> None:
        """Refuse, before any process starts, what cannot run here (RunError says why)."""
        preflight.check(self.topology)

    def start(self) -> None:
        """Brokers, then services, then each client once its services are ready. Raises RunError."""
        with self._lock:
            if self._started:
                raise RunError("this run was already started; a Supervisor runs its topology once")
            self._started = True
        # written here, not in __init__: a GUI builds the supervisor on its own thread, and the
        # YAML of a 50-node topology takes 100 ms to write; start() runs on a worker thread
        (self.run_dir / "topology.topo.yaml").write_text(topofile.dumps(self.topology), encoding="utf-8")
        self.preflight()
        self.guard = RunGuard(self.run_dir)
        topo = self.topology
        urls: dict[str, str] = {}
        if topo.brokers():
            urls = self._start_brokers(topo.brokers())
        self.metrics = Collector(self.run_dir, self._kinds, self.control.on_node_event,
                                 t0=self.events.t0, token=self.guard.token, disk=self.disk)
        self.control.on_state = self.metrics.set_state
        try:
            self.plan = make_plan(topo, Ports(registry=self.guard.ports), urls)
        except (PortError, KeyError) as exc:
            raise RunError(f"cannot plan the run: {exc}") from None
        self.link_faults.route(self.plan, self.faulted_links())
        links: dict[str, list[tuple[str, int]]] = {}
        for client, routes in self.plan.audience.items():
            for route in routes:
                for key in {route.link, route.client_link}:
                    links.setdefault(key, []).append((route.service, self.plan.clients[client]))
        self.metrics.set_links(links)
        amqp = any(p.channel for peers in self.plan.peers.values() for p in peers)
        if self.brokers and amqp:  # queue depth over AMQP, into queues.csv (engines.brokers.telemetry)
            try:
                from engines.brokers import QueueDepthMonitor
                from engines.brokers.plan import queue_consumers, queue_names
            except ImportError:  # a broker support without a sampler: runs, without queue depths
                self.events.add("note", None, note="no queue depth sampler for these brokers")
            else:
                self.queue_depths = QueueDepthMonitor(self.run_dir, self.brokers,
                                                      queue_names(topo), t0=self.metrics.t0)
                self.queue_consumers = queue_consumers(topo)
            self.internals = insides.start(self.run_dir, self.brokers, self.metrics.t0)
        for node in topo.clients() + topo.services():
            proc = self.table.nodes[node.name]
            proc.node_dir.mkdir(parents=True, exist_ok=True)
            write_spec(proc.spec_path, node_spec(topo, self.plan, node.name, proc.node_dir,
                                                 self.metrics.endpoint, os.getpid(), self.guard.token))
        self.control.start_watching()
        self.events.add("run-starting", nodes=len(topo.nodes), run_dir=str(self.run_dir))
        services = [s.name for s in topo.services()]
        for name in services:
            self.start_node(name)
        self._start_clients(services, startorder.needs(topo))

    def _start_clients(self, services: list[str], needs: dict[str, set[str]]) -> None:
        """Each client as soon as the services it reaches are ready (engines.runtime.startorder)."""
        startorder.start_clients(self, services, needs)

    def set_origin(self, at_wall: float | None = None) -> None:
        # The run's clock (the scenario's, the GUI's, the report's): seconds since the first client
        # was ready to send (a kill at 1.5 s is 1.5 s into the traffic even when a loaded machine
        # takes seconds to start a client). Every file keeps `t` since the run folder opened;
        # `origin_t` converts.
        now = time.monotonic()  # at_wall: the moment the first client said it was ready
        self.started_at = now if at_wall is None else now - min(max(0.0, time.time() - at_wall), 5.0)
        self.events.set_origin(self.started_at)
        write_origin(self.run_dir, self.started_at)  # stream consumers starting at a time read it
        self.events.add("run-started", origin_t=round(self.started_at - self.events.t0, 3))

    def _start_brokers(self, nodes: list[BrokerNode]) -> dict[str, str]:
        """Open and boot each broker through the node lifecycle (starting, then ready)."""
        open_broker = broker_support.opener()
        urls = {}
        for node in nodes:
            try:
                handle = open_broker(node, self.run_dir)
                self.brokers[node.name] = handle
                self.control.broker_action(node.name, "start", self.ready_timeout_s).result()
            except Exception as exc:  # noqa: BLE001 - any broker failure is a clear RunError
                raise RunError(f"broker '{node.name}' did not start: {exc}") from None
            urls[node.name] = handle.url
            self.clusters.add(node.name, handle)
        self.drain_quiet_s = self.clusters.drain_quiet_s(self.drain_quiet_s)  # failovers take seconds
        self.table.save()
        return urls

    def faulted_links(self) -> list[str]:
        """Links that get a proxy: those the scenario touches, or all (a GUI faults by hand)."""
        if self.proxy_all_links:
            return [link.key for link in self.topology.links]
        return sorted({s.target for s in self.topology.scenario if s.action.on_link})

    # -- link faults (thread-safe, return at once) -----------------------------------------
    def cut_link(self, link: str) -> None:
        self.link_faults.cut(link)

    def heal_link(self, link: str) -> None:
        self.link_faults.heal(link)

    def delay_link(self, link: str, latency_ms: float, jitter_ms: float = 0.0) -> None:
        self.link_faults.delay(link, latency_ms, jitter_ms)

    def lossy_link(self, link: str, loss: float) -> None:
        self.link_faults.lossy(link, loss)

    def start_async(self) -> Future[None]:
        """`start()` in a background thread for a GUI (the future carries a RunError if any)."""
        self._start_future = _in_background(self.start, "start")
        return self._start_future

    # -- control (non-blocking, any thread; see engines.runtime.control) ---------------------
    def kill(self, name: str) -> None:
        """SIGKILL: no goodbye, no flush; what the node had not recorded is gone."""
        self.control.kill(name)

    def stop_node(self, name: str) -> None:
        """SIGTERM: the node stops cleanly (SIGKILL after stop_timeout_s)."""
        self.control.stop_node(name)

    def start_node(self, name: str) -> Future[Any] | None:
        """A new life for a node that is not running."""
        return self.control.start_node(name)

    def restart(self, name: str) -> Future[Any] | None:
        """Stop, then start again."""
        return self.control.restart(name)

    def pause(self, name: str) -> None:
        """SIGSTOP: frozen, sockets open, nothing answers."""
        self.control.pause(name)

    def resume(self, name: str) -> None:
        """SIGCONT after a pause."""
        self.control.resume(name)

    def reread(self, name: str, offset: str = "first") -> None:
        """Ask a running stream consumer to read its streams again from `offset` (a file it polls)."""
        request_reread(self.table.nodes[name].node_dir, offset)
        self.events.add("reread", name, offset=offset)

    # -- reading (any thread) ---------------------------------------------------------------
    def states(self) -> dict[str, str]:
        return self.control.states()

    def node_states(self) -> dict[str, dict[str, Any]]:
        return self.control.node_states()

    def elapsed(self) -> float:
        """Seconds on the run's clock: since the first client was ready (0 before)."""
        if self.started_at is None:
            return 0.0
        return (self.ended_at or time.monotonic()) - self.started_at

    def client_finished(self, name: str) -> bool:
        """Ended on its own (done or gave up), or ended by us / crashed and not running."""
        with self._lock:
            proc = self.table.nodes[name]
            return proc.lives > 0 and proc.state not in RUNNING and not proc.start_pending

    # -- headless run and ordered stop --------------------------------------------------------
    def run(self, duration: float | None = None, on_tick: Callable[[Supervisor], None] | None = None,
            should_stop: Callable[[], bool] | None = None, tick_s: float = 0.1) -> dict[str, Any]:
        from engines.runtime.scheduler import Scheduler
        from engines.runtime.summary import build_summary

        if self._start_future is not None:
            self._start_future.result()  # started in the background: wait for it (or its error)
        elif not self._started:
            self.start()
        scheduler = Scheduler(self.topology.scenario, self)
        limit = duration if duration is not None else self.topology.duration_s
        clients = [c.name for c in self.topology.clients()]
        while True:
            now = self.elapsed()
            scheduler.tick(now, self.sent_total())
            if on_tick is not None:
                on_tick(self)
            if should_stop is not None and should_stop():
                self.events.add("interrupted")
                break
            if self.disk.full:
                self.events.add("disk-full", note=self.disk.message())
                break
            if limit is not None and now >= limit:
                break
            if all(self.client_finished(c) for c in clients) and not scheduler.pending_for(clients) \
                    and not scheduler.holds_run() and not self.control.settling():
                break  # every client done, every timed step fired and settled
            time.sleep(tick_s)
        self.finish()
        self.summary = build_summary(self)
        return self.summary

    def sent_total(self) -> int:
        if self.metrics is None:
            return 0
        return sum(self.metrics.totals(c.name).get("sent", 0) for c in self.topology.clients())

    def _stop_group(self, names: list[str]) -> None:
        for name in names:
            self.stop_node(name)
        deadline = time.monotonic() + self.stop_timeout_s + 3
        while time.monotonic() < deadline:
            with self._lock:
                if all(self.table.nodes[n].state not in RUNNING for n in names):
                    return
            time.sleep(POLL_S)
        for name in names:  # the monitor escalates; this is the last word
            self.kill(name)

    def _drain(self) -> None:
        """Wait until the services have what the clients sent (engines.runtime.drain). A broker
        that came back during the run: its consumers need their back-off and a new connection
        before anything moves again, so the end waits longer for them."""
        boots = [e for e in self.events.since(0) if e.get("event") == "ready" and e.get("role") == "broker"]
        if len(boots) > len(self.brokers):
            self.drain_quiet_s = max(self.drain_quiet_s, BROKER_BACK_QUIET_S)
        wait_drained(self)

    def finish_async(self) -> Future[None]:
        """`finish()` in a background thread (a GUI's Stop button)."""
        return _in_background(self.finish, "finish")

    def finish(self) -> None:
        """Clients, then (once drained) services, then brokers; idempotent."""
        with self._lock:
            if self._finishing:
                return
            self._finishing = True
        clients = [c.name for c in self.topology.clients()]
        services = [s.name for s in self.topology.services()]
        self._stop_group(clients)
        if self.metrics is not None:
            self._drain()
        self.control.closing = True  # no restart after a crash from now on
        self._stop_group(services)
        self.clusters.close(self.queue_depths)
        for name in self.brokers:  # a killed broker stays killed; a running one is stopped: exited
            try:
                # run_ended: done once its data is closed (engines.brokers.runend)
                self.control.broker_action(name, "stop", self.stop_timeout_s, True).result(
                    self.stop_timeout_s + 30)
            except Exception as exc:  # noqa: BLE001 - reported as an event; close() still cleans up
                self.events.add("note", name, note=f"stop failed: {exc}")
        if self.internals is not None:
            self.internals.close()
        self.ended_at = time.monotonic()
        time.sleep(0.3)  # the nodes' last telemetry is in flight
        self.events.add("run-ended", elapsed_s=round(self.elapsed(), 3))

    def close(self) -> None:
        """Leave nothing running, whatever state the run is in (idempotent, never raises)."""
        if self._closed:
            return
        self._closed = True
        self.control.kill_all()
        self.link_faults.close()
        self.clusters.close(self.queue_depths)
        if self.internals is not None:
            self.internals.close()
        for handle in self.brokers.values():
            try:
                handle.close()
            except Exception:  # noqa: BLE001 - close must not raise
                pass
        self.control.stop_watching()
        self.control.spawner.shutdown(wait=True, cancel_futures=True)
        if self.metrics is not None:
            self.metrics.close()
        self.table.save()
        self.events.close()
        if self.guard is not None:
            self.guard.close()

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""The supervisor: start every node as its own process, control it during a run, stop it in order.

Usable from a GUI thread: every control method (kill, stop_node, start_node,
restart, pause, resume) returns at once; processes are created by one
long-lived spawner thread (a parent-death signal is tied to the thread that
forked the child, so it must outlive the nodes); a monitor thread notices
exits and restarts crashed services that ask for it; readers (`states`,
`events.since`, `metrics.series`) are thread-safe. Headless use is
`run(duration)`, which also plays the scenario and returns the summary.

Order: brokers start first and stop last; services start before clients and
must report ready; at the end clients stop first, then the supervisor waits
until the services have caught up with what the clients sent, then stops the
services, then the brokers.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from engines import topofile
from engines.model import BrokerNode, Topology
from engines.runtime import brokers as broker_support
from engines.runtime.errors import RunError
from engines.runtime.events import EventLog
from engines.runtime.metrics import Collector
from engines.runtime.ports import PortError, Ports
from engines.runtime.proctable import RUNNING, NodeProcess, ProcessTable, log_tail
from engines.runtime.specs import RunPlan, make_plan, node_spec, write_spec
from engines.transports.base import EXIT_CRASH, EXIT_GAVE_UP

POLL_S = 0.05


class Supervisor:
    def __init__(self, topology: Topology, run_dir: Path, *, stop_timeout_s: float = 5.0,
                 ready_timeout_s: float = 30.0, drain_quiet_s: float = 1.0) -> None:
        self.topology = topology
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.stop_timeout_s = stop_timeout_s
        self.ready_timeout_s = ready_timeout_s
        self.drain_quiet_s = drain_quiet_s
        (self.run_dir / "topology.topo.yaml").write_text(topofile.dumps(topology), encoding="utf-8")
        self.events = EventLog(self.run_dir / "events.jsonl")
        self.table = ProcessTable(self.run_dir / "pids.json")
        kinds = {n.name: n.kind.value for n in topology.nodes}
        for node in topology.nodes:
            self.table.add(NodeProcess(node.name, node.kind.value, self.run_dir / "nodes" / node.name))
        self.metrics: Collector | None = None
        self.plan: RunPlan | None = None
        self.brokers: dict[str, Any] = {}
        self.queue_depths: Any = None  # engines.brokers.QueueDepthMonitor when there are brokers
        self._kinds = kinds
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spawner")
        self._lock = threading.RLock()
        self._monitor_stop = threading.Event()
        self._monitor: threading.Thread | None = None
        self._closing = False
        self._closed = False
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.sigkilled: set[str] = set()  # nodes SIGKILLed during the run (the ledger says so)
        self.summary: dict[str, Any] | None = None

    # -- starting ---------------------------------------------------------------------
    def start(self) -> None:
        """Brokers, then services (until ready), then clients. Raises RunError with the reason."""
        topo = self.topology
        urls: dict[str, str] = {}
        if topo.brokers():
            urls = self._start_brokers(topo.brokers())
        self.metrics = Collector(self.run_dir, self._kinds, self._on_node_event)
        try:
            self.plan = make_plan(topo, Ports(), urls)
        except (PortError, KeyError) as exc:
            raise RunError(f"cannot plan the run: {exc}") from None
        if self.brokers:  # queue depth over AMQP, into queues.csv (engines.brokers.telemetry)
            from engines.brokers import QueueDepthMonitor
            from engines.brokers.plan import queue_names

            self.queue_depths = QueueDepthMonitor(self.run_dir, self.brokers, queue_names(topo),
                                                  t0=self.metrics.t0)
        for node in topo.clients() + topo.services():
            proc = self.table.nodes[node.name]
            proc.node_dir.mkdir(parents=True, exist_ok=True)
            write_spec(proc.spec_path, node_spec(topo, self.plan, node.name, proc.node_dir,
                                                 self.metrics.endpoint, os.getpid()))
        self._monitor = threading.Thread(target=self._watch, name="monitor", daemon=True)
        self._monitor.start()
        self.events.add("run-starting", nodes=len(topo.nodes), run_dir=str(self.run_dir))
        services = [s.name for s in topo.services()]
        for name in services:
            self.start_node(name)
        self._await_ready(services)
        self.started_at = time.monotonic()
        for client in topo.clients():
            self.start_node(client.name)
        self.events.add("run-started")

    def _start_brokers(self, nodes: list[BrokerNode]) -> dict[str, str]:
        open_broker = broker_support.opener()
        urls = {}
        for node in nodes:
            handle = open_broker(node, self.run_dir)
            self.brokers[node.name] = handle
            self._spawner.submit(handle.start, self.ready_timeout_s).result()
            urls[node.name] = handle.url
            proc = self.table.nodes[node.name]
            proc.state = "ready"
            self.table.extra_pids[node.name] = list(handle.pids())
            self.events.add("ready", node.name, kind="broker")
        self.table.save()
        return urls

    def _await_ready(self, names: list[str]) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        while True:
            with self._lock:
                procs = [self.table.nodes[n] for n in names]
                dead = [p for p in procs if p.state in ("crashed", "exited", "killed")]
                waiting = [p for p in procs if p.state == "starting" or p.state == "idle"]
            if dead:
                p = dead[0]
                raise RunError(f"service '{p.name}' exited before it was ready (exit {p.exit_code}); "
                               f"its log {p.log_path} ends with:\n{log_tail(p.log_path)}")
            if not waiting:
                return
            if time.monotonic() > deadline:
                p = waiting[0]
                raise RunError(f"node '{p.name}' did not report ready within {self.ready_timeout_s:g} s; "
                               f"its log {p.log_path} ends with:\n{log_tail(p.log_path)}")
            time.sleep(POLL_S)

    # -- node events (telemetry thread) and exits (monitor thread) ----------------------
    def _set_state(self, proc: NodeProcess, state: str, **fields: Any) -> None:
        proc.state = state
        if self.metrics is not None:
            self.metrics.set_state(proc.name, state)
        self.events.add(state, proc.name, pid=proc.pid, **fields)
        self.table.save()

    def _on_node_event(self, node: str, pid: int, event: str, msg: dict[str, Any]) -> None:
        with self._lock:
            proc = self.table.nodes.get(node)
            if proc is None or proc.pid != pid:
                return
            if event == "ready" and proc.state == "starting":
                self._set_state(proc, "ready")
            elif event == "done" and proc.state in ("ready", "starting"):
                self._set_state(proc, "done", sent=msg.get("sent"))
            elif event == "gave-up":
                proc.reason = str(msg.get("reason", "gave up"))
                self.events.add("gave-up", node, pid=pid, reason=proc.reason)
            elif event == "joined":
                self.events.add("joined", node, pid=pid)

    def _watch(self) -> None:
        while not self._monitor_stop.is_set():
            restart: list[str] = []
            with self._lock:
                for proc in self.table.nodes.values():
                    if proc.popen is None or proc.state not in RUNNING:
                        continue
                    code = proc.popen.poll()
                    if code is None:
                        if proc.stop_deadline and time.monotonic() > proc.stop_deadline:
                            proc.stop_deadline = None
                            self.events.add("escalate", proc.name, note="did not stop in time: SIGKILL")
                            proc.expected = "kill"
                            self._signal(proc, signal.SIGKILL)
                        continue
                    proc.exit_code = code
                    if proc.expected == "kill":
                        self._set_state(proc, "killed", code=code)
                    elif proc.expected == "stop" or code in (0, EXIT_GAVE_UP):
                        self._set_state(proc, "exited", code=code, reason=proc.reason or
                                        ("gave up" if code == EXIT_GAVE_UP else "stopped" if proc.expected
                                         else "finished"))
                    else:
                        why = "configured crash" if code == EXIT_CRASH else (
                            f"signal {-code}" if code < 0 else f"exit code {code}")
                        self._set_state(proc, "crashed", code=code, reason=why)
                        node = self.topology.node(proc.name)
                        if getattr(node, "restart_on_crash", False) and not self._closing:
                            restart.append(proc.name)
            for name in restart:
                self.events.add("restarting", name, reason="restart_on_crash")
                self.start_node(name)
            self._monitor_stop.wait(POLL_S)

    # -- control (non-blocking, any thread) ----------------------------------------------
    def _proc(self, name: str) -> NodeProcess:
        try:
            return self.table.nodes[name]
        except KeyError:
            raise KeyError(f"no node '{name}' in this run") from None

    def _signal(self, proc: NodeProcess, sig: int) -> bool:
        if proc.popen is None or proc.popen.poll() is not None:
            return False
        try:
            os.kill(proc.popen.pid, sig)
        except ProcessLookupError:
            return False
        return True

    def _broker_call(self, name: str, method: str, *args: Any) -> Future[Any]:
        handle = self.brokers[name]
        proc = self._proc(name)

        def call() -> None:
            try:
                getattr(handle, method)(*args)
                state = {"kill": "killed", "stop": "exited", "pause": "paused"}.get(method, "ready")
                with self._lock:
                    self._set_state(proc, state, kind="broker")
                    self.table.extra_pids[name] = list(handle.pids())
                    self.table.save()
            except Exception as exc:  # noqa: BLE001 - reported as an event, the run goes on
                self.events.add("error", name, action=method, error=str(exc))

        return self._spawner.submit(call)

    def kill(self, name: str) -> None:
        """SIGKILL: no goodbye, no flush; what the node had not recorded is gone."""
        if name in self.brokers:
            self._broker_call(name, "kill")
            return
        with self._lock:
            proc = self._proc(name)
            proc.expected = "kill"
            if self._signal(proc, signal.SIGKILL):
                self.sigkilled.add(name)
                self.events.add("kill", name, pid=proc.pid)

    def stop_node(self, name: str) -> None:
        """SIGTERM: the node stops cleanly (SIGKILL after stop_timeout_s)."""
        if name in self.brokers:
            self._broker_call(name, "stop", self.stop_timeout_s)
            return
        with self._lock:
            proc = self._proc(name)
            if proc.expected != "kill":
                proc.expected = "stop"
            proc.stop_deadline = time.monotonic() + self.stop_timeout_s
            if self._signal(proc, signal.SIGTERM):
                self._signal(proc, signal.SIGCONT)  # a paused node must run to see SIGTERM
                self.events.add("stop", name, pid=proc.pid)

    def start_node(self, name: str) -> Future[Any] | None:
        """Start a node that is not running (a new life); no-op if it runs."""
        if name in self.brokers:
            return self._broker_call(name, "start", self.ready_timeout_s)
        proc = self._proc(name)
        if self._closing and self.ended_at is not None:
            return None

        def spawn() -> None:
            with self._lock:
                if proc.alive:
                    self.events.add("note", name, note="start: already running")
                    return
            self.table.spawn(proc)
            with self._lock:
                self._set_state(proc, "starting", life=proc.lives)

        return self._spawner.submit(spawn)

    def restart(self, name: str) -> Future[Any] | None:
        """Stop (SIGTERM, then SIGKILL if it lingers) and start again."""
        if name in self.brokers:
            return self._broker_call(name, "restart", self.ready_timeout_s)
        proc = self._proc(name)
        self.stop_node(name)

        def wait_then_start() -> None:
            deadline = time.monotonic() + self.stop_timeout_s + 2
            while proc.alive and time.monotonic() < deadline:
                time.sleep(POLL_S)
            while True:  # let the monitor record this life's end before the next begins
                with self._lock:
                    if proc.state not in RUNNING:
                        break
                time.sleep(POLL_S)

        self._spawner.submit(wait_then_start)
        return self.start_node(name)

    def pause(self, name: str) -> None:
        """SIGSTOP: the process freezes; its sockets stay open but nothing answers."""
        if name in self.brokers:
            self._broker_call(name, "pause")
            return
        with self._lock:
            proc = self._proc(name)
            if proc.state != "paused" and self._signal(proc, signal.SIGSTOP):
                proc.before_pause = proc.state
                self._set_state(proc, "paused")

    def resume(self, name: str) -> None:
        """SIGCONT after a pause."""
        if name in self.brokers:
            self._broker_call(name, "resume")
            return
        with self._lock:
            proc = self._proc(name)
            if proc.state == "paused" and self._signal(proc, signal.SIGCONT):
                self._set_state(proc, proc.before_pause or "ready")

    # -- reading (any thread) ---------------------------------------------------------------
    def states(self) -> dict[str, str]:
        with self._lock:
            return {name: proc.state for name, proc in self.table.nodes.items()}

    def elapsed(self) -> float:
        """Seconds since the clients started (0 before)."""
        if self.started_at is None:
            return 0.0
        return (self.ended_at or time.monotonic()) - self.started_at

    def client_finished(self, name: str) -> bool:
        """Ended on its own (done or gave up), or ended by us / crashed and not running."""
        with self._lock:
            proc = self.table.nodes[name]
            return proc.lives > 0 and proc.state not in RUNNING

    # -- headless run and ordered stop --------------------------------------------------------
    def run(self, duration: float | None = None, on_tick: Callable[[Supervisor], None] | None = None,
            should_stop: Callable[[], bool] | None = None, tick_s: float = 0.1) -> dict[str, Any]:
        from engines.runtime.scheduler import Scheduler
        from engines.runtime.summary import build_summary

        if self.started_at is None:
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
            if limit is not None and now >= limit:
                break
            if all(self.client_finished(c) for c in clients) and not scheduler.pending_for(clients):
                break
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
        """Wait until the services have what the clients sent, or nothing moves for a while."""
        assert self.metrics is not None and self.plan is not None
        quiet_since, last, cap = time.monotonic(), -1, time.monotonic() + 60
        while time.monotonic() < cap:
            caught_up = True
            total = 0
            for client in self.topology.clients():
                sent = self.metrics.totals(client.name).get("sent", 0)
                index = self.plan.clients[client.name]
                got = []
                for route in self.plan.audience.get(client.name, []):
                    counts = self.metrics.by_client(route.service)
                    got.append(counts[index] if index < len(counts) else 0)
                total += sum(got)
                if got and (min(got) < sent if client.style.one_to_many else sum(got) < sent):
                    caught_up = False
            if caught_up:
                return
            if total != last:
                last, quiet_since = total, time.monotonic()
            elif time.monotonic() - quiet_since >= self.drain_quiet_s:
                return
            time.sleep(POLL_S)

    def finish(self) -> None:
        """Clients, then (once drained) services, then brokers; idempotent."""
        with self._lock:
            if self._closing:
                return
        clients = [c.name for c in self.topology.clients()]
        services = [s.name for s in self.topology.services()]
        self._stop_group(clients)
        if self.metrics is not None:
            self._drain()
        with self._lock:
            self._closing = True
        self._stop_group(services)
        if self.queue_depths is not None:
            self.queue_depths.close()
        for name, handle in self.brokers.items():
            try:
                self._spawner.submit(handle.stop, self.stop_timeout_s).result(self.stop_timeout_s + 30)
            except Exception as exc:  # noqa: BLE001 - reported; close() still cleans up
                self.events.add("error", name, action="stop", error=str(exc))
        self.ended_at = time.monotonic()
        time.sleep(0.3)  # the nodes' last telemetry is in flight
        self.events.add("run-ended", elapsed_s=round(self.elapsed(), 3))

    def close(self) -> None:
        """Leave nothing running, whatever state the run is in (idempotent, never raises)."""
        if self._closed:
            return
        self._closed = True
        self._closing = True
        for proc in self.table.nodes.values():
            if proc.alive:
                proc.expected = "kill"
                self._signal(proc, signal.SIGKILL)
        for proc in self.table.nodes.values():
            if proc.popen is not None:
                try:
                    proc.popen.wait(timeout=5)
                except Exception:  # noqa: BLE001
                    pass
        if self.queue_depths is not None:
            self.queue_depths.close()
        for handle in self.brokers.values():
            try:
                handle.close()
            except Exception:  # noqa: BLE001
                pass
        self._monitor_stop.set()
        if self._monitor is not None:
            self._monitor.join(timeout=2)
        self._spawner.shutdown(wait=True, cancel_futures=True)
        if self.metrics is not None:
            self.metrics.close()
        self.table.save()
        self.events.close()

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

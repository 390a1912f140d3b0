"""Per-node control during a run: signals, new lives, exits, restarts after a crash.

Every method returns at once and may be called from any thread (a GUI's
right-click, the scenario player, the headless loop). Processes are created
only by the supervisor's one spawner thread: the parent-death signal that
kills a node when the lab dies is tied to the thread that forked it, so that
thread must outlive every node. A monitor thread polls for exits every
50 ms and turns them into states: `killed` (we sent SIGKILL), `exited`
(stopped by us, or finished: done or gave up) or `crashed` (anything else;
a service with `restart_on_crash` then gets a new life). Node reports
(ready, done, gave-up) arrive from the telemetry thread via `on_node_event`; a
client that finished is marked exited once its "done" has arrived (REPORT_GRACE_S).

Brokers are controlled through their handles (engines.runtime.brokers), in
the spawner thread, since their start and stop block; `broker_action` gives
them the same lifecycle states and events as the other nodes.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from engines.runtime import brokers as broker_states
from engines.runtime.events import EventLog
from engines.runtime.proctable import RUNNING, NodeProcess, ProcessTable, log_tail
from engines.topology.model import Topology
from engines.transports.base import EXIT_CRASH, EXIT_GAVE_UP

POLL_S = 0.05
# A client's last report ("done") goes out just before it exits, on another socket than its exit
# status: a loaded supervisor can see the exit first. It waits this long for the report.
REPORT_GRACE_S = 2.0
CRASH_LOG_LINES = 12  # a crashed node is reported with this many last lines of its log


class Control:
    def __init__(self, topology: Topology, table: ProcessTable, events: EventLog,
                 stop_timeout_s: float, ready_timeout_s: float) -> None:
        self.topology = topology
        self.table = table
        self.events = events
        self.stop_timeout_s = stop_timeout_s
        self.ready_timeout_s = ready_timeout_s
        self.lock = threading.RLock()
        self.spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spawner")
        self.brokers: dict[str, Any] = {}  # name -> handle
        self.members: dict[str, Any] = {}  # cluster member name (rabbit/2) -> its handle
        self._broker_ending: dict[str, int] = {}  # stops and kills submitted, not finished yet
        self.sigkilled: set[str] = set()  # nodes SIGKILLed during the run (the ledger says so)
        self.on_state: Callable[[str, str], None] | None = None
        self.closing = False  # no restart after a crash from now on
        self.closed = False  # no new life at all
        # a life's telemetry can arrive before the spawner thread has recorded it (a loaded
        # machine, or a GUI's on_spawn hook): its events wait here and are replayed then
        self._spawning: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
        self._stop = threading.Event()
        self._monitor = threading.Thread(target=self._watch, name="monitor", daemon=True)

    def start_watching(self) -> None:
        self._monitor.start()

    def stop_watching(self) -> None:
        self._stop.set()
        if self._monitor.is_alive():
            self._monitor.join(timeout=2)

    # -- node events (telemetry thread) and exits (monitor thread) ----------------------
    def _set_state(self, proc: NodeProcess, state: str, **fields: Any) -> None:
        proc.state = state
        if self.on_state is not None:
            self.on_state(proc.name, state)
        self.events.add(state, proc.name, pid=proc.pid, **fields)
        self.table.save()

    def on_node_event(self, node: str, pid: int, event: str, msg: dict[str, Any]) -> None:
        with self.lock:
            proc = self.table.nodes.get(node)
            if proc is None:
                return
            early = self._spawning.get(node)
            if early is not None:  # this may be the new life, not yet recorded: keep for replay
                if len(early) < 64:
                    early.append((pid, event, msg))
                return
            if proc.pid != pid:
                return
            if event == "ready" and proc.state == "starting":  # a late joiner says when it joins
                ts = msg.get("ts")
                proc.ready_wall = float(ts) if isinstance(ts, (int, float)) else time.time()
                self._set_state(proc, "ready", **({"joining_in_ms": msg["joining_in_ms"]}
                                                  if msg.get("joining_in_ms") else {}))
            elif event == "done" and proc.state in ("ready", "starting"):
                self._set_state(proc, "done", sent=msg.get("sent"))
            elif event == "gave-up":
                proc.reason = str(msg.get("reason", "gave up"))
                self.events.add("gave-up", node, pid=pid, reason=proc.reason)
            elif event == "joined":
                self.events.add("joined", node, pid=pid)
            elif event == "breaker":  # a service's circuit breaker changed state (engines.nodes.resilience)
                self.events.add("breaker", node, pid=pid, link=msg.get("link"), state=msg.get("state"))
            elif event in ("stream-attach", "stream-reread"):  # a stream consumer (re)attached
                self.events.add(event, node, pid=pid, queue=msg.get("queue"), offset=msg.get("offset"))
            elif event in ("failover", "reconnect"):  # an amqp node found its broker again
                self.events.add(event, node, pid=pid, member=msg.get("member"),
                                after_s=msg.get("after_s"))

    def _watch(self) -> None:
        while not self._stop.is_set():
            restart: list[str] = []
            with self.lock:
                for proc in self.table.nodes.values():
                    # a life still being recorded (spawn() replays its early events next) ends
                    # after them: a fast client done before then kept neither `starting` nor `done`
                    if proc.popen is None or proc.state not in RUNNING or proc.name in self._spawning:
                        continue
                    code = proc.popen.poll()
                    if code is None:
                        if proc.stop_deadline and time.monotonic() > proc.stop_deadline:
                            proc.stop_deadline = None
                            self.events.add("escalate", proc.name, note="did not stop in time: SIGKILL")
                            proc.expected = "kill"
                            self._signal(proc, signal.SIGKILL)
                        continue
                    if self._report_pending(proc, code):
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
                        proc.crash_log, proc.reason = log_tail(proc.log_path, CRASH_LOG_LINES), why
                        self._set_state(proc, "crashed", code=code, reason=why, log_tail=proc.crash_log)
                        node = self.topology.node(proc.name)
                        if getattr(node, "restart_on_crash", False) and not self.closing:
                            restart.append(proc.name)
            for name in restart:
                self.events.add("restarting", name, reason="restart_on_crash")
                self.start_node(name)
            self._stop.wait(POLL_S)

    def _report_pending(self, proc: NodeProcess, code: int) -> bool:
        """A client that finished (exit 0) without its "done" having arrived: its ending waits
        for that report (REPORT_GRACE_S at most), so the run reads ready, done, exited."""
        if code != 0 or proc.kind != "client" or proc.expected or proc.state not in ("starting", "ready"):
            proc.report_deadline = None
            return False
        now = time.monotonic()
        if proc.report_deadline is None:
            proc.report_deadline = now + REPORT_GRACE_S
        if now < proc.report_deadline:
            return True
        proc.report_deadline = None
        return False

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

    def is_broker(self, name: str) -> bool:
        """A broker node, or one member of a clustered broker."""
        return name in self.brokers or name in self.members

    def broker_action(self, name: str, method: str, *args: Any) -> Future[Any]:
        """Run a broker handle's `method` in the spawner thread, with the node lifecycle around it.

        `starting` (with the expected boot time) at once for start and restart, so a booting
        broker reads as booting and a second Start is refused; then `ready`, `killed`,
        `exited` or `paused` when the handle returns; `crashed` if a boot fails. The future
        carries the handle's exception (also logged as an `error` event).
        """
        handle = self.brokers.get(name) or self.members[name]
        proc = self._proc(name)
        role = "member" if name in self.members else "broker"
        with self.lock:
            ending = self._broker_ending.get(name, 0) > 0  # a stop or kill queued, not done yet
            why = None if method == "start" and ending else broker_states.refused(method, proc.state)
            if why is not None:
                self.events.add("note", name, note=why, role=role)
                done: Future[Any] = Future()
                done.set_result(None)
                return done
            if method in ("stop", "kill"):  # a Start after it waits for it (one spawner thread)
                self._broker_ending[name] = self._broker_ending.get(name, 0) + 1
            before = broker_states.BEFORE.get(method)
            if before is not None:
                proc.start_pending = True  # the run settles once it is up (a kill queued first
                proc.lives += 1  # may still mark it killed before this start runs)
                self._set_state(proc, before, role=role, action=method,
                                expect_s=broker_states.boot_estimate())

        def call() -> None:
            try:
                run()
            finally:
                if before is not None:
                    with self.lock:
                        proc.start_pending = False
                if method in ("stop", "kill"):
                    with self.lock:
                        self._broker_ending[name] -= 1

        def run() -> None:
            began = time.monotonic()
            try:
                getattr(handle, method)(*args)
            except Exception as exc:
                with self.lock:
                    self.events.add("error", name, action=method, error=str(exc), role=role)
                    if before is not None:
                        proc.reason = str(exc).splitlines()[0] if str(exc) else "boot failed"
                        self._set_state(proc, "crashed", role=role, reason=proc.reason)
                raise
            fields: dict[str, Any] = {"role": role}
            if before is not None:
                boot = time.monotonic() - began
                broker_states.record_boot(boot)
                fields["boot_s"] = round(boot, 2)
            after = broker_states.AFTER.get(method, "ready")
            if method == "resume":
                after = proc.before_pause or "ready"
            with self.lock:
                if method == "pause":
                    proc.before_pause = proc.state
                if method == "stop":
                    fields["reason"] = proc.reason = "stopped"
                self._set_state(proc, after, **fields)
                self.table.extra_pids[name] = list(handle.pids())
                self.table.save()

        return self.spawner.submit(call)

    def node_states(self) -> dict[str, dict[str, Any]]:
        """Each node's state, lives, exit code and reason (with its log tail after a crash)."""
        with self.lock:
            return {name: {"state": p.state, "lives": p.lives, "exit_code": p.exit_code,
                           "reason": p.reason, **({"log_tail": p.crash_log} if p.crash_log else {})}
                    for name, p in self.table.nodes.items()}

    def kill(self, name: str) -> None:
        """SIGKILL: no goodbye, no flush; what the node had not recorded is gone."""
        if self.is_broker(name):
            self.broker_action(name, "kill")
            return
        with self.lock:
            proc = self._proc(name)
            proc.expected = "kill"
            if self._signal(proc, signal.SIGKILL):
                self.sigkilled.add(name)
                self.events.add("kill", name, pid=proc.pid)

    def stop_node(self, name: str) -> None:
        """SIGTERM: the node stops cleanly (SIGKILL after stop_timeout_s)."""
        if self.is_broker(name):
            self.broker_action(name, "stop", self.stop_timeout_s)
            return
        with self.lock:
            proc = self._proc(name)
            if proc.expected != "kill":
                proc.expected = "stop"
            proc.stop_deadline = time.monotonic() + self.stop_timeout_s
            if self._signal(proc, signal.SIGTERM):
                self._signal(proc, signal.SIGCONT)  # a paused node must run to see SIGTERM
                self.events.add("stop", name, pid=proc.pid)

    def start_node(self, name: str) -> Future[Any] | None:
        """Start a node that is not running (a new life); no-op if it runs."""
        if self.is_broker(name):
            return self.broker_action(name, "start", self.ready_timeout_s)
        proc = self._proc(name)
        if self.closed:
            return None

        def spawn() -> None:
            with self.lock:
                if proc.alive or self.closed:
                    proc.start_pending = False
                    if proc.alive:
                        self.events.add("note", name, note="start: already running")
                    return
                self._spawning[name] = []
            try:
                self.table.spawn(proc)
            finally:
                with self.lock:
                    early = self._spawning.pop(name, [])
                    if proc.state == "starting":
                        self._set_state(proc, "starting", life=proc.lives)
                    for pid, event, msg in early:  # what the new life said before it was recorded
                        self.on_node_event(name, pid, event, msg)

        with self.lock:
            proc.start_pending = True
        return self.spawner.submit(spawn)

    def restart(self, name: str) -> Future[Any] | None:
        """Stop (SIGTERM, then SIGKILL if it lingers) and start again."""
        if self.is_broker(name):
            return self.broker_action(name, "restart", self.ready_timeout_s)
        proc = self._proc(name)
        self.stop_node(name)

        def wait_then_start() -> None:
            deadline = time.monotonic() + self.stop_timeout_s + 2
            while proc.alive and time.monotonic() < deadline:
                time.sleep(POLL_S)
            while True:  # let the monitor record this life's end before the next begins
                with self.lock:
                    if proc.state not in RUNNING:
                        break
                time.sleep(POLL_S)

        self.spawner.submit(wait_then_start)
        return self.start_node(name)

    def pause(self, name: str) -> None:
        """SIGSTOP: the process freezes; its sockets stay open but nothing answers."""
        if self.is_broker(name):
            self.broker_action(name, "pause")
            return
        with self.lock:
            proc = self._proc(name)
            if proc.state != "paused" and self._signal(proc, signal.SIGSTOP):
                proc.before_pause = proc.state
                self._set_state(proc, "paused")

    def resume(self, name: str) -> None:
        """SIGCONT after a pause."""
        if self.is_broker(name):
            self.broker_action(name, "resume")
            return
        with self.lock:
            proc = self._proc(name)
            if proc.state == "paused" and self._signal(proc, signal.SIGCONT):
                self._set_state(proc, proc.before_pause or "ready")

    # -- reading ----------------------------------------------------------------------------
    def states(self) -> dict[str, str]:
        with self.lock:
            return {name: proc.state for name, proc in self.table.nodes.items()}

    def settling(self) -> bool:
        """A node is coming (back) up: a restart or start a scenario step set going."""
        with self.lock:
            return any(p.start_pending or (p.lives > 0 and p.state == "starting")
                       for p in self.table.nodes.values())

    def kill_all(self) -> None:
        """SIGKILL every live node and reap it (the last resort of close())."""
        self.closing = self.closed = True
        for proc in self.table.nodes.values():
            if proc.alive:
                proc.expected = "kill"
                self._signal(proc, signal.SIGKILL)
        for proc in self.table.nodes.values():
            if proc.popen is not None:
                try:
                    proc.popen.wait(timeout=5)
                except Exception:  # noqa: BLE001 - nothing more can be done
                    pass

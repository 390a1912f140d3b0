"""One run of a topology from the GUI, on worker threads: the GUI thread never waits on it.

The same `Supervisor`, `Scheduler` and `build_summary` as the headless runner
(`engines.cli.run` goes through `Supervisor.run`); only the loop that decides
when the run ends lives here, because a person at the canvas is part of it:

- the run ends at the topology's `duration_s`, on Stop, or when every client
  has finished with nothing left in the scenario for them, as headless;
- but a client the user killed or stopped by hand holds the run open (the
  user may start it again), where headless would end at once.

No Qt here: the GUI polls `phase`, `error`, `summary` and the supervisor's
thread-safe readers on its own timer.

The run's processes get a lower CPU priority (`NODE_NICE` more than the GUI,
which any user may give their own children): fifty nodes sending as fast as
they can would otherwise leave the window's threads waiting for a core, and
the window would freeze for a second at a time. Every node gets the same
nice value, so they still compete with each other exactly as headless.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from engines.brokers.procs import die_with_parent
from engines.runtime import RunError, Supervisor
from engines.runtime.proctable import PROJECT_ROOT
from engines.runtime.scheduler import Scheduler
from engines.runtime.summary import build_summary
from engines.topology.model import Topology

TICK_S = 0.1
READY_TIMEOUT_S = 60.0  # a RabbitMQ boot on a busy laptop can take far longer than its usual 5 s
STARTING_RENICE_S = 0.05  # while the run starts, new processes are lowered this often
BROKER_WALK_S = 1.0  # a broker's process tree is walked at most this often (psutil reads all of /proc)
NODE_NICE = 19  # added to the GUI's own niceness for every process of the run

# phases, in order; "failed" replaces the rest when the run could not start
STARTING, RUNNING, FINISHING, ENDED, FAILED = "starting", "running", "finishing", "ended", "failed"

# hand actions -> the supervisor's control method (all return at once)
NODE_ACTIONS = {
    "kill": "kill", "stop": "stop_node", "start": "start_node", "restart": "restart",
    "pause": "pause", "resume": "resume",
}


class RunSession:
    """Start with `start()`; `stop()` ends in order, `abort()` kills at once; `act()` injects faults."""

    def __init__(self, topology: Topology, run_dir: Path, *, link_faults: bool = False,
                 **options: Any) -> None:
        self.topology = topology
        self.link_faults = link_faults
        # every link through a fault proxy, so any link can be cut by hand (engines.runtime.linkfaults)
        options.setdefault("ready_timeout_s", READY_TIMEOUT_S)
        self.sup = Supervisor(topology, run_dir, proxy_all_links=link_faults, **options)
        self.phase = STARTING
        self.error: str | None = None
        self.summary: dict[str, Any] | None = None
        self.closed = threading.Event()  # set once nothing of the run is left running
        self.done = threading.Event()  # set once the worker has finished (summary, report)
        self.report: Path | None = None
        self.report_error: str | None = None
        self._close_lock = threading.Lock()
        self._report_proc: subprocess.Popen[bytes] | None = None
        self._report_lock = threading.Lock()  # the spawn and a cancel do not cross
        self._report_cancelled = False
        self.aborted = False
        self._stop = threading.Event()
        self._held: set[str] = set()  # clients ended by hand: they keep the run open
        self._reniced: set[int] = set()
        self._broker_walked: dict[str, float] = {}  # broker name -> when its tree was last walked
        self._renice_lock = threading.Lock()
        self._nice = min(19, os.getpriority(os.PRIO_PROCESS, 0) + NODE_NICE)
        self._own_session = os.getsid(0)  # its scheduling group is the window's: never lowered
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._main, name="gui-run", daemon=True)
        # each node is lowered by the spawner thread the instant it exists, before its interpreter
        # has imported anything (the renicing thread below only catches what this misses)
        self.sup.table.on_spawn = self._lower_one

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    @property
    def active(self) -> bool:
        """Processes may be running (starting, running or finishing)."""
        return self.phase in (STARTING, RUNNING, FINISHING)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """End the run in order (clients, then services once drained, then brokers)."""
        self._stop.set()

    def abort(self) -> None:
        """Kill everything now (a second Stop, or the window closing); returns at once."""
        self._stop.set()
        self.aborted = True
        threading.Thread(target=self._close, name="gui-run-abort", daemon=True).start()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until nothing of the run is left (for a closing window or a test)."""
        return self.closed.wait(timeout)

    def wait_done(self, timeout: float | None = None) -> bool:
        """Wait until the worker has finished too (the summary and the report are written)."""
        return self.done.wait(timeout)

    def _renice_while_starting(self) -> None:
        """Brokers booting and fifty nodes importing compete with the window from their first
        instant: lower each one as soon as it exists, not once the whole start is over."""
        while self.phase == STARTING and not self._stop.is_set():
            self._lower_priority()
            time.sleep(STARTING_RENICE_S)

    def _main(self) -> None:
        sup = self.sup
        threading.Thread(target=self._renice_while_starting, name="gui-run-renice", daemon=True).start()
        try:
            try:
                sup.start()
            except RunError as exc:
                self.error = str(exc)
                self.phase = FAILED
                return
            self._lower_priority()
            self.phase = RUNNING
            self._loop()
            if self.aborted:
                self._summary_after_abort()
                return
            self.phase = FINISHING
            sup.finish()
            self.summary = build_summary(sup)
            self.phase = ENDED
            self._close()
            self._build_report()
        except Exception as exc:  # noqa: BLE001 - shown to the user; close() still cleans up
            if self.aborted and sup.metrics is not None:
                self._summary_after_abort()
            else:
                self.error = f"{type(exc).__name__}: {exc}"
                self.phase = FAILED
        finally:
            self._close()
            self.done.set()

    def _close(self) -> None:
        """Leave nothing of the run running; a second caller waits for the first."""
        with self._close_lock:
            self.sup.close()
        self.closed.set()

    def _build_report(self) -> None:
        """The run's HTML report: `labgui report RUN_DIR` (engines.report), in a process of its own,
        so matplotlib neither holds the window's interpreter nor outlives it half-way."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        try:
            with self._report_lock:  # a window that closed meanwhile wants no report process
                if self._report_cancelled:
                    self.report_error = "not built: the window closed first"
                    return
                # dies with this thread (so with the window's process, even SIGKILLed)
                self._report_proc = proc = subprocess.Popen(
                    [sys.executable, "-m", "labgui", "report", str(self.sup.run_dir)],
                    cwd=str(PROJECT_ROOT), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE, preexec_fn=die_with_parent())  # noqa: PLW1509
            os.setpriority(os.PRIO_PROCESS, proc.pid, self._nice)
            _out, err = proc.communicate()
        except OSError as exc:
            self.report_error = str(exc)
            return
        page = self.sup.run_dir / "report.html"
        if proc.returncode == 0 and page.exists():
            self.report = page
        else:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            self.report_error = lines[-1] if lines else f"labgui report exited with {proc.returncode}"

    def cancel_report(self) -> None:
        """The window is closing: a report still being built is not waited for."""
        with self._report_lock:
            self._report_cancelled = True
            proc = self._report_proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def _summary_after_abort(self) -> None:
        """Killed mid-way: the ledger still reads what the nodes committed and recorded."""
        self._close()
        try:
            self.summary = build_summary(self.sup)
            self.phase = ENDED
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.error = f"the run was aborted and its summary could not be built: {exc}"
            self.phase = FAILED

    def _loop(self) -> None:
        sup = self.sup
        scheduler = Scheduler(self.topology.scenario, sup)
        limit = self.topology.duration_s
        clients = [c.name for c in self.topology.clients()]
        while not self._stop.wait(TICK_S):
            self._lower_priority()
            now = sup.elapsed()
            scheduler.tick(now, sup.sent_total())
            if limit is not None and now >= limit:
                return
            if sup.disk.full:  # the first failed write of the run: stop in order (engines.runtime.diskfull)
                sup.events.add("disk-full", note=sup.disk.message())
                return
            with self._lock:
                held = bool(self._held)
            if clients and not held and all(sup.client_finished(c) for c in clients) \
                    and not scheduler.pending_for(clients) and not scheduler.holds_run() \
                    and not sup.control.settling():
                return  # the same end as the headless run (engines.runtime.scheduler)
        sup.events.add("interrupted")

    def _lower_priority(self) -> None:
        """Renice every process of the run not yet reniced (nodes' new lives, restarted brokers)."""
        with self._renice_lock:
            self._renice_new()

    def _lower_one(self, pid: int) -> None:
        """One new process of the run: lower it now (called by the supervisor's spawner thread)."""
        with self._renice_lock:
            if pid not in self._reniced:
                self._lower(pid)

    def _renice_new(self) -> None:
        pids = set(self.sup.table.live_pids())
        states = self.sup.states()
        now = time.monotonic()
        for name, handle in list(self.sup.brokers.items()):
            if states.get(name) == "starting":
                continue  # a booting broker keeps its priority: a slow boot is worse than a busy core
            if now - self._broker_walked.get(name, -BROKER_WALK_S) < BROKER_WALK_S:
                continue  # its processes after each action are in all_pids(); later helpers inherit its nice
            self._broker_walked[name] = now
            try:
                pids.update(getattr(handle, "pids_now", handle.pids)())
            except Exception:  # noqa: BLE001 - a broker between lives
                continue
        for pid in pids - self._reniced:
            self._lower(pid)

    def _lower(self, pid: int) -> None:
        """Lower one process and its autogroup (the caller holds the renice lock)."""
        self._reniced.add(pid)
        try:
            os.setpriority(os.PRIO_PROCESS, pid, self._nice)
            # Nodes run in sessions of their own; where the kernel groups the scheduler by
            # session (autogroup), a process's nice only counts inside its group, so the
            # group's nice is lowered too (the same rules as setpriority). Never the group of
            # the window's own session: that would lower the window (and its terminal) as well.
            autogroup = Path(f"/proc/{pid}/autogroup")
            if os.getsid(pid) != self._own_session and autogroup.exists():
                autogroup.write_text(f"{NODE_NICE}\n", encoding="ascii")
        except OSError:  # gone already, or not ours
            pass

    # -- faults by hand -------------------------------------------------------------------------
    def act(self, action: str, node: str) -> None:
        """Kill, stop, start, restart, pause or resume a node, as an event on the run's timeline."""
        if action not in NODE_ACTIONS:
            raise ValueError(f"unknown action '{action}'")
        if self.phase != RUNNING:
            return
        self.sup.events.add("manual", node, action=action, at_s=round(self.sup.elapsed(), 3))
        if node in {c.name for c in self.topology.clients()}:
            with self._lock:
                if action in ("kill", "stop"):
                    self._held.add(node)
                elif action in ("start", "restart"):
                    self._held.discard(node)
        getattr(self.sup, NODE_ACTIONS[action])(node)

    def act_on_link(self, action: str, link: str, latency_ms: float = 0.0) -> None:
        """Cut, heal or delay a link (through its proxy), as an event on the run's timeline."""
        if self.phase != RUNNING:
            return
        calls = {"cut": lambda: self.sup.cut_link(link), "heal": lambda: self.sup.heal_link(link),
                 "delay": lambda: self.sup.delay_link(link, latency_ms)}
        if action not in calls:
            raise ValueError(f"unknown link action '{action}'")
        fields: dict[str, Any] = {"latency_ms": latency_ms} if action == "delay" else {}
        self.sup.events.add("manual", None, link=link, action=action, at_s=round(self.sup.elapsed(), 3),
                            **fields)
        try:
            calls[action]()
        except KeyError as exc:  # no proxy on this link in this run
            self.sup.events.add("error", None, link=link, action=action, error=str(exc))

    def proxied(self, link: str) -> bool:
        """Whether this run can fault the link (it goes through a proxy)."""
        return link in self.sup.link_faults.proxies

    # -- reading -----------------------------------------------------------------------------------
    def elapsed(self) -> float:
        return self.sup.elapsed()

    def origin(self) -> float | None:
        """The run clock's zero (monotonic): when the clients started, as the scenario counts."""
        return self.sup.started_at

    def now(self) -> float:
        """Seconds on the run clock (negative before the clients started)."""
        origin = self.sup.started_at
        return 0.0 if origin is None else (self.sup.ended_at or time.monotonic()) - origin

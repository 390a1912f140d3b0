"""A RabbitMQ node the lab starts, kills, restarts and always cleans up.

The node keeps its node name, ports and data directory for its whole life, so
a restart after a kill finds its durable queues and persistent messages, and
clients reconnect to the same URL. Readiness is an AMQP connection that
succeeds; `rabbitmqctl` is never used (DESIGN trap: it broke quorum queues
after a SIGKILL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pika
import psutil

from engines.brokers import nodeconf, procs, runend
from engines.brokers.handle import AMQP_ERRORS, BrokerError, BrokerState
from engines.brokers.install import epmd_binary, rabbitmq_available, server_script
from engines.hygiene import RUN_MARK, portreg

_POLL_S = 0.25


def amqp_ready(url: str, timeout: float = 2.0) -> bool:
    """True when an AMQP connection to `url` opens (and is closed again)."""
    params = pika.URLParameters(url)
    params.connection_attempts = 1
    params.socket_timeout = timeout
    params.stack_timeout = timeout
    params.blocked_connection_timeout = timeout
    try:
        pika.BlockingConnection(params).close()
    except AMQP_ERRORS:
        return False
    return True


class ManagedBroker:
    """A private `rabbitmq-server` on free loopback ports, data inside the run directory.

    Any thread may start or restart it: the fork happens on `procs.spawner`'s
    thread, so the parent-death signal follows the process, not the caller.
    """

    managed = True

    def __init__(self, name: str, run_dir: Path, layout: nodeconf.NodeLayout | None = None,
                 shared_epmd: bool = False) -> None:
        """`layout` and `shared_epmd` make a cluster member: its cluster owns the epmd."""
        problem = rabbitmq_available()
        if problem:
            raise BrokerError(problem)
        self.name = name
        self.layout = layout or nodeconf.new_layout(name, run_dir)
        self.shared_epmd = shared_epmd
        nodeconf.write_files(self.layout)
        self._script = server_script()
        self._epmd = epmd_binary() or "epmd"
        self._proc: subprocess.Popen[bytes] | None = None
        self._epmd_proc: subprocess.Popen[bytes] | None = None
        self._state = BrokerState.STOPPED
        self._lock = threading.RLock()
        self._closed = False

    # -- protocol ------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.layout.url

    @property
    def state(self) -> BrokerState:
        with self._lock:
            if self._state in (BrokerState.RUNNING, BrokerState.PAUSED) and not self._beam_alive():
                self._state = BrokerState.KILLED
            return self._state

    def start(self, timeout: float = 60) -> None:
        with self._lock:
            if self._closed:
                raise BrokerError(f"broker '{self.name}' is closed")
            if self._beam_alive():
                if self._state is BrokerState.PAUSED:
                    self.resume()
                return
            self._spawn()
            self._wait_ready(timeout)

    def kill(self) -> None:
        with self._lock:
            self._kill_everything()
            self._state = BrokerState.KILLED

    def stop(self, timeout: float = 30, run_ended: bool = False) -> None:
        """Graceful: SIGTERM and wait for the node to exit. `run_ended`: the run is over and the
        node will never be started again, so its stop ends once RabbitMQ has closed its data
        (see `engines.brokers.runend`), not 5 s later when 3.10's management agent exits."""
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                log = runend.node_log(self.layout)
                offset = runend.log_size(log)
                procs.signal_all(procs.tree(proc.pid), signal.SIGCONT)
                proc.send_signal(signal.SIGTERM)
                if run_ended:
                    runend.wait_data_closed(proc, log, offset, timeout)
                else:
                    try:
                        proc.wait(timeout=timeout)
                    except subprocess.TimeoutExpired:
                        pass
            self._kill_everything()
            self._state = BrokerState.STOPPED

    def restart(self, timeout: float = 60) -> None:
        with self._lock:
            if self._beam_alive():
                self.stop()
            self.start(timeout=timeout)

    def pause(self) -> None:
        with self._lock:
            self._require_alive("pause")
            tree = procs.tree(self._proc.pid)  # type: ignore[union-attr]
            procs.signal_all(tree, signal.SIGSTOP)
            procs.wait_stopped(tree)  # the signal lands when each is next scheduled
            self._state = BrokerState.PAUSED

    def resume(self) -> None:
        with self._lock:
            self._require_alive("resume")
            procs.signal_all(procs.tree(self._proc.pid), signal.SIGCONT)  # type: ignore[union-attr]
            self._state = BrokerState.RUNNING

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._kill_everything()
            if self._state is not BrokerState.KILLED:
                self._state = BrokerState.STOPPED
            self._closed = True
            portreg.release(self.layout.directory)  # nothing of the node is left: its ports are free

    def pids(self) -> list[int]:
        with self._lock:
            found = _node_tree(self._proc)
            if not self.shared_epmd:
                found += [p.pid for p in procs.epmd_processes(self.layout.epmd_port)]
            return sorted(set(found))

    def pids_now(self) -> list[int]:
        """Like pids(), without waiting for a boot or stop in progress (which holds the lock):
        a GUI lowering the priority of a booting broker must not wait for the boot to end."""
        try:
            return sorted(set(_node_tree(self._proc)))
        except Exception:  # noqa: BLE001 - the tree changes under our feet while it boots
            return []

    # -- extras --------------------------------------------------------------
    @property
    def beam_pid(self) -> int | None:
        return self._proc.pid if self._beam_alive() else None  # type: ignore[union-attr]

    @property
    def epmd_port(self) -> int:
        return self.layout.epmd_port

    @property
    def data_dir(self) -> Path:
        return self.layout.directory / "mnesia"

    def __repr__(self) -> str:
        return f"<ManagedBroker {self.name} {self.layout.nodename} port={self.layout.amqp_port} {self._state.value}>"

    # -- internals -----------------------------------------------------------
    def _beam_alive(self) -> bool:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return False
        try:
            return psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    def _require_alive(self, action: str) -> None:
        if not self._beam_alive():
            raise BrokerError(f"broker '{self.name}' is not running; cannot {action} it")

    def _spawn(self) -> None:
        layout = self.layout
        if not procs.port_is_free(layout.amqp_port):
            raise BrokerError(
                f"broker '{self.name}': its AMQP port {layout.amqp_port} is taken by another process"
            )
        self._state = BrokerState.STARTING
        if not self.shared_epmd:
            self._epmd_proc = start_epmd(self._epmd, layout.epmd_port,
                                         nodeconf.environment(layout)[RUN_MARK])
        log = open(layout.console_log, "ab")  # noqa: SIM115 - handed to the child
        try:
            self._proc = procs.spawner.call(lambda: subprocess.Popen(
                [str(self._script)],
                env=nodeconf.environment(layout),
                cwd=layout.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=procs.die_with_parent(),  # noqa: PLW1509 - see die_with_parent
            ))
        except OSError as exc:
            self._state = BrokerState.STOPPED
            raise BrokerError(f"broker '{self.name}': cannot run {self._script}: {exc}") from exc
        finally:
            log.close()
        nodeconf.save_state(layout, self._proc.pid)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                self._kill_everything()
                self._state = BrokerState.STOPPED
                raise BrokerError(
                    f"broker '{self.name}' exited during boot (code {code}):\n{self._log_tail()}"
                )
            if amqp_ready(self.url, timeout=min(2.0, max(0.5, deadline - time.monotonic()))):
                self._state = BrokerState.RUNNING
                return
            time.sleep(_POLL_S)
        self._kill_everything()
        self._state = BrokerState.STOPPED
        raise BrokerError(
            f"broker '{self.name}' did not accept AMQP connections within {timeout:.0f} s:\n"
            f"{self._log_tail()}"
        )

    def _kill_everything(self) -> None:
        """SIGKILL beam.smp and every descendant, reap it, then stop its epmd."""
        proc = self._proc
        if proc is not None:
            left = procs.kill_and_wait(procs.tree(proc.pid))
            try:
                proc.kill()
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                left.append(psutil.Process(proc.pid))
            if left:
                raise BrokerError(f"broker '{self.name}': processes survived SIGKILL: {left}")
        if not self.shared_epmd:
            stop_epmd(self._epmd_proc, self.layout.epmd_port, self._epmd)
            self._epmd_proc = None
        nodeconf.save_state(self.layout, None)

    def _log_tail(self, lines: int = 25) -> str:
        texts = []
        for path in [self.layout.console_log, *sorted((self.layout.directory / "log").glob("*.log"))]:
            try:
                texts.append("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
            except OSError:
                continue
        return "\n".join(texts)[-4000:]


def _node_tree(proc: subprocess.Popen[bytes] | None) -> list[int]:
    """The node's process and its descendants, only while its Popen has not reaped it: once
    reaped, its pid may already be another program's (a killed node's pid reused by a process
    of the window's own session got that whole session lowered to nice 19)."""
    if proc is None or proc.returncode is not None:
        return []
    found = [p.pid for p in procs.tree(proc.pid)]
    return found if proc.returncode is None else []  # reaped meanwhile: the tree may be a stranger's


def start_epmd(epmd: str, port: int, run_mark: str | None = None) -> subprocess.Popen[bytes] | None:
    """Our own epmd in the foreground, as a child that dies with the lab.

    beam would start one with `epmd -daemon`, which detaches and outlives
    a crashed lab; finding ours already listening on its port, it uses it.
    """
    if procs.epmd_processes(port):
        return None
    env = dict(os.environ, ERL_EPMD_PORT=str(port), ERL_EPMD_ADDRESS="127.0.0.1")
    if run_mark is not None:  # the reaper finds it by its run's mark (engines.hygiene)
        env[RUN_MARK] = run_mark
    proc = procs.spawner.call(lambda: subprocess.Popen(
        [epmd, "-port", str(port), "-address", "127.0.0.1"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=procs.die_with_parent(),  # noqa: PLW1509 - see die_with_parent
    ))
    deadline = time.monotonic() + 5
    while not procs.accepts(port) and time.monotonic() < deadline:
        if proc.poll() is not None:
            break  # beam will start its own (daemonised) one; close() still finds it by port
        time.sleep(0.02)
    return proc


def stop_epmd(proc: subprocess.Popen[bytes] | None, port: int, epmd: str) -> None:
    """Kill our epmd child (if any), then whatever still listens on its private port."""
    if proc is not None:
        proc.kill()
        proc.wait(timeout=10)
    procs.kill_epmd(port, epmd)


def cleanup_run_dir(run_dir: Path) -> list[int]:
    """Kill what managed nodes of a run left behind (after the lab itself crashed).

    Uses the state files: a beam pid is killed only if its command line still
    names the recorded node, so a recycled pid is never touched.
    """
    killed: list[int] = []
    for state in nodeconf.recorded_states(run_dir):
        pid, nodename = state.get("beam_pid"), state.get("nodename", "")
        if pid:
            try:
                cmdline = " ".join(psutil.Process(pid).cmdline())
            except psutil.NoSuchProcess:
                cmdline = ""
            if nodename and nodename in cmdline:
                tree = procs.tree(pid)
                killed += [p.pid for p in tree]
                procs.kill_and_wait(tree)
        port = state.get("epmd_port")
        if port:
            killed += [p.pid for p in procs.epmd_processes(int(port))]
            procs.kill_epmd(int(port), epmd_binary() or "epmd")
    return killed

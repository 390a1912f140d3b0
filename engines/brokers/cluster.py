"""A RabbitMQ cluster the lab owns: N private rabbitmq-server members on loopback.

Why this shape (issue #13's measured traps, RabbitMQ 3.10):
- every member and the cluster share one epmd port and one Erlang cookie; each
  member has its own node name, AMQP, distribution and management ports and
  data directory (`brokers/<name>.<i>/`, so crash cleanup finds it);
- member 1 boots alone, then the others boot at once with classic-config peer
  discovery naming member 1 (booting all at once waits on a discovery lock);
- the cluster owns the epmd: a member's kill must not take it down, or the
  restarted member could not find the others.

Each member is a `ManagedBroker` (killable, stoppable, pausable on its own);
the cluster handle acts on all of them and is what a run's clients get, as a
list of URLs (`url` joins them with spaces; `urls` is the list).
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engines.brokers import nodeconf, procs
from engines.brokers.handle import BrokerError, BrokerState
from engines.brokers.install import epmd_binary, rabbitmq_available
from engines.brokers.managed import ManagedBroker, start_epmd, stop_epmd
from engines.hygiene import RUN_MARK, portreg

SIZES = (1, 3, 5)
MEMBER_BOOT_S = 90.0  # the least time one member (or the joining ones) may take to boot


class ClusterBroker:
    """`size` managed members forming one cluster; `member(i)` (1-based) controls one."""

    managed = True

    def __init__(self, name: str, run_dir: Path, size: int = 3) -> None:
        problem = rabbitmq_available()
        if problem:
            raise BrokerError(problem)
        if size < 2:
            raise BrokerError(f"broker '{name}': a cluster needs at least 2 members, not {size}")
        self.name = name
        self.layouts = nodeconf.member_layouts(name, size, run_dir)
        self._ports_holder = nodeconf.broker_dir(name, run_dir)
        for layout in self.layouts:
            nodeconf.write_files(layout)
        self.members = [ManagedBroker(lay.name, run_dir, layout=lay, shared_epmd=True)
                        for lay in self.layouts]
        self._epmd = epmd_binary() or "epmd"
        self._epmd_proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()
        self._closed = False
        self.down_since: dict[str, float] = {}  # member name -> monotonic time it went down
        self.boot_s: float | None = None

    # -- protocol ------------------------------------------------------------
    @property
    def urls(self) -> list[str]:
        return [m.url for m in self.members]

    @property
    def url(self) -> str:
        """Every member's URL, space separated (clients fail over along the list)."""
        return " ".join(self.urls)

    @property
    def epmd_port(self) -> int:
        return self.layouts[0].epmd_port

    @property
    def state(self) -> BrokerState:
        states = [m.state for m in self.members]
        if any(s is BrokerState.RUNNING for s in states):
            return BrokerState.RUNNING
        if any(s is BrokerState.STARTING for s in states):
            return BrokerState.STARTING
        if all(s is BrokerState.PAUSED for s in states):
            return BrokerState.PAUSED
        return BrokerState.KILLED if BrokerState.KILLED in states else BrokerState.STOPPED

    def member(self, index: int) -> ManagedBroker:
        if not 1 <= index <= len(self.members):
            raise KeyError(f"broker '{self.name}' has members 1..{len(self.members)}, not {index}")
        return self.members[index - 1]

    def member_names(self) -> list[str]:
        return [m.name for m in self.members]

    def member_handle(self, index: int) -> MemberHandle:
        """Member `index` (1-based) as a broker handle of its own."""
        return MemberHandle(self, index)

    def leader_monitor(self, sink: Callable[..., None], period_s: float = 0.25,
                       on_tick: Callable[[], None] | None = None) -> Any:
        """A started `LeaderMonitor` sending leader changes to `sink(kind, node, **fields)`."""
        from engines.brokers.leaders import LeaderMonitor

        monitor = LeaderMonitor(self, sink, period_s, on_tick)
        monitor.start()
        return monitor

    def start(self, timeout: float = 90) -> None:
        """Member 1 alone, then the others together (they join member 1).

        `timeout` is for each phase, at least MEMBER_BOOT_S: a run's ready timeout is sized
        for one node, and a loaded machine boots each member more slowly.
        """
        each = max(timeout, MEMBER_BOOT_S)
        with self._lock:
            if self._closed:
                raise BrokerError(f"broker '{self.name}' is closed")
            began = time.monotonic()
            self._ensure_epmd()
            self.members[0].start(timeout=each)
            errors: list[BaseException] = []

            def boot(member: ManagedBroker) -> None:
                try:
                    member.start(timeout=each)
                except BaseException as exc:  # noqa: BLE001 - handed back below
                    errors.append(exc)

            threads = [threading.Thread(target=boot, args=(m,), daemon=True) for m in self.members[1:]]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if errors:
                raise BrokerError(f"cluster '{self.name}' did not form: {errors[0]}")
            for m in self.members:
                self.down_since.pop(m.name, None)
            self.boot_s = time.monotonic() - began

    def kill(self) -> None:
        for m in self.members:
            self.kill_member(m)

    def stop(self, timeout: float = 30, run_ended: bool = False) -> None:
        """Every member at once (a graceful RabbitMQ stop takes seconds each)."""
        threads = [threading.Thread(target=self.stop_member, args=(m, timeout, run_ended), daemon=True)
                   for m in self.members]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout + 30)

    def restart(self, timeout: float = 90) -> None:
        self.stop()
        for m in self.members:
            m.start(timeout=timeout)

    def pause(self) -> None:
        for m in self.members:
            self.pause_member(m)

    def resume(self) -> None:
        for m in self.members:
            self.resume_member(m)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for m in self.members:
                try:
                    m.close()
                except BrokerError:
                    pass
            stop_epmd(self._epmd_proc, self.epmd_port, self._epmd)
            self._epmd_proc = None
            portreg.release(self._ports_holder)  # the members and their epmd are gone

    def pids(self) -> list[int]:
        found = [pid for m in self.members for pid in m.pids()]
        found += [p.pid for p in procs.epmd_processes(self.epmd_port)]
        return sorted(set(found))

    # -- one member ----------------------------------------------------------
    def kill_member(self, member: ManagedBroker) -> None:
        self.down_since.setdefault(member.name, time.monotonic())
        member.kill()

    def stop_member(self, member: ManagedBroker, timeout: float = 30, run_ended: bool = False) -> None:
        self.down_since.setdefault(member.name, time.monotonic())
        member.stop(timeout, run_ended)

    def pause_member(self, member: ManagedBroker) -> None:
        self.down_since.setdefault(member.name, time.monotonic())
        member.pause()

    def resume_member(self, member: ManagedBroker) -> None:
        member.resume()
        self.down_since.pop(member.name, None)

    def start_member(self, member: ManagedBroker, timeout: float = 90) -> None:
        self._ensure_epmd()
        member.start(max(timeout, MEMBER_BOOT_S))
        self.down_since.pop(member.name, None)

    def restart_member(self, member: ManagedBroker, timeout: float = 90) -> None:
        self.down_since.setdefault(member.name, time.monotonic())
        member.restart(max(timeout, MEMBER_BOOT_S))
        self.down_since.pop(member.name, None)

    def _ensure_epmd(self) -> None:
        if not procs.epmd_processes(self.epmd_port):
            self._epmd_proc = start_epmd(self._epmd, self.epmd_port,
                                         nodeconf.environment(self.layouts[0])[RUN_MARK])

    def __repr__(self) -> str:
        return f"<ClusterBroker {self.name} members={len(self.members)} {self.state.value}>"


class MemberHandle:
    """One member as a broker handle of its own (`rabbit/2`): what a user or scenario controls.

    Goes through the cluster so the cluster knows when each member went down
    (the leaderless time of a queue is measured from there).
    """

    managed = True

    def __init__(self, cluster: ClusterBroker, index: int) -> None:
        self.cluster = cluster
        self.index = index
        self.member = cluster.member(index)
        self.name = self.member.name
        self.url = self.member.url

    @property
    def state(self) -> BrokerState:
        return self.member.state

    def start(self, timeout: float = 90) -> None:
        self.cluster.start_member(self.member, timeout)

    def kill(self) -> None:
        self.cluster.kill_member(self.member)

    def stop(self, timeout: float = 30, run_ended: bool = False) -> None:
        self.cluster.stop_member(self.member, timeout, run_ended)

    def restart(self, timeout: float = 90) -> None:
        self.cluster.restart_member(self.member, timeout)

    def pause(self) -> None:
        self.cluster.pause_member(self.member)

    def resume(self) -> None:
        self.cluster.resume_member(self.member)

    def close(self) -> None:
        self.member.close()

    def pids(self) -> list[int]:
        return self.member.pids()

"""CPU microseconds per message of each lab node process, for the zmq paths of issue 19.

    PYTHONPATH=. python bench/cpu_cost.py [--messages N] [--paths one,batch,chain,lockstep,http] [--repeat R]

Wall-clock rates on a shared 2-core machine move by a factor of 2 to 4 with
the load; a process's own CPU time barely does. Each node's CPU (user +
system) is taken from `wait4` when the supervisor reaps it, so nothing is
sampled or missed. The figure is marginal: (CPU of a run of N messages - CPU
of a run of `--base` messages) / (N - base), which takes out the start-up
(imports, sockets, database) that does not scale with the messages.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

_RUSAGE: dict[int, float] = {}
_wait_pid = os.waitpid


def _waitpid(pid: int, options: int) -> tuple[int, int]:
    """os.waitpid, keeping the reaped child's CPU seconds (subprocess calls os.waitpid)."""
    if pid <= 0:
        return _wait_pid(pid, options)
    got, status, usage = os.wait4(pid, options)
    if got:
        _RUSAGE[got] = usage.ru_utime + usage.ru_stime
    return got, status


def run(topo: Any) -> dict[str, float]:
    """CPU seconds of each node of one run (all its lives), by node name."""
    import subprocess

    from engines.runtime import Supervisor

    poll = subprocess.Popen._internal_poll  # binds os.waitpid as a default argument
    defaults = poll.__defaults__
    os.waitpid = _waitpid  # type: ignore[assignment]
    poll.__defaults__ = (None, _waitpid, *(defaults or ())[2:])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            with Supervisor(topo, Path(tmp) / "run") as sup:
                summary = sup.run()
                total = summary["total"]
                if total["lost"] or total["duplicates_processed"]:
                    raise AssertionError(f"not exact: {total}")
            pids = {name: list(proc.pids) for name, proc in sup.table.nodes.items()}
    finally:
        os.waitpid = _wait_pid
        poll.__defaults__ = defaults
    return {name: sum(_RUSAGE.get(p, float("nan")) for p in ps) for name, ps in pids.items()}


def pushpull(n: int, per_frame: int) -> Any:
    from engines.topology.model import ClientNode, ServiceNode, Topology

    return Topology(name="cpu-push-pull", nodes=[
        ClientNode(name="c", style="notification", transport="zmq", rate=0, count=n,
                   payload_bytes=256, messages_per_frame=per_frame),
        ServiceNode(name="s", processing_ms=0, idempotent=True)], links=[{"from": "c", "to": "s"}])


def chain(n: int, per_frame: int) -> Any:
    sys.path.insert(0, str(Path(__file__).parent))
    import bench_chains

    return bench_chains.chain("zmq", "notification", 3, n, 0)


def lockstep(n: int, transport: str) -> Any:
    """zmq REQ (Lazy Pirate) -> ROUTER or http keep-alive, one request at a time: CPU a request
    of each side."""
    from engines.topology.model import ClientNode, ServiceNode, Topology

    return Topology(name="cpu-lockstep", nodes=[
        ClientNode(name="c", style="request-response", transport=transport, rate=0, count=n,
                   payload_bytes=256, timeout_ms=5000, in_flight=1),
        ServiceNode(name="s", processing_ms=0, idempotent=True)], links=[{"from": "c", "to": "s"}])


PATHS: dict[str, tuple[Any, Any]] = {  # name: (topology maker, its second argument)
    "one": (pushpull, 1), "batch": (pushpull, 128), "chain": (chain, 1),
    "lockstep": (lockstep, "zmq"), "http": (lockstep, "http")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--base", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--paths", default="one,batch,chain")
    args = parser.parse_args(argv)
    for name in args.paths.split(","):
        make, per_frame = PATHS[name]
        base = run(make(args.base, per_frame))
        per: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            load = os.getloadavg()[0]
            cpu = run(make(args.messages, per_frame))
            for node, seconds in cpu.items():
                per.setdefault(node, []).append((seconds - base[node]) * 1e6 / (args.messages - args.base))
            print(f"  {name}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in per.items())
                  + f" us/msg (load {load:.2f})", flush=True)
        print(f"{name} (N={args.messages:,}, median of {args.repeat}): "
              + ", ".join(f"{k} {statistics.median(v):.2f} us/msg" for k, v in per.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

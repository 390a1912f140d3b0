"""`labgui run FILE [--duration S] [--json] [--out DIR]`: run a topology headless and count.

A progress line while it runs (elapsed, nodes up, messages per second), the
summary table (or JSON) at the end. Ctrl-C, SIGTERM or SIGHUP stops the run
in order (clients, services, brokers) and still prints the summary; a second
Ctrl-C kills the nodes at once, and the summary is still built from what
they recorded.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from typing import Any

from engines.topology import topofile
from engines.topology.problems import TopologyError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "run",
        help="run a topology headless as real processes and print what was lost or duplicated",
        description="Run a topology headless: every node is its own process. A run lasts until "
        "every client has finished, the last scenario step (at_s) has happened and what it set "
        "going has settled (a restarted node is up again), or until duration_s (or --duration) "
        "if that comes first; the services then drain what was sent. Prints a progress "
        "line, then the summary. Exit 0 when the run completed, 1 if it could not run or the "
        "disk filled up (the run is then stopped in order), 130 if interrupted (the summary is "
        "printed anyway).",
    )
    parser.add_argument("file", metavar="FILE", help="topology file (*.topo.yaml)")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="stop after S seconds at the latest (default: the topology's "
                        "duration_s; without either, when every client is done and the last "
                        "scenario step has happened)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--out", metavar="DIR", help="run directory (default: a new one under the "
                        "user data directory)")
    parser.set_defaults(handler=run)


class _Progress:
    """One line, rewritten in place on a terminal, printed once a second otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last_print = 0.0
        self.last = (time.monotonic(), 0)
        self.rate = 0.0
        self.width = 0
        self.said_disk = False

    def disk(self, sup: Any) -> None:
        """Say once that the disk is full (or a run file could not be written)."""
        if sup.disk.full and not self.said_disk:
            self.said_disk = True
            print(f"\nlabgui run: {sup.disk.message()}: stopping the run in order; "
                  "what was written is kept", file=sys.stderr, flush=True)

    def __call__(self, sup: Any) -> None:
        self.disk(sup)
        now = time.monotonic()
        if now - self.last_print < (0.25 if self.tty else 1.0):
            return
        delivered = sum(sup.metrics.totals(s.name).get("delivered", 0) for s in sup.topology.services())
        then, before = self.last
        if now > then:
            self.rate = (delivered - before) / (now - then)
        self.last = (now, delivered)
        self.last_print = now
        states = sup.states()
        up = sum(1 for s in states.values() if s in ("ready", "done", "paused", "starting"))
        line = (f"{sup.elapsed():6.1f} s  nodes up {up}/{len(states)}  {self.rate:8.0f} msgs/s  "
                f"sent {sup.sent_total()}  delivered {delivered}")
        if self.tty:
            self.width = max(self.width, len(line))
            print("\r" + line.ljust(self.width), end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def _say(text: str) -> None:
    """A line on stderr that a closed terminal (SIGHUP) must not turn into a crash."""
    try:
        print(f"\n{text}", file=sys.stderr, flush=True)
    except OSError:
        pass


def _kill_every_node(sup: Any) -> None:
    """SIGKILL every node (a thread of its own: never from inside a signal handler); the
    ordered stop then finds them gone and the summary counts what they recorded."""
    for node in sup.topology.nodes:
        try:
            sup.kill(node.name)
        except Exception:  # noqa: BLE001 - a node that cannot be killed is reaped by close()
            pass


def run(args: argparse.Namespace) -> int:
    try:
        loaded = topofile.load(args.file)
    except TopologyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    for warning in loaded.warnings:
        print(warning, file=sys.stderr)
    topology = loaded.topology
    if args.duration is not None and args.duration <= 0:
        print("labgui run: --duration must be greater than 0", file=sys.stderr)
        return 1

    from engines.runtime import RunError, Supervisor, new_run_dir

    try:
        run_dir = new_run_dir(topology.name, args.out)
    except (FileExistsError, OSError) as exc:
        print(f"labgui run: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    sup = Supervisor(topology, run_dir)

    hurry = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        if stop.is_set():
            if signum == signal.SIGINT and not hurry.is_set():  # second Ctrl-C: no more waiting
                hurry.set()
                _say("second Ctrl-C: killing every node now; the summary follows")
                threading.Thread(target=_kill_every_node, args=(sup,), daemon=True).start()
            return
        stop.set()
        _say(f"{signal.Signals(signum).name}: stopping the run (clients, services, brokers)...")

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    progress = _Progress()
    summary = None
    try:
        summary = sup.run(duration=args.duration, on_tick=progress, should_stop=stop.is_set)
    except RunError as exc:
        progress.done()
        print(f"labgui run: {exc}", file=sys.stderr)
        return 1
    finally:
        sup.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    progress.disk(sup)  # if the first failed write came after the last tick
    progress.done()
    if not summary.get("summary_written", True):
        print(f"labgui run: summary.json was not written ({sup.disk.where} failed first); "
              "the summary follows", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=1, default=str))
    else:
        from engines.runtime.table import format_summary

        print(format_summary(summary))
    return 130 if stop.is_set() else 1 if sup.disk.full else 0

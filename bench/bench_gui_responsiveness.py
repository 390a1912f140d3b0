"""How responsive the GUI stays while a 50-node ZeroMQ topology starts and runs at full rate in it.

    PYTHONPATH=. QT_QPA_PLATFORM=offscreen python bench/bench_gui_responsiveness.py            # 4 runs
    PYTHONPATH=. QT_QPA_PLATFORM=offscreen python bench/bench_gui_responsiveness.py --runs 1 --profile gui.prof

Builds a topology of N PUSH clients, each at rate 0 (as fast as it can) to its
own PULL service (2N nodes, N links), opens it in the editor window
(1280x800, offscreen), and `--runs` times in a row presses Run (from inside
the event loop, as a click does), then:

- **start**: from the press until every node is ready, a 2 ms probe timer
  notes each time the event loop gets to it; a gap between two firings is a
  freeze of the window. It reports the longest freeze, how many were over
  100 ms, and the share of the start spent in freezes over 16 ms;
- **running** (after 2 s of traffic), for `--seconds`: the lag per tick of a
  10 ms precise timer (its actual period minus 10 ms: p50, p99, max), and the
  stall fraction: the share of the wall clock spent in gaps over 16 ms (one
  frame) between firings of the 2 ms probe, which a lag per 10 ms tick hides;
  also what the run view's own timer costs per tick and how much was sent;
- then Stop, and checks that no process is left.

Goal (issue 19): in every run, lag p99 < 50 ms and stall fraction < 10 %.
Links go direct; `--link-proxies` measures with every link through a fault
proxy. `--profile FILE` profiles the GUI thread (cProfile) while measuring
and prints where its time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, Qt, QTimer

from engines.topology.model import ClientNode, Link, ServiceNode, Topology
from labgui.app.app import application
from labgui.app.mainwindow import MainWindow

PERIOD_MS = 10
PROBE_MS = 2
STALL_MS = 16.0  # one frame at 60 Hz
FREEZE_MS = 100.0
GOAL_P99_MS, GOAL_STALL = 50.0, 0.10
GC_PAUSES: GcPauses  # set by main()


def topology(pairs: int) -> Topology:
    nodes: list[ClientNode | ServiceNode] = []
    links = []
    for i in range(pairs):
        row, col = divmod(i, 5)
        x, y = col * 420, row * 110
        nodes.append(ClientNode(name=f"c{i:02d}", transport="zmq", style="notification", rate=0,
                                count=None, duration_s=600, payload_bytes=64, position=(x, y)))
        nodes.append(ServiceNode(name=f"s{i:02d}", idempotent=True, position=(x + 220, y)))
        links.append(Link.model_validate({"from": f"c{i:02d}", "to": f"s{i:02d}"}))
    return Topology(name=f"bench-{2 * pairs}-nodes", nodes=nodes, links=links, duration_s=600)


def pump(app, seconds: float, until=None) -> bool:  # noqa: ANN001 - a QApplication and a predicate
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return True
        time.sleep(0.005)
    return until is None


def _timer(ms: int, stamps: list[float], cpu: list[float] | None = None) -> QTimer:
    """A precise timer noting when it fires (and, with `cpu`, this thread's CPU clock then)."""
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(ms)
    if cpu is None:
        timer.timeout.connect(lambda: stamps.append(time.perf_counter()))
    else:
        timer.timeout.connect(lambda: (stamps.append(time.perf_counter()), cpu.append(time.thread_time())))
    return timer


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each thread of this process so far, by name (Qt's own threads as 'other')."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(task.name), "other")
        name = name.split("-")[0] if name.startswith(("ThreadPoolExecutor", "spawner")) else name
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


class GcPauses:
    """The interpreter's cyclic garbage collections while armed: how many, and how long each took."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._began = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.pauses.append((info["generation"], (time.perf_counter() - self._began) * 1000))

    def summary(self) -> str:
        if not self.pauses:
            return "none"
        worst = max(ms for _g, ms in self.pauses)
        full = sum(1 for g, _ms in self.pauses if g == 2)
        return f"{len(self.pauses)} ({full} full), longest {worst:.0f} ms"


def runqueue_wait_s() -> float:
    """Seconds this thread has spent runnable but waiting for a core (Linux schedstat)."""
    try:
        return int(Path(f"/proc/self/task/{threading.get_native_id()}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


def gaps_ms(stamps: list[float]) -> np.ndarray:
    return np.diff(np.array(stamps)) * 1000 if len(stamps) > 1 else np.zeros(1)


def stall_share(gaps: np.ndarray, wall_s: float) -> float:
    """The share of the wall clock spent in gaps longer than one frame."""
    return float(gaps[gaps > STALL_MS].sum() / 1000 / wall_s) if wall_s > 0 else 0.0


def own_share(gaps: np.ndarray, busy: np.ndarray, wall_s: float) -> float:
    """Of those stalls, the share of the wall clock the GUI thread itself was computing (the
    rest it was ready but waited: for a core, on a loaded machine, or for the interpreter lock)."""
    stalls = gaps > STALL_MS
    return float(np.minimum(busy[stalls], gaps[stalls]).sum() / 1000 / wall_s) if wall_s > 0 else 0.0


def loop_until(seconds: float, done: Callable[[], bool] | None = None,
               first: Callable[[], object] | None = None
               ) -> tuple[list[float], list[float], list[float], float]:
    """Run a real event loop (as app.exec) until `done()` or `seconds`; a 10 ms timer and a 2 ms
    probe note when they fire. `first` is called from inside the loop (a click on Run)."""
    ticks: list[float] = []
    probe: list[float] = []
    cpu: list[float] = []
    tick_timer, probe_timer = _timer(PERIOD_MS, ticks), _timer(PROBE_MS, probe, cpu)
    loop = QEventLoop()
    stop = QTimer()
    stop.setSingleShot(True)
    stop.timeout.connect(loop.quit)
    check = QTimer()
    check.setInterval(20)
    check.timeout.connect(lambda: done is not None and done() and loop.quit())
    began = time.perf_counter()
    for timer in (tick_timer, probe_timer, check):
        timer.start()
    stop.start(int(seconds * 1000))
    if first is not None:
        QTimer.singleShot(0, first)
    loop.exec()
    for timer in (tick_timer, probe_timer, check):
        timer.stop()
    return ticks, probe, cpu, time.perf_counter() - began


def one_run(app, window: MainWindow, args: argparse.Namespace, root: Path,  # noqa: ANN001
            profiler: cProfile.Profile | None) -> dict[str, float] | None:
    rm = window.run_mode
    tick_costs: list[float] = []
    original = rm._tick

    def timed_tick() -> None:
        began = time.perf_counter()
        original()
        tick_costs.append((time.perf_counter() - began) * 1000)

    rm.timer.timeout.disconnect()
    rm.timer.timeout.connect(timed_tick)
    rm.run_root = root
    gc_pauses = GC_PAUSES
    pressed: list[bool] = []

    def all_ready() -> bool:
        session = rm.session
        if not pressed or session is None or rm.phase not in ("running",):
            return False
        states = session.sup.states()
        return all(s == "ready" for s in states.values())

    start_cpu = thread_cpu()
    start_profiler = cProfile.Profile() if profiler is not None else None
    if start_profiler is not None:
        start_profiler.enable()
    _ticks, probe, cpu, start_s = loop_until(120, all_ready, lambda: pressed.append(rm.run()))
    if start_profiler is not None:
        start_profiler.disable()
        print("-- the GUI thread while the nodes start --")
        pstats.Stats(start_profiler).sort_stats("cumtime").print_stats(25)
    try:
        if not all_ready():
            print("the nodes did not all get ready:", rm.session.sup.states() if rm.session else None,
                  rm.session.error if rm.session else "refused", file=sys.stderr)
            return None
        start_gaps, start_busy = gaps_ms(probe), gaps_ms(cpu)
        spent = thread_cpu()
        start_threads = ", ".join(f"{k} {(v - start_cpu.get(k, 0.0)) / start_s:.0%}" for k, v in
                                  sorted(spent.items(), key=lambda kv: start_cpu.get(kv[0], 0.0) - kv[1])
                                  if (v - start_cpu.get(k, 0.0)) / start_s >= 0.005)
        start_ticks = max(tick_costs, default=0.0)
        sup = rm.session.sup
        pump(app, 2.0)  # traffic at full rate, the run view sampling
        sent_before = sup.sent_total()
        tick_costs.clear()
        cpu_before = thread_cpu()
        gc_pauses.pauses.clear()
        queued_before = runqueue_wait_s()
        if profiler is not None:
            profiler.enable()
        ticks, probe, cpu, wall = loop_until(args.seconds)
        if profiler is not None:
            profiler.disable()
        cpu_after = thread_cpu()
        queued = (runqueue_wait_s() - queued_before) / wall
        per_thread = {k: (v - cpu_before.get(k, 0.0)) / wall for k, v in cpu_after.items()}
        sent = sup.sent_total() - sent_before
        lag = np.maximum(0.0, gaps_ms(ticks) - PERIOD_MS)
        gaps, busy = gaps_ms(probe), gaps_ms(cpu)
        costs = np.array(tick_costs) if tick_costs else np.zeros(1)
        ledger = rm.ledger
        row = {"load": os.getloadavg()[0], "start_s": start_s, "start_max_ms": float(start_gaps.max()),
               "start_freezes": int((start_gaps > FREEZE_MS).sum()),
               "start_stall": stall_share(start_gaps, start_s),
               "start_busy_max_ms": float(start_busy.max()), "own": own_share(gaps, busy, wall),
               "p50": float(np.percentile(lag, 50)), "p99": float(np.percentile(lag, 99)),
               "max": float(lag.max()), "stall": stall_share(gaps, wall),
               "tick_p50": statistics.median(costs), "tick_p99": float(np.percentile(costs, 99)),
               "rate": sent / wall, "passes": ledger.passes if ledger else 0,
               "gc": gc_pauses.summary(), "queued": queued,
               "start_threads": start_threads, "start_tick_max": start_ticks,
               "threads": ", ".join(f"{k} {v:.0%}" for k, v in sorted(per_thread.items(), key=lambda kv: -kv[1])
                                    if v >= 0.005)}
    finally:
        rm.stop()
        pump(app, 120, lambda: not rm.active)
        if rm.session is not None:
            rm.session.join(60)
            rm.session.wait_done(60)  # the summary and report written: the folder may go
        if rm.ledger is not None:
            rm.ledger.join(10)
    left = [p for p in rm.session.sup.table.all_pids() if _alive(p)] if rm.session else []
    row["left"] = len(left)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=25, help="client/service pairs (nodes = 2 x pairs)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to measure each run")
    parser.add_argument("--runs", type=int, default=4, help="runs in a row (the goal holds in every one)")
    parser.add_argument("--link-proxies", action="store_true",
                        help="every link through a fault proxy in the GUI's process")
    parser.add_argument("--threads", action="store_true", help="print each thread's CPU while running")
    parser.add_argument("--profile", type=Path, help="cProfile the GUI thread while measuring; save here")
    parser.add_argument("--json", type=Path, help="also write each run's figures here (bench/all.py reads them)")
    args = parser.parse_args()

    global GC_PAUSES
    GC_PAUSES = GcPauses()
    app = application()
    window = MainWindow(topology(args.pairs))
    window.resize(1280, 800)
    window.show()
    window.run_mode.link_faults_action.setChecked(args.link_proxies)
    profiler = cProfile.Profile() if args.profile else None
    links = "links through fault proxies" if args.link_proxies else "direct links"
    print(f"{2 * args.pairs} nodes at full rate (zmq PUSH/PULL, rate 0, {links}), {args.runs} runs, "
          f"{args.seconds:g} s measured each; 10 ms timer for the lag, {PROBE_MS} ms probe for stalls", flush=True)
    print("run  load | start: s  longest freeze  >100ms  stalled | running: lag p50   p99   max  stalled | "
          "tick p50/p99 ms | sent msg/s | left", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp:
        for i in range(args.runs):
            row = one_run(app, window, args, Path(tmp) / f"run{i}", profiler)
            if row is None:
                window.run_mode.shutdown()
                return 1
            rows.append(row)
            ok = row["p99"] < GOAL_P99_MS and row["stall"] < GOAL_STALL
            print(f"{i + 1:3d} {row['load']:5.1f} | {row['start_s']:8.1f} {row['start_max_ms']:11.0f} ms "
                  f"{row['start_freezes']:7d} {row['start_stall']:8.1%} | {row['p50']:15.1f} {row['p99']:5.1f} "
                  f"{row['max']:5.0f} {row['stall']:8.1%} | {row['tick_p50']:6.2f} / {row['tick_p99']:5.2f} | "
                  f"{row['rate']:10,.0f} | {row['left']:4d}  {'OK' if ok else 'OVER'}", flush=True)
            if args.threads:
                print(f"      CPU of this process's threads while starting (share of a core): "
                      f"{row['start_threads']}; longest run view tick then {row['start_tick_max']:.0f} ms; "
                      f"most CPU the GUI thread itself spent in one freeze {row['start_busy_max_ms']:.0f} ms")
                print(f"      running: of the {row['stall']:.1%} stalled, the GUI thread was computing "
                      f"{row['own']:.1%} of the wall clock (the rest it waited for a core or the lock); "
                      f"it waited for a core {row['queued']:.1%} of the wall clock in all")
                print(f"      CPU of this process's threads while running (share of a core): {row['threads']}; "
                      f"garbage collections: {row['gc']}")
    window.run_mode.shutdown()
    if args.json is not None:
        args.json.write_text(json.dumps(rows, default=float))
    good = all(r["p99"] < GOAL_P99_MS and r["stall"] < GOAL_STALL for r in rows)
    print(f"goal: lag p99 < {GOAL_P99_MS:g} ms and stalls < {GOAL_STALL:.0%} of the wall clock in every run: "
          f"{'met' if good else 'NOT met'} (worst p99 {max(r['p99'] for r in rows):.1f} ms, worst stall "
          f"{max(r['stall'] for r in rows):.1%}); start of {2 * args.pairs} nodes: longest freeze "
          f"{max(r['start_max_ms'] for r in rows):.0f} ms")
    if profiler is not None:
        profiler.dump_stats(args.profile)
        stats = pstats.Stats(profiler).sort_stats("tottime")
        stats.print_stats(30)
    return 0 if not any(r["left"] for r in rows) else 1


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


if __name__ == "__main__":
    sys.exit(main())

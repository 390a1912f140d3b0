"""How responsive the GUI stays while a 50-node ZeroMQ topology runs at full rate in it.

    PYTHONPATH=. QT_QPA_PLATFORM=offscreen python bench/bench_gui_responsiveness.py
    PYTHONPATH=. QT_QPA_PLATFORM=offscreen python bench/bench_gui_responsiveness.py --pairs 25 --seconds 15

Builds a topology of N PUSH clients, each at rate 0 (as fast as it can) to its
own PULL service (2N nodes, N links), opens it in the editor window
(1280x800, offscreen), presses Run, waits until every node is ready and
traffic flows, then measures the event loop's lag: a 10 ms precise QTimer's
actual period minus 10 ms, for `--seconds`, while the run view samples and
redraws on its own timer. Also prints what the run view's tick itself costs
and how much the clients sent, then stops the run and checks nothing is left.
Links go direct, as by default in the GUI; `--link-proxies` measures with
every link through a fault proxy (Run > Link faults by hand). Target
(issue 7): lag p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, Qt, QTimer

from engines.topology.model import ClientNode, Link, ServiceNode, Topology
from labgui.app.app import application
from labgui.app.mainwindow import MainWindow

PERIOD_MS = 10


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


def measure_lag(app, seconds: float) -> np.ndarray:  # noqa: ANN001
    """The event loop runs freely (a real loop, as app.exec); a 10 ms timer notes when it fires."""
    stamps: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(PERIOD_MS)
    timer.timeout.connect(lambda: stamps.append(time.perf_counter()))
    loop = QEventLoop()
    stop = QTimer()
    stop.setSingleShot(True)
    stop.timeout.connect(loop.quit)
    timer.start()
    stop.start(int(seconds * 1000))
    loop.exec()
    timer.stop()
    return np.maximum(0.0, np.diff(np.array(stamps)) * 1000 - PERIOD_MS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=25, help="client/service pairs (nodes = 2 x pairs)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to measure")
    parser.add_argument("--link-proxies", action="store_true",
                        help="turn on Run > Link faults by hand: every link through a fault proxy in "
                        "the GUI's process (off by default, as a user gets it)")
    args = parser.parse_args()

    app = application()
    window = MainWindow(topology(args.pairs))
    window.resize(1280, 800)
    window.show()
    rm = window.run_mode
    rm.link_faults_action.setChecked(args.link_proxies)
    tick_costs: list[float] = []
    original = rm._tick

    def timed_tick() -> None:
        began = time.perf_counter()
        original()
        tick_costs.append((time.perf_counter() - began) * 1000)

    rm.timer.timeout.disconnect()
    rm.timer.timeout.connect(timed_tick)
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp:
        rm.run_root = Path(tmp)
        assert rm.run(), "the run was refused"
        sup = rm.session.sup
        clients = [c.name for c in sup.topology.clients()]
        if not pump(app, 90, lambda: rm.phase == "running" and all(
                sup.states()[c] == "ready" for c in clients)):
            print("the nodes did not all get ready:", sup.states(), rm.session.error, file=sys.stderr)
            rm.shutdown()
            return 1
        pump(app, 2.0)  # traffic at full rate, the run view sampling
        sent_before = sup.sent_total()
        began = time.monotonic()
        tick_costs.clear()
        lag = measure_lag(app, args.seconds)
        costs = np.array(tick_costs) if tick_costs else np.zeros(1)
        elapsed = time.monotonic() - began
        sent = sup.sent_total() - sent_before
        ledger = rm.ledger
        rm.stop()
        pump(app, 120, lambda: not rm.active)
        rm.session.join(60)
        if ledger is not None:
            ledger.join(10)
        left = [p for p in (rm.session.sup.table.all_pids()) if _alive(p)]

    links = "links through fault proxies" if args.link_proxies else "direct links"
    print(f"GUI event loop lag with {2 * args.pairs} nodes running at full rate "
          f"(zmq PUSH/PULL, rate 0, {links}), {args.seconds:g} s, {len(lag)} ticks of a {PERIOD_MS} ms timer:")
    print(f"  lag p50 {np.percentile(lag, 50):.1f} ms   p99 {np.percentile(lag, 99):.1f} ms   "
          f"max {lag.max():.1f} ms   (target: p99 < 50 ms)")
    print(f"  run view's own timer: {len(costs)} ticks, median {statistics.median(costs):.2f} ms, "
          f"p99 {np.percentile(costs, 99):.2f} ms, max {costs.max():.2f} ms")
    print(f"  clients sent {sent / elapsed:,.0f} msg/s in total while measured; "
          f"live ledger passes: {ledger.passes if ledger else 0}, last took {ledger.last_cost_s if ledger else 0:.2f} s")
    print(f"  processes left after Stop: {len(left)}")
    return 0 if not left else 1


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


if __name__ == "__main__":
    sys.exit(main())

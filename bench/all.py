"""Every benchmarked path, raw library against the lab, in one bounded run that prints one table.

    PYTHONPATH=. python bench/all.py [--rounds R] [--quick] [--no-amqp] [--no-cluster] [--out FILE]

For each path, R rounds alternate raw and lab (raw first in odd rounds, lab
first in even ones), every lab round is checked exact by the ledger (it
raises otherwise), and the row shows the medians of the raw and lab figures
and the median of the rounds' ratios, against the path's goal (issues 12
and 19). The machine's load average is printed at the start and the end:
figures from a loaded machine are noise around the truth, which is why only
ratios from the same run are compared. Raw processes run each in a session of
their own, as the lab's nodes do (bench/sessions.py). The table also goes to a markdown
file (`--out`; docs/performance.md has a marked place for it).

Sizes are bounded so the whole run takes about 7 minutes on the project's
2-core machine (a RabbitMQ node and a 3-member cluster boot on the way);
`--quick` runs a third of the work for a smoke test. Two groups have goals on
the lab's own figures, with no raw side: `scale` (100 zmq nodes all ready,
bench/scale.py) and `gui` (the window's lag and stalls with 50 nodes at full
rate, 4 runs that must each meet it, bench/bench_gui_responsiveness.py).
"""

from __future__ import annotations

import argparse
import operator
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import lab_paths as lab
import raw_lockstep
import raw_pika
import raw_stream
from sessions import isolated

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
MARK_BEGIN, MARK_END = "<!-- bench/all.py table: begin -->", "<!-- bench/all.py table: end -->"


@dataclass
class Row:
    path: str
    unit: str
    goal: str  # e.g. ">= 0.5" (lab / raw) or "<= 1.3"
    raws: list[float] = field(default_factory=list)
    labs: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    fairs: list[float] = field(default_factory=list)  # lab / raw doing the lab's commit too, a round each
    checks: list[str] = field(default_factory=list)
    error: str = ""
    absolute: bool = False  # a goal on the lab's own figure (no raw side), not on lab / raw
    every: bool = False  # the goal holds in every round (judged on the worst), not on the median
    raw_commits: bool = False  # the raw side already commits what the lab commits: ratio == fair

    def met(self) -> bool | None:
        figures = self.labs if self.absolute else self.ratios
        if not figures:
            return None
        op, value = self.goal.split()
        worst = max(figures) if op.startswith("<") else min(figures)
        return _OPS[op](worst if self.every else statistics.median(figures), float(value))

    def cells(self) -> list[str]:
        fmt = _fmt(self.unit)
        raw = fmt(statistics.median(self.raws)) if self.raws else "-"
        if self.absolute and self.labs:
            labv = " / ".join(fmt(v) for v in self.labs) if self.every else fmt(statistics.median(self.labs))
        else:
            labv = fmt(statistics.median(self.labs)) if self.labs else "-"
        ratio = f"{statistics.median(self.ratios):.2f}" if self.ratios else "-"
        op, value = self.goal.split()
        goal = f"{op} {fmt(float(value))}{' in every run' if self.every else ''}" if self.absolute \
            else f"lab/raw {self.goal}"
        met = {True: "yes", False: "NO", None: "not run"}[self.met()]
        if self.error:
            met = f"error: {self.error}"
        fairs = self.ratios if self.raw_commits else self.fairs
        fair = f"{statistics.median(fairs):.2f}" if fairs else "-"
        return [self.path, raw, labv, ratio, goal, met, fair]


def _fmt(unit: str) -> Callable[[float], str]:
    if unit == "ms":
        return lambda v: f"{v:.3f} ms"
    if unit == "s":
        return lambda v: f"{v:.1f} s"
    if unit == "share":
        return lambda v: f"{v:.1%}"
    return lambda v: f"{v:,.0f} {unit}"


def rounds(row: Row, n: int, raw: Callable[[], float], labf: Callable[[], tuple[float, str]],
           fair: Callable[[], float] | None = None) -> Row:
    """n alternating rounds of raw and lab; a lab round that is not exact stops the row.
    `fair`: the raw library doing the lab's commit as well, run in each round beside raw (its
    ratio is shown, the goal stays on raw's)."""
    try:
        for i in range(n):
            pair: dict[str, float] = {}
            sides = ("raw", "fair", "lab") if i % 2 == 0 else ("lab", "fair", "raw")
            for side in sides:
                if side == "raw":
                    pair["raw"] = raw()
                elif side == "fair":
                    if fair is not None:
                        pair["fair"] = fair()
                else:
                    pair["lab"], check = labf()
                    row.checks.append(check)
            row.raws.append(pair["raw"])
            row.labs.append(pair["lab"])
            row.ratios.append(pair["lab"] / pair["raw"])
            also = ""
            if "fair" in pair:
                row.fairs.append(pair["lab"] / pair["fair"])
                also = f", raw + commit {_fmt(row.unit)(pair['fair'])} (ratio {row.fairs[-1]:.2f})"
            print(f"  {row.path} round {i + 1}: raw {_fmt(row.unit)(pair['raw'])}, lab "
                  f"{_fmt(row.unit)(pair['lab'])}, ratio {row.ratios[-1]:.2f}{also} ({row.checks[-1]})", flush=True)
    except Exception as exc:  # a failed path is reported in its row; the others still run
        row.error = f"{type(exc).__name__}: {exc}"[:120]
        print(f"  {row.path}: {row.error}", flush=True)
    return row


def _p50(result: tuple[dict[str, float], str]) -> tuple[float, str]:
    return result[0]["p50_ms"], result[1]


def _rate(result: tuple[dict[str, float], str]) -> tuple[float, str]:
    return result[0]["rate"], result[1]


def zmq_rows(r: int, scale: float) -> list[Row]:
    one, many, steps = int(300_000 * scale), int(1_000_000 * scale), int(5000 * scale)
    rows = [
        rounds(Row("zmq PUSH/PULL 256 B, one message a frame", "msg/s", ">= 0.5"), r,
               lambda: isolated(raw_stream.pushpull, one, 1), lambda: lab.pushpull(one, 1),
               lambda: isolated(raw_stream.pushpull, one, 1, True)),
        rounds(Row("zmq PUSH/PULL 256 B, 128 messages a frame", "msg/s", ">= 0.5"), r,
               lambda: isolated(raw_stream.pushpull, many, 128), lambda: lab.pushpull(many, 128),
               lambda: isolated(raw_stream.pushpull, many, 128, True)),
    ]
    rows.append(rounds(Row("zmq DEALER/ROUTER, 100 in flight (raw bare)", "req/s", ">= 0.5"), r,
                       lambda: isolated(raw_lockstep.zmq_dealer_rate, steps * 8, 100), lambda: lab.dealer(steps * 8, 100)))
    commit = Row("zmq REQ/REP lockstep p50 vs raw + same SQLite commit", "ms", "<= 1.3", raw_commits=True)
    bare = Row("zmq REQ/REP lockstep p50 vs bare raw REQ/REP", "ms", "<= 2")
    try:
        for i in range(r):  # one lab round serves both baselines
            raws = {}
            lab_first = i % 2 == 1
            if lab_first:
                figure, check = _p50(lab.lockstep("zmq", steps))
            raws["commit"] = isolated(raw_lockstep.zmq_reqrep, steps, True)["p50_ms"]
            raws["bare"] = isolated(raw_lockstep.zmq_reqrep, steps, False)["p50_ms"]
            if not lab_first:
                figure, check = _p50(lab.lockstep("zmq", steps))
            for row, key in ((commit, "commit"), (bare, "bare")):
                row.raws.append(raws[key])
                row.labs.append(figure)
                row.ratios.append(figure / raws[key])
                row.checks.append(check)
            bare.fairs.append(figure / raws["commit"])
            print(f"  zmq REQ/REP round {i + 1}: raw bare {raws['bare']:.3f} ms, raw + commit "
                  f"{raws['commit']:.3f} ms, lab {figure:.3f} ms ({check})", flush=True)
    except Exception as exc:
        commit.error = bare.error = f"{type(exc).__name__}: {exc}"[:120]
    rows += [commit, bare]
    return rows


def http_rows(r: int, scale: float) -> list[Row]:
    m = int(6000 * scale)
    return [rounds(Row("http keep-alive lockstep rate vs raw stdlib + same commit", "req/s", ">= 0.8",
                       raw_commits=True), r,
                   lambda: isolated(raw_lockstep.http_keepalive, m, True)["rate"], lambda: _rate(lab.lockstep("http", m)))]


def chain_rows(r: int, scale: float) -> list[Row]:
    import bench_chains
    import raw_chain

    n, m = int(200_000 * scale), int(2000 * scale)

    def zmq_chain() -> tuple[float, str]:
        rate, summary = bench_chains.zmq_chain_rate(n)
        stages = summary["chains"]["c"]["stages"]
        if summary["total"]["lost"] or not all(s["reached"] == n for s in stages):
            raise lab.NotExact(f"chain stages {stages}")
        return rate, f"every hop reached {n:,}, lost 0"

    def http_chain() -> tuple[float, str]:
        p50, summary = bench_chains.http_chain_p50(m)
        if summary["chains"]["c"]["e2e_reached"] != m:
            raise lab.NotExact(f"chain {summary['chains']['c']}")
        return p50, f"e2e reached {m:,}"

    return [
        rounds(Row("3-hop zmq notification chain vs raw PUSH/PULL", "msg/s", ">= 0.3"), r,
               lambda: isolated(raw_stream.pushpull, n, 1), zmq_chain, lambda: isolated(raw_chain.zmq_chain, n)),
        rounds(Row("3-hop http request chain p50 vs one raw keep-alive round trip", "ms", "<= 3.5"), r,
               lambda: isolated(raw_lockstep.http_keepalive, m, False)["p50_ms"], http_chain,
               lambda: isolated(raw_chain.http_chain, m)["p50_ms"]),
    ]


def amqp_rows(r: int, scale: float) -> list[Row]:
    from engines.brokers import ManagedBroker, rabbitmq_available

    prefetch = lab.default_prefetch()
    names = [("amqp RPC lockstep p50 (confirms, persistent)", "ms", "<= 1.3"),
             (f"amqp notification, lab default prefetch {prefetch}", "msg/s", ">= 0.7"),
             ("amqp notification, prefetch 1000", "msg/s", ">= 0.7")]  # raw pika's consumer does not commit
    problem = rabbitmq_available()
    if problem:
        return [Row(*name, error=problem) for name in names]
    n, m = int(40_000 * scale), int(2000 * scale)
    with tempfile.TemporaryDirectory() as tmp:
        broker = ManagedBroker("bench", Path(tmp))
        try:
            broker.start()
            url = broker.url
            return [
                rounds(Row(*names[0], raw_commits=True), r, lambda: raw_pika.rpc_round_trips(url, m, prefetch)["p50_ms"],
                       lambda: _p50(lab.lockstep("amqp", m, url))),
                rounds(Row(*names[1]), r, lambda: raw_pika.notification_rate(url, n, prefetch),
                       lambda: lab.amqp_notification(url, n, None)),
                rounds(Row(*names[2]), r, lambda: raw_pika.notification_rate(url, n, 1000),
                       lambda: lab.amqp_notification(url, n, 1000)),
            ]
        finally:
            broker.close()


def cluster_rows(r: int, scale: float) -> list[Row]:
    from engines.brokers import ClusterBroker, rabbitmq_available

    name = ("3-member cluster, quorum queue, confirmed", "msg/s", ">= 0.7")
    problem = rabbitmq_available()
    if problem:
        return [Row(*name, error=problem)]
    n = int(20_000 * scale)
    with tempfile.TemporaryDirectory() as tmp:
        cluster = ClusterBroker("bench", Path(tmp), 3)
        try:
            cluster.start(timeout=180)
            urls = cluster.urls
            return [rounds(Row(*name), r, lambda: raw_pika.notification_rate(urls[0], n, 1000, raw_pika.QUORUM),
                           lambda: lab.amqp_notification(urls, n, 1000, quorum=True))]
        finally:
            cluster.close()


def trace_rows(r: int, scale: float) -> list[Row]:
    """Tracing cost: the same lab PUSH/PULL run with LAB_TRACE=off ("raw") and =anomalies ("lab")."""
    n = int(1_000_000 * scale)

    def traced(mode: str) -> tuple[float, str]:
        before = os.environ.get("LAB_TRACE")
        os.environ["LAB_TRACE"] = mode
        try:
            return lab.pushpull(n, 128)
        finally:
            if before is None:
                os.environ.pop("LAB_TRACE", None)
            else:
                os.environ["LAB_TRACE"] = before

    # Both sides run the same code but for tracing, whose cost (a few %, in-process and in CPU
    # a message: bench/cpu_cost.py) is below one round's spread (0.74 to 1.28): more rounds.
    return [rounds(Row("tracing cost: anomaly tracing vs LAB_TRACE=off (PUSH/PULL 128 a frame)", "msg/s",
                       ">= 0.9"), 2 * r + 1, lambda: traced("off")[0], lambda: traced("anomalies"))]


def scale_rows(r: int, scale: float) -> list[Row]:
    """100 zmq nodes (50 client/service pairs) from Start to all ready: bench/scale.py's measure."""
    import scale as scale_bench

    row = Row("100 zmq nodes all ready (bench/scale.py)", "s", "< 10", absolute=True)
    try:
        for i in range(r):
            with tempfile.TemporaryDirectory(prefix="lab-scale-") as tmp:
                figures = scale_bench.measure(100, 1.0, Path(tmp))
            row.labs.append(figures["ready_s"])
            row.checks.append(f"{figures['node_cpu_ms']:.0f} ms of CPU a node")
            print(f"  100 nodes round {i + 1}: all ready in {figures['ready_s']:.2f} s, "
                  f"{figures['ready_per_node_ms']:.0f} ms a node, median node CPU {figures['node_cpu_ms']:.0f} ms",
                  flush=True)
    except Exception as exc:  # noqa: BLE001 - reported in its row
        row.error = f"{type(exc).__name__}: {exc}"[:120]
    return [row]


def gui_rows(r: int, scale: float) -> list[Row]:
    """The window with 50 nodes at full rate: bench/bench_gui_responsiveness.py, 4 runs in a row
    (the goal holds in every one), in its own process (Qt, offscreen)."""
    import json
    import subprocess

    lag = Row("GUI event-loop lag p99, 50 nodes at full rate", "ms", "< 50", absolute=True, every=True)
    stall = Row("GUI stall time (gaps > 16 ms), share of the wall clock, same runs", "share", "< 0.10",
                absolute=True, every=True)
    runs = 4 if scale >= 1 else 1
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp:
        out = Path(tmp) / "gui.json"
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        done = subprocess.run([sys.executable, str(Path(__file__).with_name("bench_gui_responsiveness.py")),
                               "--runs", str(runs), "--json", str(out)], env=env, timeout=900, check=False)
        if not out.exists():
            lag.error = stall.error = f"the GUI bench exited {done.returncode} without figures"
            return [lag, stall]
        for figures in json.loads(out.read_text()):
            lag.labs.append(figures["p99"])
            stall.labs.append(figures["stall"])
            lag.checks.append(f"left {figures['left']}")
    return [lag, stall]


def table(rows: list[Row]) -> str:
    head = ["path", "raw", "lab", "ratio (median of rounds)", "goal", "met",
            "lab / raw doing the same commits (median)"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def write(out: Path, text: str) -> None:
    """Replace the marked table in `out` (or write the file if it has no marks)."""
    block = f"{MARK_BEGIN}\n{text}\n{MARK_END}"
    old = out.read_text() if out.exists() else ""
    if MARK_BEGIN in old and MARK_END in old:
        head, _, rest = old.partition(MARK_BEGIN)
        _, _, tail = rest.partition(MARK_END)
        out.write_text(head + block + tail)
    else:
        out.write_text(block + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a third of the messages (a smoke test)")
    parser.add_argument("--no-amqp", action="store_true", help="skip the RabbitMQ paths")
    parser.add_argument("--no-cluster", action="store_true", help="skip the 3-member cluster path")
    parser.add_argument("--only", default="", help="comma-separated groups: zmq,http,chains,amqp,cluster,trace,scale,gui")
    parser.add_argument("--out", type=Path, default=None, help="markdown file for the table")
    args = parser.parse_args(argv)
    scale = 1 / 3 if args.quick else 1.0
    groups: list[tuple[str, Callable[[int, float], list[Row]]]] = [
        ("zmq", zmq_rows), ("http", http_rows), ("chains", chain_rows), ("amqp", amqp_rows),
        ("cluster", cluster_rows), ("trace", trace_rows), ("scale", scale_rows), ("gui", gui_rows)]
    only = {g for g in args.only.split(",") if g}
    skip = {"amqp", "cluster"} if args.no_amqp else set()
    skip |= {"cluster"} if args.no_cluster else set()
    load_start, began = os.getloadavg(), time.monotonic()
    print(f"load average at start: {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}", flush=True)
    rows: list[Row] = []
    for name, run in groups:
        if (only and name not in only) or name in skip:
            continue
        print(f"[{name}] at {(time.monotonic() - began) / 60:.1f} min", flush=True)
        rows += run(args.rounds, scale)
    load_end, minutes = os.getloadavg(), (time.monotonic() - began) / 60
    command = "PYTHONPATH=. python bench/all.py " + " ".join(map(shlex.quote, sys.argv[1:] if argv is None else argv))
    text = (f"`{command.strip()}` — {args.rounds} alternating rounds a path ({2 * args.rounds + 1} for tracing), "
            f"{minutes:.1f} min, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs; load average "
            f"(1/5/15 min) at start {load_start[0]:.2f}/{load_start[1]:.2f}/{load_start[2]:.2f}, at end "
            f"{load_end[0]:.2f}/{load_end[1]:.2f}/{load_end[2]:.2f}.\n\n{table(rows)}\n")
    met = sum(1 for row in rows if row.met() and not row.error)
    text += f"\nGoals met: {met} of {len(rows)}.\n"
    print("\n" + text)
    if args.out is not None:
        write(args.out, text)
        print(f"written to {args.out}")
    return 0 if all(row.met() and not row.error for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

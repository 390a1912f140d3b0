"""`labgui test PATH...`: run every topology file found and judge its expectations."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from xml.etree import ElementTree as ET

from engines.cli import lesson_test
from engines.testing.runner import TopologyResult, run_file
from engines.topology import topofile


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "test",
        help="run topology files (and lessons' variants) as tests: each expectation with its value and PASS/FAIL",
        description="Run every topology file given (folders are searched for *.topo.yaml), "
        "print each expectation with its measured value and PASS/FAIL, write each run's "
        "report (a *.lesson.yaml or a folder of lessons runs each of its variants), and exit 1 if any expectation fails or any run cannot happen.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="topology file or folder")
    parser.add_argument("--junitxml", metavar="FILE", help="also write a JUnit XML report")
    parser.add_argument("--out", metavar="DIR", help="put each run directory under DIR, named after its "
                        "file (NAME, then NAME-1, NAME-2... on reruns: DIR may hold earlier runs)")
    parser.add_argument("-k", metavar="TEXT", help="only files whose name contains TEXT")
    parser.set_defaults(handler=run)


def write_junit(results: list[TopologyResult], path: Path) -> None:
    suite = ET.Element("testsuite", name="topologies", tests=str(len(results)),
                       failures=str(sum(1 for r in results if r.error is None and not r.passed)),
                       errors=str(sum(1 for r in results if r.error is not None)),
                       time=f"{sum(r.seconds for r in results):.2f}")
    for r in results:
        case = ET.SubElement(suite, "testcase", classname="topologies", name=r.path.name,
                             file=str(r.path), time=f"{r.seconds:.2f}")
        if r.error is not None:
            ET.SubElement(case, "error", message=r.error.splitlines()[0]).text = r.error
        elif not r.passed:
            failed = [v for v in r.verdicts if not v.passed]
            ET.SubElement(case, "failure", message=str(failed[0])).text = r.table()
        out = r.table() + (f"\nreport: {r.report}" if r.report else "")
        ET.SubElement(case, "system-out").text = out
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def run(args: argparse.Namespace) -> int:
    lesson_paths, paths = lesson_test.split(args.paths)  # lessons run variant by variant
    files = topofile.find_topologies(paths)
    if args.k:
        files = [f for f in files if args.k in f.name]
    if not files and not lesson_paths:
        print("labgui test: no topology files found", file=sys.stderr)
        return 1
    stop = threading.Event()
    results: list[TopologyResult] = []
    try:
        results += lesson_test.run(lesson_paths, Path(args.out) if args.out else None, args.k, stop)
        for path in files:
            print(f"== {path}", flush=True)
            result = run_file(path, Path(args.out) if args.out else None, should_stop=stop.is_set)
            results.append(result)
            print(result.table())
            verdict = "PASS" if result.passed else ("ERROR" if result.error else "FAIL")
            print(f"-> {verdict} in {result.seconds:.1f} s"
                  + (f"; report: {result.report}" if result.report else ""), flush=True)
    except KeyboardInterrupt:
        stop.set()
        print("interrupted", file=sys.stderr)
    passed = sum(r.passed for r in results)
    print(f"{passed} passed, {len(results) - passed} failed")
    if args.junitxml:
        write_junit(results, Path(args.junitxml))
    return 0 if passed == len(results) and len(results) >= len(files) else 1

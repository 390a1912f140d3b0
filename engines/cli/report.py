"""`labgui report RUN_DIR`: rebuild the HTML report (and its PNG plots) of a past run."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "report",
        help="rebuild the HTML report of a run directory",
        description="Rebuild report.html and the PNG plots (throughput, latency, queue depth, "
        "errors, with fault periods shaded) from what a run left in its directory.",
    )
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # here, not at the top: every `labgui` command builds this parser, and the report's
    # plotting (matplotlib) would add about a second to each of them
    from engines.report.build import ReportError, build_report

    failed = 0
    for run_dir in args.run_dirs:
        try:
            print(f"report: {build_report(run_dir)}")
        except ReportError as exc:
            print(f"labgui report: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0

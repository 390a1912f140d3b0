"""`labgui compare RUN_A RUN_B [...]` and `labgui compare FILE --transports zmq,amqp,http`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engines.trace.rundata import RunDirError

if TYPE_CHECKING:
    from engines.replay.compare import RunSide


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("compare", help="compare runs side by side, or one design over several transports",
                       description="Write one HTML page with the runs' counters side by side, their plots "
                                   "overlaid on a shared time axis and the differences called out. With a "
                                   "topology FILE and --transports, derive its variants (a managed broker "
                                   "for amqp), run them one after the other with the same scenario, and "
                                   "compare those runs.")
    p.add_argument("paths", nargs="+", help="run directories, or one topology file with --transports")
    p.add_argument("--transports", help="comma-separated: zmq,amqp,http")
    p.add_argument("--out", help="the HTML file to write (default: comparison.html here, or in --runs)")
    p.add_argument("--runs", help="with --transports: where the variants' run directories go")
    p.add_argument("--gui", action="store_true",
                   help="open the run directories side by side in the GUI instead (needs a display)")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    # here, not at the top: every `labgui` command builds this parser, and the comparison's
    # plotting (matplotlib) and the runtime would add about a second to each of them
    from engines.replay import compare_html
    from engines.replay.compare import open_side

    refused: list[str] = []
    try:
        if args.transports:
            if len(args.paths) != 1:
                print("labgui compare: --transports takes one topology file", file=sys.stderr)
                return 2
            from engines.replay.run_variants import run_variants

            sides, refused, root = run_variants(Path(args.paths[0]), args.transports.split(","), args.runs)
            out = Path(args.out) if args.out else root / "comparison.html"
            title = f"{Path(args.paths[0]).name} over {args.transports}"
        else:
            if len(args.paths) < 2:
                print("labgui compare: give two or more run directories (or FILE --transports ...)",
                      file=sys.stderr)
                return 2
            sides = [open_side(p) for p in args.paths]
            out = Path(args.out) if args.out else Path("comparison.html")
            title = "Runs compared"
    except RunDirError as exc:
        print(f"labgui compare: {exc}", file=sys.stderr)
        return 2
    for reason in refused:
        print(f"refused: {reason}")
    if len(sides) < 1:
        print("labgui compare: no variant could run", file=sys.stderr)
        return 1
    _print(sides)
    path = compare_html.write(sides, out, title, refused)
    print(f"comparison: {path}")
    return 0


def _print(sides: list[RunSide]) -> None:
    from engines.replay.compare import differences

    for line in differences(sides):
        print(f"  {line}")

"""`labgui trace RUN_DIR [ID]`: one message's story as text, or the counters' message IDs."""

from __future__ import annotations

import argparse
import sys

from engines.trace.load import open_run
from engines.trace.rundata import RunDirError
from engines.trace.story import UnknownMessage
from engines.trace.text import render


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("trace", help="tell one message's story from a run directory",
                       description="Print the traced life of message ID (CLIENT:SEQ) in a finished run: "
                                   "each send, answer, delivery, commit and refused duplicate on the run's "
                                   "clock, with the faults of its time. Without ID, list the message IDs "
                                   "behind each counter (lost, in doubt, duplicates, redelivered...).")
    p.add_argument("run_dir", help="a run directory (labgui run/test, the GUI, or the pytest plugin)")
    p.add_argument("id", nargs="?", help="message ID, CLIENT:SEQ (e.g. shop:42)")
    p.add_argument("--counter", help="with no ID: list only this counter's IDs")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    try:
        run = open_run(args.run_dir)
        if args.id:
            sys.stdout.write(render(run.story(args.id)))
            return 0
    except (RunDirError, UnknownMessage) as exc:
        print(f"labgui trace: {exc}", file=sys.stderr)
        return 2
    if not run.ids:
        print(f"labgui trace: {args.run_dir}: no ids.json (the run did not reach its summary)", file=sys.stderr)
        return 2
    for counter, data in run.ids.items():
        if args.counter and counter != args.counter:
            continue
        shown = data.get("ids", [])[:50]
        more = f" ... ({data.get('count', 0) - len(shown)} more)" if data.get("count", 0) > len(shown) else ""
        print(f"{counter} ({data.get('count', 0)}): {' '.join(shown)}{more}")
    return 0

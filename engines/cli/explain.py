"""`labgui explain RUN_DIR [--node N] [--counter C]`: why each counter of a finished run has its value."""

from __future__ import annotations

import argparse
import sys
import textwrap


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("explain", help="explain every counter of a finished run from its own events and settings",
                       description="Print, for every counter of the total, of each node, link and chain row of a "
                                   "finished run, the reason the run's own events (faults on the run clock) and "
                                   "settings give, with the first message IDs behind it (`labgui trace RUN_DIR "
                                   "ID` tells one's story). A zero is explained only where a fault could have "
                                   "moved it.")
    p.add_argument("run_dir", help="a run directory (labgui run/test, the GUI, or the pytest plugin)")
    p.add_argument("--node", help="only this node's or link's counters (a link is 'from->to')")
    p.add_argument("--counter", help="only this counter (lost, in_doubt, duplicates_suppressed, ...)")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from engines.explain import explain_run
    from engines.trace.rundata import RunDirError

    try:
        found = explain_run(args.run_dir, node=args.node, counter=args.counter)
    except RunDirError as exc:
        print(f"labgui explain: {exc}", file=sys.stderr)
        return 2
    if not found:
        what = " ".join(x for x in (args.node and f"node {args.node!r}", args.counter and
                                     f"counter {args.counter!r}") if x) or "this run"
        print(f"nothing to explain for {what}: its counters are 0 and no fault could have moved them")
        return 0
    subject = None
    for e in found:
        head = "total" if e.scope == "total" else f"{e.scope} {e.subject}"
        if head != subject:
            print(f"\n{head}" if subject else head)
            subject = head
        print(textwrap.fill(e.text, width=100, initial_indent="  ", subsequent_indent="    "))
    return 0

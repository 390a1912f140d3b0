"""`labgui validate FILE...`: check topology files without running them."""

from __future__ import annotations

import argparse
import sys

from engines.topology import topofile
from engines.topology.problems import TopologyError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "validate",
        help="check topology files; exit 0 if all are valid, 1 otherwise",
        description="Check topology files (or folders of *.topo.yaml) and print every problem "
        "with its file, line, node or link, and what would be valid.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="topology file or folder")
    parser.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    failed = 0
    files = topofile.find_topologies(args.files)
    if not files:
        print("no topology files found", file=sys.stderr)
        return 1
    for path in files:
        try:
            loaded = topofile.load(path)
        except TopologyError as exc:
            failed += 1
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        except Exception as exc:  # noqa: BLE001 - one file's surprise must not stop the others
            failed += 1
            print(f"{path}: cannot be read as a topology ({type(exc).__name__}: {exc})", file=sys.stderr)
            continue
        for warning in loaded.warnings:
            print(warning, file=sys.stderr)
        if not args.quiet:
            topo = loaded.topology
            print(f"{path}: ok ({len(topo.nodes)} nodes, {len(topo.links)} links, "
                  f"{len(topo.scenario)} scenario steps, {len(topo.expectations)} expectations)")
    if failed:
        print(f"{failed} of {len(files)} file(s) invalid", file=sys.stderr)
    return 1 if failed else 0

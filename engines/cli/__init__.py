"""The headless command line: `validate`, `run`, `test`, `report`.

Each subcommand lives in its own module with a `register(subparsers)` function;
`labgui.app.cli` adds them next to the GUI launcher. Nothing here imports Qt.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from engines import __version__

SUBCOMMAND_MODULES = ("validate", "run", "test", "report", "trace", "compare", "explain")


def available() -> list[str]:
    """Subcommands whose module exists (later capabilities add theirs)."""
    names = []
    for name in SUBCOMMAND_MODULES:
        try:
            importlib.import_module(f"engines.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"engines.cli.{name}":
                raise
            continue
        names.append(name)
    return names


def build_parser(prog: str = "labgui") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Topology Lab: run messaging topologies as real processes and count every message.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in available():
        importlib.import_module(f"engines.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The headless command line: `validate`, `run`, `test`, `report`.

Each subcommand lives in its own module with a `register(subparsers)` function;
`labgui.app.cli` adds them next to the GUI launcher. Nothing here imports Qt.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from engines import __version__

SUBCOMMAND_MODULES = ("validate", "run", "test", "report", "trace", "compare", "explain")


def available() -> list[str]:
    """Subcommands whose module exists (later capabilities add theirs); found, not imported."""
    return [name for name in SUBCOMMAND_MODULES if importlib.util.find_spec(f"engines.cli.{name}")]


def build_parser(prog: str = "labgui", only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or of `only` one: a command imports just its own module
    (all seven cost about half a CPU-second, paid by every report the GUI writes)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Topology Lab: run messaging topologies as real processes and count every message.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [only] if only else available():
        importlib.import_module(f"engines.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=argv[0] if argv and argv[0] in available() else None)
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

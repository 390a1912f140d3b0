"""The `labgui` command: headless subcommands, or the GUI on a file.

`labgui validate|run|test|report ...` never touches Qt, so it works on a
machine without a display. `labgui [FILE]` opens the editor; with no display it
says so and shows the headless command instead of crashing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engines import __version__
from engines import cli as headless
from engines.topology.examples import default_example


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal", "vnc"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _gui_parser() -> argparse.ArgumentParser:
    commands = ", ".join([*headless.available(), "replay"])
    parser = argparse.ArgumentParser(
        prog="labgui",
        description="Topology Lab: draw clients, services and brokers, run them as real "
        "processes over ZeroMQ, RabbitMQ or HTTP, and count every lost and duplicated message.",
        epilog=f"Headless commands: {commands} (labgui COMMAND --help).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("file", nargs="?", help="topology file to open (default: the default example)")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="once the window shows the file, save a picture of the whole screen to PNG")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "replay":
        from labgui.replay.cli import main as replay

        return replay(argv[1:], has_display())
    if argv and argv[0] == "compare" and "--gui" in argv:
        from labgui.replay.cli import compare_gui

        return compare_gui(argv[1:], has_display())
    if argv and argv[0] in headless.available():
        return headless.main(argv)
    args = _gui_parser().parse_args(argv)
    path = Path(args.file) if args.file else default_example()
    if not has_display():
        print(
            "labgui: no display here (DISPLAY is not set), so the editor cannot open.\n"
            f"Run the topology headless instead:\n  labgui run {path}\n"
            f"or check it:\n  labgui validate {path}",
            file=sys.stderr,
        )
        return 2
    from labgui.app.app import launch

    return launch(path, screenshot=Path(args.screenshot) if args.screenshot else None)

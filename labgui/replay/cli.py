"""`labgui replay RUN_DIR`: open a finished run in the replay window (needs a display).

A damaged run directory is refused before any window opens, with the file and
the reason, and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from engines.replay.recording import Recording
from engines.trace.rundata import RunDirError


def main(argv: list[str], display: bool = True) -> int:
    parser = argparse.ArgumentParser(prog="labgui replay",
                                     description="Open a finished run directory (from the GUI, labgui run, "
                                                 "labgui test or the pytest plugin) and scrub it: the canvas, "
                                                 "counters and plots as they were at any time t.")
    parser.add_argument("run_dir")
    parser.add_argument("--at", type=float, default=None, help="start at this time (seconds on the run clock)")
    args = parser.parse_args(argv)
    try:
        recording = Recording.open(args.run_dir)
    except RunDirError as exc:
        print(f"labgui replay: {exc}", file=sys.stderr)
        return 2
    if not display:
        print(f"labgui replay: no display here; `labgui report {args.run_dir}` writes the run's HTML report "
              "and `labgui trace` tells a message's story", file=sys.stderr)
        return 2
    from labgui.app.app import application
    from labgui.replay.window import ReplayWindow

    app = application()
    window = ReplayWindow(recording)
    window.resize(1280, 800)
    window.show()
    window.view.fit_to_view()
    if args.at is not None:
        window.seek(recording.origin + args.at)  # --at counts on the run clock
    return app.exec()


def compare_gui(argv: list[str], display: bool = True) -> int:
    """`labgui compare RUN_A RUN_B --gui`: the runs side by side in replay views on one slider."""
    paths = [a for a in argv if a != "--gui"]
    if len(paths) < 2:
        print("labgui compare --gui: give two or more run directories", file=sys.stderr)
        return 2
    try:
        for path in paths:
            Recording.open(path)
        from engines.replay.compare import open_side

        for path in paths:
            open_side(path)
    except RunDirError as exc:
        print(f"labgui compare: {exc}", file=sys.stderr)
        return 2
    if not display:
        print("labgui compare --gui: no display here; without --gui it writes the HTML comparison",
              file=sys.stderr)
        return 2
    from labgui.app.app import application
    from labgui.replay.compare_window import open_compare

    app = application()
    window = open_compare(list(paths))  # noqa: F841 - kept alive while the loop runs
    return app.exec()

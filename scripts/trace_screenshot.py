"""Retake docs/images/trace-duplicate-after-redelivery.png: example 13 run for real, its
refused duplicate's sequence diagram in the GUI's messages dialog (run under Xvfb with xcb)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

from engines.testing.runner import run_file
from labgui.run.trace_view import MessagesDialog

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    app = QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as out:
        result = run_file(next((ROOT / "topologies").glob("13-*.topo.yaml")), out_root=Path(out))
        if result.run_dir is None:
            print(f"the run failed: {result.error}")
            return 1
        dialog = MessagesDialog(result.run_dir)
        dialog.resize(1100, 640)
        dialog.show()
        dialog.choose_counter("duplicates_suppressed")
        for _ in range(30):
            app.processEvents()
        target = ROOT / "docs" / "images" / "trace-duplicate-after-redelivery.png"
        dialog.grab().save(str(target))
        print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

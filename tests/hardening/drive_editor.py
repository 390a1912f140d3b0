"""The editor offscreen in its own process, editing until it is SIGKILLed.

`python drive_editor.py FILE|new`: opens FILE (or a new untitled document),
adds a service and sets its processing time through the undo commands, then
keeps editing the description ("edit 1", "edit 2"...) every 50 ms. The real
autosave timer runs, only with a 200 ms period. Once a recovery copy holds
the service, it prints `autosaved <service> <edit number in that copy>` and
goes on editing: the test kills it at some moment of that.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QTimer  # noqa: E402

from engines.topology.drafts import loads_draft  # noqa: E402
from engines.topology.vocabulary import NodeKind  # noqa: E402
from labgui.app.app import application, open_window  # noqa: E402
from labgui.document import commands  # noqa: E402

EDIT_MS = 50
AUTOSAVE_MS = 200


def main(argv: list[str]) -> int:
    app = application()
    if argv[0] == "new":
        window = open_window(None)
        window.new_file()
    else:
        window = open_window(argv[0])
    name = window.add_node(NodeKind.SERVICE, QPointF(0, 400))
    assert name is not None
    commands.change_node(window.doc, name, "processing_ms", 7.5)
    files = window.files
    files.autosave_timer.setInterval(AUTOSAVE_MS)
    files.autosave_timer.start()
    recovery = files.recovery.file_for(files.path)
    count = [0]
    told: list[bool] = []

    def edit() -> None:
        count[0] += 1
        commands.change_topology(window.doc, "description", f"edit {count[0]}")
        if not told and recovery.is_file():
            saved = loads_draft(recovery.read_text(encoding="utf-8")).topology
            if any(n.name == name for n in saved.nodes):
                told.append(True)
                number = saved.description.removeprefix("edit ")
                print(f"autosaved {name} {number if number.isdigit() else 0}", flush=True)

    timer = QTimer()
    timer.timeout.connect(edit)
    timer.start(EDIT_MS)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

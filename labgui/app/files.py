"""New, Open, Save, Save As, recent files, autosave and recovery for one document.

What is saved is exactly `engines.topology.topofile.dumps`, the YAML the CLI runs.
Opening goes through `engines.topology.drafts`, so a work-in-progress file with
semantic errors still opens (its problems are listed); a file that is not a
topology at all is refused with its problems in a dialog and the current
document is kept. While the document has unsaved changes, a copy is written to
a recovery file every few seconds; it is deleted once the changes are saved or
dropped, so one that survives means the editor did not close normally.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from engines.lessons.catalog import in_lessons_dir
from engines.topology import layout, topofile
from engines.topology.drafts import load_draft, loads_draft
from engines.topology.examples import EXAMPLES_DIR
from engines.topology.model import NAME_PATTERN, Topology
from engines.topology.problems import Problem, TopologyError
from labgui.app.storage import RecentFiles, RecoveryStore
from labgui.document.document import TopologyDocument, empty_topology
from labgui.editor import dialogs

AUTOSAVE_MS = 5000


def lay_out_if_piled(topology: Topology) -> bool:
    """A file without positions (every node on one spot) gets the auto-layout; True if it did."""
    if len(topology.nodes) < 2 or len({tuple(n.position) for n in topology.nodes}) > 1:
        return False
    for name, position in layout.columns(topology).items():
        topology.node(name).position = position
    return True


def is_example(path: Path) -> bool:
    """A file shipped in topologies/ (or with a lesson): it opens as an untitled copy, so Save never
    overwrites it."""
    try:
        return path.resolve().parent == EXAMPLES_DIR.resolve() or in_lessons_dir(path)
    except OSError:
        return False


class FileController(QObject):
    """The document's link to the file system."""

    path_changed = Signal()
    recent_changed = Signal()
    message = Signal(str)

    def __init__(self, document: TopologyDocument, window: QWidget) -> None:
        super().__init__(window)
        self.doc = document
        self.window = window
        self.path: Path | None = None
        self.example: Path | None = None  # the shipped example this untitled document copies
        self.recent = RecentFiles()
        self.recovery = RecoveryStore()
        self._edits = 0
        self._autosaved_at = 0
        self.autosave_failed = False  # the last autosave could not be written (it was said)
        document.edited.connect(self._count_edit)
        document.topology_replaced.connect(self._count_edit)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    # -- naming ----------------------------------------------------------------------
    @property
    def display_name(self) -> str:
        if self.path is not None:
            return self.path.name
        if self.example is not None:
            return f"{self.example.name} (example: an untitled copy)"
        return "untitled"

    def _set_path(self, path: Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self.example = None
        if self.path is not None:
            self.recent.add(self.path)
            self.recent_changed.emit()
        self.path_changed.emit()

    # -- losing changes ------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """True when it is fine to drop the document (saved, discarded, or unmodified)."""
        if not self.doc.is_modified():
            return True
        answer = dialogs.ask_unsaved_changes(self.window, self.display_name)
        if answer == "save":
            return self.save()
        if answer == "discard":
            self.recovery.discard(self.path)
            return True
        return False

    def new(self) -> bool:
        if not self.maybe_save():
            return False
        self.doc.replace(empty_topology())
        self._set_path(None)
        self.message.emit("New topology: drag nodes from the palette")
        return True

    def open(self, path: Path | str | None = None, *, ask_first: bool = True) -> bool:
        if ask_first and not self.maybe_save():
            return False
        if path is None:
            start = str(self.path.parent) if self.path else str(Path.cwd())
            path = dialogs.ask_open_path(self.window, start)
            if path is None:
                return False
        path = Path(path)
        try:
            loaded = load_draft(path)
        except TopologyError as exc:
            dialogs.show_problems(self.window, "Cannot open topology", str(path), exc.problems)
            return False
        laid_out = lay_out_if_piled(loaded.topology)
        self.doc.replace(loaded.topology)
        if is_example(path):  # never saved over: the tests and the next newcomer read it
            self._set_path(None)
            self.example = path
            self.recent.add(path)
            self.recent_changed.emit()
            self.path_changed.emit()
        else:
            self._set_path(path)
        self._autosaved_at = self._edits
        errors = self.doc.error_count()
        self.message.emit(f"Opened {path.name}" + (f" — {errors} problem{'s' if errors > 1 else ''} to fix"
                                                     if errors else "")
                          + (" — it had no positions, so it was laid out" if laid_out else ""))
        self.offer_recovery()
        return True

    # -- saving --------------------------------------------------------------------------
    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self._write(self.path)

    def save_as(self, path: Path | str | None = None) -> bool:
        if path is None:
            suggested = str(self.path) if self.path else (
                str(Path.cwd() / self.example.name) if self.example else f"{self.doc.topology.name}{topofile.SUFFIX}")
            path = dialogs.ask_save_path(self.window, suggested)
            if path is None:
                return False
        path = Path(path)
        if not path.name.endswith((".yaml", ".yml")):
            path = path.with_name(path.name + topofile.SUFFIX)
        old = self.path
        if not self._write(path):
            return False
        if old != path:
            self.recovery.discard(old)
        self._set_path(path)
        return True

    def _write(self, path: Path) -> bool:
        self.doc.validate_now()
        try:
            topofile.save(self.doc.topology, path)
        except OSError as exc:
            dialogs.show_error(self.window, "Cannot save", f"'{path}' could not be written: {exc.strerror}")
            return False
        self.doc.mark_saved()
        self.recovery.discard(self.path)
        self.recovery.discard(path)
        self._autosaved_at = self._edits
        errors = self.doc.error_count()
        self.message.emit(f"Saved {path.name}" + (f" — it has {errors} problem{'s' if errors > 1 else ''} "
                                                    "to fix before it can run" if errors else ""))
        return True

    # -- autosave and recovery ---------------------------------------------------------------
    def _count_edit(self) -> None:
        self._edits += 1

    def autosave(self) -> Path | None:
        """Write the unsaved state to the recovery file if it changed since the last time."""
        if not self.doc.is_modified():
            if self._edits != self._autosaved_at:  # undone back to the saved state: nothing to recover
                self.recovery.discard(self.path)
                self._autosaved_at = self._edits
            return None
        if self._edits == self._autosaved_at:
            return None
        try:
            written = self.recovery.write(self.path, topofile.dumps(self.doc.topology))
        except OSError as exc:
            if not self.autosave_failed:  # said once per failing streak, not every few seconds
                self.message.emit(f"Autosave failed ({exc.strerror or exc}): unsaved changes are not "
                                  f"protected against a crash; save to keep them")
            self.autosave_failed = True
            return None
        if self.autosave_failed:
            self.message.emit("Autosave works again: unsaved changes are protected")
        self.autosave_failed = False
        self._autosaved_at = self._edits
        return written

    def offer_recovery(self) -> bool:
        """If autosaved changes newer than the file exist, offer them; True if recovered."""
        found = self.recovery.find(self.path)
        if found is None:
            return False
        if not dialogs.ask_recover(self.window, self.display_name, found.saved_at):
            self.recovery.discard(self.path)
            return False
        try:
            loaded = loads_draft(found.text(), str(found.file))
        except (TopologyError, OSError) as exc:
            problems = exc.problems if isinstance(exc, TopologyError) else [Problem(str(exc))]
            dialogs.show_problems(self.window, "Cannot recover", str(found.file), problems)
            return False
        self.doc.replace(loaded.topology, modified=True)
        self._autosaved_at = self._edits
        self.message.emit(f"Recovered unsaved changes from {found.saved_at:%H:%M:%S}: save to keep them")
        return True

    def closing(self) -> bool:
        """Called when the window closes: ask about changes; on yes, stop autosaving."""
        if not self.maybe_save():
            return False
        self.autosave_timer.stop()
        if not self.doc.is_modified():
            self.recovery.discard(self.path)
        return True

    def start(self, path: Path | str | None) -> bool:
        """At launch: offer an untitled document lost in a crash, else open `path`."""
        if self.recovery.find(None) is not None and self.offer_recovery():
            return True
        if path is None:
            return False
        path = Path(path)
        if not path.exists() and path.parent.is_dir():
            # `labgui new.topo.yaml`, as with a text editor: a new document that Save will create.
            stem = path.name.removesuffix(topofile.SUFFIX).removesuffix(".yaml")
            self.doc.replace(empty_topology(stem if re.match(NAME_PATTERN, stem) else "untitled"))
            self._set_path(path)
            self.message.emit(f"New file {path.name}: it is created when you save")
            return True
        return self.open(path, ask_first=False)

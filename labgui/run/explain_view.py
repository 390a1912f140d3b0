"""Explain this number, in the run view: every counter tile, node and link says why it has its value.

Hover a counter tile, a node or a link of the run canvas: its tooltip is the
explanation engines.explain builds from the run's own events and settings
(live: from the ledger so far, once a second; at the end: the final summary).
Click a node or link: the "Why these numbers" dock shows all of its
explanations (nothing selected: the total's), each message ID a link that
opens its story (labgui.run.trace_view). Click a tile: the messages dialog
opens as before, with the counter's explanation above its IDs.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape as _escape
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, QUrl
from PySide6.QtWidgets import QDockWidget, QLabel, QSizePolicy, QTextBrowser

from engines.explain import Explanation, explain_facts, label
from engines.explain import facts as explain_facts_of
from engines.trace import ids as idlists
from engines.trace.rundata import RunDirError

LIVE_EVERY_MS = 1000


def escape(text: str) -> str:
    """HTML-safe, apostrophes kept as they are (node names are quoted with them)."""
    return _escape(text, quote=False)
Key = tuple[str, str, str]


def tooltip(items: Iterable[Explanation], base: str = "") -> str:
    """Rich text (so Qt wraps it): each explanation, then the widget's own tooltip."""
    parts = [f"<p>{escape(e.text)}</p>" for e in items]
    if base:
        parts.append(f"<p style='color:#868e96'>{escape(base).replace(chr(10), '<br>')}</p>")
    return "<qt>" + "".join(parts) + "</qt>"


def panel_html(items: list[Explanation], title: str) -> str:
    """The dock's page: each counter's explanation, its first message IDs as story links."""
    if not items:
        return (f"<h3>{escape(title)}</h3><p style='color:#868e96'>Nothing to explain here: its counters "
                "are 0 and no fault could have moved them.</p>")
    rows = []
    for e in items:
        head, _, body = e.text.partition(": ")
        ids = " ".join(f"<a href='story:{escape(e.counter)}:{escape(i)}'>{escape(i)}</a>" for i in e.message_ids[:8])
        colour = "#868e96" if not e.value else "#1d232a"
        rows.append(f"<p style='color:{colour}'><b>{escape(head)}</b>: {escape(body)}"
                    + (f"<br>stories: {ids}" if ids else "") + "</p>")
    return f"<h3>{escape(title)}</h3>" + "".join(rows)


class ExplainView(QObject):
    """Keeps the run's explanations and shows them on the tiles, the canvas items and a dock."""

    def __init__(self, controller: Any) -> None:
        super().__init__(controller)
        self.controller = controller
        self.items: dict[Key, Explanation] = {}
        self.run_dir: Any = None
        self._bases: dict[int, str] = {}
        self._live_from: tuple[dict[str, Any], int] | None = None  # the live pass and events explained
        self.browser = QTextBrowser()
        self.browser.setObjectName("explainPanel")
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._open_link)
        self.dock = QDockWidget("Why these numbers", controller.qwindow)
        self.dock.setObjectName("runDockWhy")
        self.dock.setWidget(self.browser)
        controller.qwindow.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.timer = QTimer(self)
        self.timer.setInterval(LIVE_EVERY_MS)
        self.timer.timeout.connect(self.refresh_live)
        controller.phase_changed.connect(self._phase)
        controller.window.scene.selectionChanged.connect(self.show_selection)
        controller.edit_action.triggered.connect(self.clear)  # back to editing: the run's figures go
        controller.window.doc.edited.connect(lambda: None if controller.active else self.clear())

    # -- computing ---------------------------------------------------------------------------------
    def clear(self) -> None:
        """No run shown: the tiles, nodes and links get their own tooltips back, the dock goes."""
        self.timer.stop()
        if self.items:
            self.set_items([])
        self.dock.hide()

    def _phase(self, phase: str) -> None:
        if phase in ("starting", "running"):
            if phase == "starting":
                self.set_items([])
            self.run_dir = self.controller.session.sup.run_dir
            self.timer.start()
        elif phase in ("ended", "failed"):
            self.timer.stop()
            self.refresh_final()

    def refresh_live(self) -> None:
        """From the live ledger so far (nothing before its first answer). Only when it has a new
        pass or the run a new event: a pass comes every few seconds in a big run, and explaining
        the same figures again held the window for tens of milliseconds a second."""
        c = self.controller
        latest = c.ledger.latest if c.ledger is not None else None
        if c.session is None or not latest:
            return
        sup = c.session.sup
        events = len(sup.events)
        done = self._live_from
        if done is not None and done[0] is latest and done[1] == events:
            return  # (the pass itself is kept, not its id: a new dict may reuse a freed one's)
        self.set_items(explain_facts(explain_facts_of.live(sup.topology, latest, sup.events.since(0))))
        self._live_from = (latest, events)

    def refresh_final(self) -> None:
        c = self.controller
        if c.session is None or c.session.summary is None:
            return
        sup = c.session.sup
        try:
            ids = idlists.read(sup.run_dir)
        except RunDirError:
            ids = {}
        self.set_items(explain_facts(explain_facts_of.live(sup.topology, c.session.summary,
                                                           sup.events.since(0), ids, final=True)))
        if not self.dock.isVisible():
            result = c.dashboard.docks.get("Result")
            if result is not None:
                c.qwindow.tabifyDockWidget(result, self.dock)
            self.dock.show()

    def set_items(self, found: list[Explanation]) -> None:
        self._live_from = None
        self.items = {e.key: e for e in found}
        self._tooltips()
        self.show_selection()

    def of(self, scope: str, subject: str) -> list[Explanation]:
        return [e for (s, subj, _), e in self.items.items() if s == scope and subj == subject]

    # -- showing -----------------------------------------------------------------------------------
    def _base(self, obj: Any) -> str:
        return self._bases.setdefault(id(obj), obj.toolTip())

    def _tooltips(self) -> None:
        for key, tile in self.controller.dashboard.counters.tiles.items():
            found = self.items.get(("total", "total", key))
            if found is not None and found.value != tile.shown:
                found = None  # live, 'lost' and 'in doubt' tiles count differently (certain so far, pending)
            tile.setToolTip(tooltip([found], self._base(tile)) if found else self._base(tile))
        scene = self.controller.window.scene
        for name, item in scene.nodes.items():
            found_n = [e for e in self.of("node", name) if e.value]
            item.setToolTip(tooltip(found_n, self._base(item)) if found_n else self._base(item))
        for key, link in scene.links.items():
            found_l = [e for e in self.of("link", key) if e.value]
            link.setToolTip(tooltip(found_l, self._base(link)) if found_l else self._base(link))

    def show_selection(self) -> None:
        scene = self.controller.window.scene
        if not shiboken6.isValid(scene) or not shiboken6.isValid(self.browser):
            return  # the window is closing: its scene clears its selection on the way out
        nodes, links = scene.selected_nodes(), scene.selected_links()
        if nodes:
            scope, subject, title = "node", nodes[0], f"node '{nodes[0]}'"
        elif links:
            scope, subject, title = "link", links[0], f"link '{links[0]}'"
        else:
            scope, subject, title = "total", "total", "the whole run"
        items = self.of(scope, subject)
        if scope == "node":  # a client's chain rows belong to it too
            items += [e for (s, subj, _), e in self.items.items() if s == "chain" and subj.startswith(f"{subject}: ")]
        if not self.items:
            self.browser.setHtml("<p style='color:#868e96'>The explanations come with the first count.</p>")
            return
        self.browser.setHtml(panel_html(items, f"Why these numbers: {title}"))

    def _open_link(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("story:"):
            _, counter, message = text.split(":", 2)
            self.open_story(counter, message)

    def open_story(self, counter: str, message: str) -> Any:
        """The messages dialog on `counter`, with `message`'s story shown."""
        from labgui.run.trace_view import MessagesDialog

        c = self.controller
        if self.run_dir is None:
            return None
        dialog = MessagesDialog(self.run_dir, c.qwindow,
                                highlight=lambda nodes, links: c.window.scene.select(nodes, links))
        dialog.choose_counter(counter)
        found = dialog.list.findItems(message, Qt.MatchFlag.MatchExactly)
        if found:
            dialog.list.setCurrentItem(found[0])
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        c.messages_dialog = dialog
        return dialog

    def decorate(self, dialog: Any) -> None:
        """The messages dialog (a tile click): the chosen counter's explanation above its IDs."""
        why = QLabel("")
        why.setObjectName("explainLabel")
        why.setWordWrap(True)
        why.setTextFormat(Qt.TextFormat.RichText)
        why.setStyleSheet("background:#fff8c5; border:1px solid #d4a72c; padding:6px;")
        dialog.why = why

        def pick(message: str) -> None:
            found = dialog.list.findItems(message, Qt.MatchFlag.MatchExactly)
            if found:
                dialog.list.setCurrentItem(found[0])

        def update() -> None:
            found = self.items.get(("total", "total", str(dialog.current_counter() or "")))
            if found is None:
                why.hide()
                return
            ids = " ".join(f"<a href='{escape(i)}'>{escape(i)}</a>" for i in found.message_ids[:5])
            why.setText(f"<b>{escape(label(found.counter))} {found.value:,}</b>: "
                        f"{escape(found.text.partition(': ')[2])}" + (f"<br>stories: {ids}" if ids else ""))
            why.show()

        why.linkActivated.connect(pick)
        dialog.counter.currentIndexChanged.connect(lambda _i: update())
        why.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = dialog.layout()
        layout.insertWidget(0, why)
        layout.setStretch(1, 1)  # the IDs and the diagram take the height; the why only what it needs
        update()


def attach(controller: Any) -> ExplainView:
    """Wire the run view (labgui.run.mode.RunController): tooltips, the dock, the dialog's header."""
    view = ExplainView(controller)
    hooks: list[Any] = getattr(controller, "messages_hooks", [])
    hooks.append(view.decorate)
    controller.messages_hooks = hooks
    controller.explain_view = view
    for top in controller.window.menuBar().actions():
        if top.text() == "&Run" and top.menu() is not None:
            for action in top.menu().actions():
                if action.menu() is not None and action.text() == "&Dashboard panels":
                    action.menu().addAction(view.dock.toggleViewAction())
    return view

"""The first ten minutes (issue 16): welcome with lessons, the example's lesson, help per node and field,
a shortcut list, and a status bar that speaks plainly."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

from engines.topology.examples import examples
from labgui.app.guide_text import lesson_line
from tests.conftest import EXAMPLES


def test_the_welcome_lists_every_example_with_its_lesson_and_shows_once(window, tmp_path, state_dir):
    guide = window.guide
    text = guide.panel.welcome.toPlainText()
    assert "Run (F5)" in text
    for path in examples():
        name = path.name.removesuffix(".topo.yaml")
        assert name in text and lesson_line(path) and lesson_line(path)[:40] in " ".join(text.split())
    assert guide.first_start() and guide.dock.isVisible()
    assert guide.panel.currentWidget() is guide.panel.welcome
    assert not guide.first_start()  # once per user
    # a click on an example opens it as an untitled copy
    target = next(p for p in EXAMPLES if p.name.startswith("08-"))
    guide.panel.welcome.anchorClicked.emit(QUrl(f"example:{target}"))
    assert window.files.example == target and window.doc.topology.name == "publish-subscribe-zmq"


def test_the_lesson_is_the_examples_description_with_its_scenario_and_expectations(window, opened):
    opened("12")
    lesson = window.guide.panel.lesson.toPlainText()
    assert "single point of failure" in lesson
    assert "at 3 s: kill rabbit" in lesson and "lost == 0" in lesson


def test_help_on_a_selected_node_explains_each_field_and_what_changing_it_does(window, opened, qtbot):
    opened("13")
    service = next(n.name for n in window.doc.topology.services())
    window.scene.select([service])
    window.guide.help_action.trigger()  # F1
    qtbot.waitUntil(lambda: "PROCESSED_MESSAGES" in window.guide.panel.help.toPlainText(), timeout=3000)
    text = window.guide.panel.help.toPlainText()
    assert "applied twice" in text  # idempotent: what turning it off does
    assert "prefetch" in text and "redelivers" in text
    assert window.guide.panel.currentWidget() is window.guide.panel.help


def test_the_shortcut_list_names_run_stop_and_undo(window):
    window.guide.shortcuts_action.trigger()
    text = window.guide.panel.shortcuts.toPlainText()
    for needed in ("F5", "Run", "Shift+F5", "Ctrl+Z", "Undo", "Ctrl+E", "Back to editing"):
        assert needed in text, needed


def test_the_status_bar_says_1_node_not_1_nodes(window, tmp_path):
    window.new_file()
    from engines.topology.vocabulary import NodeKind
    window.add_node_in_view(NodeKind.SERVICE)
    QApplication.processEvents()
    assert window.count_label.text() == "1 node · 0 links"


def test_the_inspector_hides_settings_of_other_transports(window, opened, qtbot):
    """Issue 16: an amqp client showed Lazy Pirate (zmq) and Idempotency key (http)."""
    opened("12")
    window.scene.select(["checkout"])  # an amqp client
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "checkout"))
    shown = set(window.inspector.editors)
    assert {"confirms", "persistent", "resend_in_doubt"} <= shown
    assert not {"lazy_pirate", "idempotency_key"} & shown
    window.scene.select(["payments"])  # fed by the broker: prefetch (amqp) yes, hwm (zmq) no
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "payments"))
    shown = set(window.inspector.editors)
    assert "prefetch" in shown and "hwm" not in shown


def test_two_selected_nodes_link_by_keyboard_in_the_direction_messages_flow(window, qtbot):
    from engines.topology.vocabulary import NodeKind
    window.new_file()
    window.add_node_in_view(NodeKind.SERVICE)
    window.add_node_in_view(NodeKind.CLIENT)
    window.scene.select(["service", "client"])  # the service first: the client still sends
    action = window.findChild(QAction, "linkSelection")
    assert action.shortcut().toString() == "Ctrl+K"
    action.trigger()
    assert window.doc.topology.has_link("client->service")
    window.scene.select(["client"])
    action.trigger()
    assert "select exactly two nodes" in window.statusBar().currentMessage()

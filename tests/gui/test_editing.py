"""Drive the canvas as a user: place from the palette, link, move, select, delete, edit in the inspector."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from engines.topology import topofile
from engines.topology.model import ClientNode, ServiceNode
from engines.topology.vocabulary import NodeKind, Style, Transport
from tests.gui.conftest import click, drag, drop_from_palette, handle_of

pytestmark = pytest.mark.gui


def place_client_and_service(window):
    drop_from_palette(window, NodeKind.CLIENT, (0, 0))
    drop_from_palette(window, NodeKind.SERVICE, (300, 0))
    return "client", "service"


def test_drop_from_palette_places_a_node_on_the_grid(window):
    drop_from_palette(window, NodeKind.CLIENT, (103, 47))
    topo = window.doc.topology
    assert [n.name for n in topo.nodes] == ["client"]
    assert isinstance(topo.nodes[0], ClientNode)
    assert topo.nodes[0].position == (100.0, 50.0)
    assert window.scene.selected_nodes() == ["client"]
    assert "Added client 'client'" in window.statusBar().currentMessage()
    drop_from_palette(window, NodeKind.CLIENT, (100, 200))
    assert [n.name for n in topo.nodes] == ["client", "client-2"]


def test_double_click_in_palette_adds_in_view_without_stacking(window, qtbot):
    card = window.palette_panel.cards[NodeKind.BROKER]
    qtbot.mouseDClick(card, Qt.MouseButton.LeftButton)
    qtbot.mouseDClick(card, Qt.MouseButton.LeftButton)
    first, second = window.doc.topology.nodes
    assert (first.name, second.name) == ("rabbit", "rabbit-2")
    assert first.position != second.position


def test_drag_from_handle_links_two_nodes(window):
    client, service = place_client_and_service(window)
    drag(window, handle_of(window, client), window.scene.node_item(service).pos())
    topo = window.doc.topology
    assert [lk.key for lk in topo.links] == ["client->service"]
    assert "client->service" in window.scene.links
    assert "Linked client → service" in window.statusBar().currentMessage()
    assert window.doc.undo_stack.undoText() == "Connect client → service"


def test_shift_drag_from_a_node_body_links_too(window):
    client, service = place_client_and_service(window)
    drag(window, window.scene.node_item(client).pos(), window.scene.node_item(service).pos(),
         modifiers=Qt.KeyboardModifier.ShiftModifier)
    assert window.doc.topology.has_link("client->service")


def test_a_first_link_to_a_broker_switches_the_client_to_amqp_in_one_undo_step(window):
    """Issue 16: the palette's client speaks zmq, so a newcomer's first client -> broker link was
    refused; a client with no link yet now takes the transport that fits, and says so."""
    drop_from_palette(window, NodeKind.CLIENT, (0, 0))
    drop_from_palette(window, NodeKind.BROKER, (300, 0))
    before = topofile.dumps(window.doc.topology)
    drag(window, handle_of(window, "client"), window.scene.node_item("rabbit").pos())
    assert window.doc.topology.has_link("client->rabbit")
    assert window.doc.topology.node("client").transport.value == "amqp"
    assert "switched 'client' to amqp" in window.statusBar().currentMessage()
    window.undo_action.trigger()  # one step takes both back
    assert topofile.dumps(window.doc.topology) == before


def test_invalid_link_is_refused_with_the_reason_in_the_status_bar(window):
    client, service = place_client_and_service(window)
    drag(window, handle_of(window, client), window.scene.node_item(service).pos())
    assert window.doc.topology.has_link(f"{client}->{service}")
    drop_from_palette(window, NodeKind.BROKER, (300, 300))
    before = topofile.dumps(window.doc.topology)
    # this client already speaks zmq to a service: no quick fix, a refusal with the reason
    drag(window, handle_of(window, client), window.scene.node_item("rabbit").pos())
    message = window.statusBar().currentMessage()
    assert f"Cannot link {client} → rabbit" in message
    assert "only amqp clients go through a broker" in message
    assert topofile.dumps(window.doc.topology) == before
    # a service sends on to services and brokers, never to a client: refused, and says why
    drag(window, window.scene.node_item(service).pos(), window.scene.node_item(client).pos(),
         modifiers=Qt.KeyboardModifier.ShiftModifier)
    assert f"cannot send to client '{client}'" in window.statusBar().currentMessage()
    assert len(window.doc.topology.links) == 1


def test_drag_from_a_service_makes_a_chain_and_refuses_a_cycle(window):
    """Service chains (issue 12): the drag uses validation's rule, which names the cycle."""
    for i in range(3):
        drop_from_palette(window, NodeKind.SERVICE, (300 * i, 200))
    a, b, c = "service", "service-2", "service-3"
    drag(window, handle_of(window, a), window.scene.node_item(b).pos())
    drag(window, handle_of(window, b), window.scene.node_item(c).pos())
    assert [link.key for link in window.doc.topology.links] == [f"{a}->{b}", f"{b}->{c}"]
    drag(window, handle_of(window, c), window.scene.node_item(a).pos())
    message = window.statusBar().currentMessage()
    assert "would close the cycle" in message and f"{c} -> {a} -> {b} -> {c}" in message
    assert len(window.doc.topology.links) == 2


def test_link_drag_hints_the_target_while_hovering(window):
    drop_from_palette(window, NodeKind.CLIENT, (0, 0))
    drop_from_palette(window, NodeKind.BROKER, (300, 0))
    drop_from_palette(window, NodeKind.SERVICE, (300, 300))
    scene = window.scene
    scene._start_link(scene.node_item("client"), handle_of(window, "client"))
    scene._drag_link(scene.node_item("rabbit").pos())
    assert scene.node_item("rabbit").link_hint is True  # allowed: the client will speak amqp
    assert "will speak amqp" in window.statusBar().currentMessage()
    scene._cancel_link()
    assert scene.node_item("rabbit").link_hint is None
    scene._start_link(scene.node_item("service"), scene.node_item("service").pos())
    scene._drag_link(scene.node_item("client").pos())  # a service never sends to a client
    assert scene.node_item("client").link_hint is False
    assert "Cannot link" in window.statusBar().currentMessage()
    scene._cancel_link()


def test_a_duplicate_link_is_refused(window):
    client, service = place_client_and_service(window)
    for _ in range(2):
        drag(window, handle_of(window, client), window.scene.node_item(service).pos())
    assert len(window.doc.topology.links) == 1
    assert "already linked" in window.statusBar().currentMessage()


def test_dragging_nodes_moves_them_on_the_grid_in_one_undo_step(window):
    client, service = place_client_and_service(window)
    depth = window.doc.undo_stack.count()
    drag(window, window.scene.node_item(client).pos(), QPointF(44, 133), steps=10)
    assert window.doc.topology.node(client).position == (40.0, 130.0)
    assert window.doc.undo_stack.count() == depth + 1
    window.undo_action.trigger()
    assert window.doc.topology.node(client).position == (0.0, 0.0)
    assert window.scene.node_item(client).pos() == QPointF(0, 0)


def test_link_follows_a_moved_node(window):
    client, service = place_client_and_service(window)
    drag(window, handle_of(window, client), window.scene.node_item(service).pos())
    line_before = window.scene.link_item("client->service").line()
    drag(window, window.scene.node_item(service).pos(), QPointF(300, 200))
    line_after = window.scene.link_item("client->service").line()
    assert line_after.p2().y() > line_before.p2().y() + 100


def test_rubber_band_selects_and_delete_removes_nodes_with_their_links(window):
    client, service = place_client_and_service(window)
    drop_from_palette(window, NodeKind.SERVICE, (300, 300))
    drag(window, handle_of(window, client), window.scene.node_item(service).pos())
    click(window, (150, 400))  # empty canvas: clears the selection
    drag(window, (-80, -80), (380, 80))  # a rubber band around the first two
    assert window.scene.selected_nodes() == [client, service]
    window.editor_actions.delete.trigger()
    assert [n.name for n in window.doc.topology.nodes] == ["service-2"]
    assert window.doc.topology.links == [] and window.scene.links == {}
    window.undo_action.trigger()
    assert [n.name for n in window.doc.topology.nodes] == [client, service, "service-2"]
    assert window.doc.topology.has_link("client->service")


def test_selecting_a_link_and_deleting_it_disconnects(window):
    client, service = place_client_and_service(window)
    drag(window, handle_of(window, client), window.scene.node_item(service).pos())
    click(window, window.scene.link_item("client->service").line().center())
    assert window.scene.selected_links() == ["client->service"]
    window.editor_actions.delete.trigger()
    assert window.doc.topology.links == []
    assert [n.name for n in window.doc.topology.nodes] == [client, service]


def test_arrow_keys_nudge_and_merge_into_one_step(window, qtbot):
    client, _ = place_client_and_service(window)
    window.scene.select([client])
    window.view.setFocus()
    depth = window.doc.undo_stack.count()
    for _ in range(3):
        qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Right)
    assert window.doc.topology.node(client).position == (30.0, 0.0)
    assert window.doc.undo_stack.count() == depth + 1


def test_auto_layout_puts_clients_brokers_services_in_columns(window, opened):
    opened("07")
    window.editor_actions.auto_layout.trigger()
    topo = window.doc.topology
    xs = {n.name: n.position[0] for n in topo.nodes}
    assert xs["orders"] < xs["rabbit"] < xs["fulfil-a"] == xs["fulfil-b"]
    assert window.doc.undo_stack.undoText() == "Auto-layout"


# -- the inspector -----------------------------------------------------------------------------

def test_inspector_edits_are_undoable_commands(window, qtbot):
    drop_from_palette(window, NodeKind.CLIENT, (0, 0))
    QApplication.processEvents()
    inspector = window.inspector
    assert inspector.target == ("node", "client")
    inspector.editors["rate"].widget.setValue(250)
    assert window.doc.topology.node("client").rate == 250
    qtbot.waitUntil(lambda: "rate" in inspector.editors)
    combo = inspector.editors["transport"].widget
    combo.setCurrentIndex(combo.findData(Transport.HTTP))
    assert window.doc.topology.node("client").transport is Transport.HTTP
    qtbot.waitUntil(lambda: "idempotency_key" in inspector.editors)  # relevance follows transport
    box = inspector.editors["idempotency_key"].widget
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert window.doc.topology.node("client").idempotency_key is False
    window.undo_action.trigger()
    window.undo_action.trigger()
    window.undo_action.trigger()
    node = window.doc.topology.node("client")
    assert (node.rate, node.transport, node.idempotency_key) == (100.0, Transport.ZMQ, True)


def test_inspector_validates_as_you_type_and_refuses_invalid_values(window, qtbot):
    drop_from_palette(window, NodeKind.CLIENT, (0, 0))
    drop_from_palette(window, NodeKind.SERVICE, (300, 0))
    window.scene.select(["client"])
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "client"))
    name = window.inspector.editors["name"].widget
    name.selectAll()
    qtbot.keyClicks(name, "9lives")
    error = window.inspector.errors["name"]
    assert error.isVisibleTo(window.inspector) and "starting with a letter" in error.text()
    assert "pattern" not in error.text()  # issue 16: never a raw regex
    qtbot.keyClick(name, Qt.Key.Key_Escape)  # issue 16: Escape takes back the half-typed value
    assert name.text() == "client" and not error.isVisibleTo(window.inspector)
    name.selectAll()
    qtbot.keyClicks(name, "9lives")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert window.doc.topology.has_node("client") and not window.doc.topology.has_node("9lives")
    name.selectAll()
    qtbot.keyClicks(name, "service")
    assert "already the name of another node" in error.text()
    # a count left unset with no duration: the client would never stop
    depth = window.doc.undo_stack.count()
    count = window.inspector.editors["count"].widget
    count.setValue(count.minimum())
    assert "a client needs a 'count' or a 'duration_s'" in window.inspector.errors["count"].text()
    assert window.doc.topology.node("client").count == 1000
    assert count.value() == 1000  # the editor shows the model again
    assert window.doc.undo_stack.count() == depth


def test_renaming_in_the_inspector_renames_links_and_references(window, qtbot, opened):
    opened("12")
    window.scene.select(["rabbit"])
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "rabbit"))
    name = window.inspector.editors["name"].widget
    name.selectAll()
    qtbot.keyClicks(name, "mq")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    topo = window.doc.topology
    assert [lk.key for lk in topo.links] == ["checkout->mq", "mq->payments"]
    assert [s.target for s in topo.scenario] == ["mq", "mq"]
    assert set(window.scene.links) == {"checkout->mq", "mq->payments"}
    window.undo_action.trigger()
    assert [lk.key for lk in window.doc.topology.links] == ["checkout->rabbit", "rabbit->payments"]


def test_inspector_edits_links_and_the_topology(window, qtbot, opened):
    opened("12")
    window.scene.select([], ["rabbit->payments"])
    qtbot.waitUntil(lambda: window.inspector.target == ("link", "rabbit->payments"))
    assert list(window.inspector.editors)[:2] == ["durable", "queue_type"]  # relevant first
    combo = window.inspector.editors["queue_type"].widget
    combo.setCurrentIndex(combo.findText("quorum"))
    assert window.doc.topology.link("rabbit->payments").queue_type.value == "quorum"
    window.scene.select([])
    qtbot.waitUntil(lambda: window.inspector.target == ("topology", ""))
    duration = window.inspector.editors["duration_s"].widget
    duration.setValue(20)
    assert window.doc.topology.duration_s == 20


def test_crash_settings_are_edited_as_one_nested_field(window, qtbot):
    drop_from_palette(window, NodeKind.SERVICE, (0, 0))
    qtbot.waitUntil(lambda: "crash" in window.inspector.editors)
    editor = window.inspector.editors["crash"]
    qtbot.mouseClick(editor.enabled, Qt.MouseButton.LeftButton)
    service = window.doc.topology.node("service")
    assert isinstance(service, ServiceNode) and service.crash is not None and service.crash.after == 1
    qtbot.waitUntil(lambda: window.inspector.editors.get("crash") is not editor)
    window.inspector.editors["crash"].after.setValue(5)
    assert window.doc.topology.node("service").crash.after == 5


def test_style_change_shows_in_the_node_subtitle(window, qtbot):
    drop_from_palette(window, NodeKind.CLIENT, (0, 0))
    qtbot.waitUntil(lambda: "style" in window.inspector.editors)
    combo = window.inspector.editors["style"].widget
    combo.setCurrentIndex(combo.findData(Style.PUBLISH_SUBSCRIBE))
    assert window.scene.node_item("client").subtitle == "zmq · publish-subscribe"


def test_typing_then_clicking_another_node_edits_the_first(window, qtbot):
    drop_from_palette(window, NodeKind.CLIENT, (0, 0))
    drop_from_palette(window, NodeKind.SERVICE, (300, 0))
    window.scene.select(["client"])
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "client"))
    name = window.inspector.editors["name"].widget
    name.setFocus()
    name.selectAll()
    qtbot.keyClicks(name, "shop")
    window.view.setFocus()  # what a click on the canvas does first
    click(window, window.scene.node_item("service").pos())
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "service"))
    assert [n.name for n in window.doc.topology.nodes] == ["shop", "service"]
    assert window.inspector.editors["name"].widget.text() == "service"

"""Link refusals (issue 16): shown where the link was drawn, whole, until the next action, with
the quick fixes that apply, each one undo step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from engines.topology.model import BrokerNode, ClientNode, Link, ServiceNode, Topology
from engines.topology.vocabulary import Style, Transport
from labgui.canvas.link_fixes import fixes
from tests.gui.conftest import drag, handle_of


def lab(*nodes, links=()) -> Topology:
    placed = [n.model_copy(update={"position": (i * 220.0, 0.0)}) for i, n in enumerate(nodes)]
    return Topology(name="t", nodes=placed, links=[Link(source=a, target=b) for a, b in links])


def labels(window, source, target) -> list[str]:
    return [f.label for f in fixes(window.doc, source, target)]


def test_a_link_drawn_backwards_is_refused_in_a_callout_whose_fix_links_it_the_right_way(window, qtbot):
    window.doc.replace(lab(ClientNode(name="shop"), ServiceNode(name="orders")))
    QApplication.processEvents()
    callout = window.refusal_callout
    drag(window, handle_of(window, "orders"), window.scene.nodes["shop"].pos())
    assert callout.isVisible()
    reason = callout.reason.text()
    assert "a service replies to its caller on the link it was called on" in reason  # whole, not cut
    assert reason.endswith("sends on to a service or a broker.")
    # it stands beside the node the link was released on, inside the canvas
    shop = window.view.mapFromScene(window.scene.nodes["shop"].pos())
    assert window.view.viewport().rect().contains(callout.geometry())
    assert 0 < callout.y() - shop.y() < 120 and callout.x() < shop.x() < callout.x() + callout.width()
    [button] = callout.fix_buttons
    assert button.text() == "Quick fix: Link 'shop' → 'orders' instead"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert [lk.key for lk in window.doc.topology.links] == ["shop->orders"]
    assert not callout.isVisible()
    window.doc.undo_stack.undo()
    assert window.doc.topology.links == []


def test_the_callout_stays_until_escape_or_the_next_action(window, qtbot):
    window.doc.replace(lab(ClientNode(name="a"), ClientNode(name="b")))
    QApplication.processEvents()
    callout = window.refusal_callout
    window.scene.connect_nodes("a", "b")
    assert callout.isVisible() and callout.fix_buttons == []  # no obvious fix: the reason alone
    assert "a client sends to a service or a broker" in callout.reason.text().lower()
    qtbot.wait(50)
    assert callout.isVisible()  # no timer takes it away
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Escape)
    assert not callout.isVisible()
    window.scene.connect_nodes("a", "b")
    assert callout.isVisible()
    drag(window, (600, 300), (610, 310))  # a click on the canvas is the next action
    assert not callout.isVisible()
    window.scene.connect_nodes("a", "b")
    window.annotate.note.trigger()  # so is any edit
    assert not callout.isVisible()


def test_an_amqp_client_drawn_to_a_service_goes_through_its_broker(window, qtbot):
    window.doc.replace(lab(ClientNode(name="c", transport=Transport.AMQP), BrokerNode(name="rabbit"),
                           ServiceNode(name="s"), links=[("c", "rabbit")]))
    QApplication.processEvents()
    window.scene.connect_nodes("c", "s")
    callout = window.refusal_callout
    texts = [b.text() for b in callout.fix_buttons]
    # switching c to zmq or http would leave its broker link refused: not offered
    assert texts == ["Quick fix: Link broker 'rabbit' → 's' ('c' reaches it through the broker)"]
    callout.fix_buttons[0].click()
    assert [lk.key for lk in window.doc.topology.links] == ["c->rabbit", "rabbit->s"]


def test_every_refusal_kind_gets_the_obvious_fix_or_none(window):
    amqp_pubsub = ClientNode(name="p", transport=Transport.AMQP, style=Style.PUBLISH_SUBSCRIBE)
    window.doc.replace(lab(amqp_pubsub, ServiceNode(name="s")))
    # the client has no broker: put one between, or speak a brokerless transport (http cannot
    # publish-subscribe: it changes the style too)
    assert labels(window, "p", "s") == [
        "Switch 'p' to zmq and link p → s",
        "Switch 'p' to http and its style to request-response and link p → s",
        "Add a broker between 'p' and 's'"]
    fix = fixes(window.doc, "p", "s")[1]
    fix.apply()
    client = window.doc.topology.node("p")
    assert client.transport is Transport.HTTP and client.style is Style.REQUEST_RESPONSE
    assert window.doc.topology.has_link("p->s")
    window.doc.undo_stack.undo()  # one step takes back style, transport and link
    assert window.doc.topology.node("p") == amqp_pubsub.model_copy(update={"position": (0.0, 0.0)})
    assert not window.doc.topology.links
    fixes(window.doc, "p", "s")[2].apply()
    assert [lk.key for lk in window.doc.topology.links] == ["p->broker", "broker->s"]
    window.doc.undo_stack.undo()
    assert [n.name for n in window.doc.topology.nodes] == ["p", "s"]
    # a broker delivering to a zmq client: the client sends to the broker, over amqp
    window.doc.replace(lab(ClientNode(name="c"), BrokerNode(name="b"), ServiceNode(name="s"),
                           links=[("c", "s")]))
    assert labels(window, "b", "c") == []  # amqp would refuse its link to s: no fix
    window.doc.replace(lab(ClientNode(name="c", transport=Transport.AMQP), BrokerNode(name="b")))
    assert labels(window, "b", "c") == ["Link 'c' → 'b' instead"]
    # no obvious fix: itself, client to client, broker to broker, a cycle, a link already there
    window.doc.replace(lab(ClientNode(name="c"), ClientNode(name="d"), BrokerNode(name="b"),
                           BrokerNode(name="b2"), ServiceNode(name="s"), ServiceNode(name="t"),
                           links=[("c", "s"), ("s", "t")]))
    for source, target in (("c", "c"), ("c", "d"), ("b", "b2"), ("t", "s"), ("c", "s")):
        assert labels(window, source, target) == [], (source, target)


@pytest.mark.parametrize("size", [(1024, 700)])
def test_the_callout_stays_inside_a_small_window(window, size):
    window.resize(*size)
    window.doc.replace(lab(ClientNode(name="a"), ClientNode(name="b")))
    window.view.fit_to_view()
    QApplication.processEvents()
    window.scene.connect_nodes("a", "b")
    assert window.view.viewport().rect().contains(window.refusal_callout.geometry())

"""Each kind of bad file is refused with a message naming file, line, node or link, and the fix."""

from __future__ import annotations

import pytest

from engines.topology import topofile
from engines.topology.problems import TopologyError

GOOD_HEAD = """\
version: 1
name: case
nodes:
  - name: shop
    kind: client
    transport: http
    count: 10
  - name: stock
    kind: service
"""


def problems_of(path) -> list[str]:
    with pytest.raises(TopologyError) as info:
        topofile.load(path)
    return [str(p) for p in info.value.errors]


def test_bad_field_names_line_node_and_suggestion(write_topology):
    path = write_topology(GOOD_HEAD.replace("count: 10", "cont: 10") + "links:\n  - {from: shop, to: stock}\n")
    [message] = problems_of(path)
    assert message.startswith(f"{path}:7: error: node 'shop': unknown field 'cont'")
    assert "did you mean 'count'?" in message


def test_wrong_type_names_field_and_value(write_topology):
    path = write_topology(GOOD_HEAD.replace("count: 10", "rate: fast") + "links:\n  - {from: shop, to: stock}\n")
    [message] = problems_of(path)
    assert f"{path}:7:" in message and "node 'shop'" in message
    assert "field 'rate'" in message and "'fast'" in message and "number" in message


def test_unknown_node_in_link(write_topology):
    path = write_topology(GOOD_HEAD + "links:\n  - from: shop\n    to: stok\n")
    messages = problems_of(path)
    assert any(f"{path}:12:" in m and "link 'shop->stok'" in m and "unknown node 'stok'" in m
               and "did you mean 'stock'?" in m for m in messages), messages


def test_pubsub_over_http_is_refused_with_the_transports_that_can(write_topology):
    text = GOOD_HEAD.replace("transport: http", "style: publish-subscribe\n    transport: http")
    path = write_topology(text + "links:\n  - {from: shop, to: stock}\n")
    [message] = problems_of(path)
    assert f"{path}:6:" in message and "node 'shop'" in message
    assert "http cannot carry publish-subscribe" in message and "zmq, amqp" in message


def test_client_with_no_target(write_topology):
    path = write_topology(GOOD_HEAD + "links: []\n")
    messages = problems_of(path)
    assert any(f"{path}:4:" in m and "node 'shop'" in m and "no target" in m for m in messages)
    assert any("node 'stock'" in m and "nobody can reach" in m for m in messages)


def test_unreachable_service(write_topology):
    text = GOOD_HEAD + "  - name: orphan\n    kind: service\nlinks:\n  - {from: shop, to: stock}\n"
    path = write_topology(text)
    [message] = problems_of(path)
    assert f"{path}:10:" in message and "node 'orphan'" in message and "nobody can reach" in message


def test_duplicate_node_names(write_topology):
    text = GOOD_HEAD + "  - name: stock\n    kind: service\nlinks:\n  - {from: shop, to: stock}\n"
    path = write_topology(text)
    [message] = problems_of(path)
    assert f"{path}:10:" in message and "'stock' is used by another node" in message


def test_port_clash(write_topology):
    text = GOOD_HEAD.replace("kind: service", "kind: service\n    port: 7000")
    text = text.replace("count: 10", "count: 10\n    port: 7000")
    path = write_topology(text + "links:\n  - {from: shop, to: stock}\n")
    [message] = problems_of(path)
    assert "port 7000 is already taken by node 'shop'" in message and "node 'stock'" in message


@pytest.mark.parametrize("version", ["2", "'1'", "0"])
def test_unsupported_version(write_topology, version):
    path = write_topology(GOOD_HEAD.replace("version: 1", f"version: {version}") + "links: []\n")
    [message] = problems_of(path)
    assert f"{path}:1:" in message and "is not supported" in message and "reads version 1" in message


def test_missing_version(write_topology):
    path = write_topology(GOOD_HEAD.replace("version: 1\n", "") + "links: []\n")
    [message] = problems_of(path)
    assert "no 'version' field" in message and "version: 1" in message


def test_yaml_syntax_error_has_line(write_topology):
    path = write_topology(GOOD_HEAD + "links:\n  - from: [shop\n")
    [message] = problems_of(path)
    assert f"{path}:" in message and "YAML syntax" in message


def test_amqp_client_straight_to_service_is_refused(write_topology):
    path = write_topology(GOOD_HEAD.replace("http", "amqp") + "links:\n  - {from: shop, to: stock}\n")
    messages = problems_of(path)
    assert any("link 'shop->stock'" in m and "needs a broker" in m for m in messages)


def test_service_cannot_send_to_a_client(write_topology):
    """A service sends on to services or brokers (a chain); it answers a client only by replying."""
    path = write_topology(GOOD_HEAD + "links:\n  - {from: shop, to: stock}\n  - {from: stock, to: shop}\n")
    messages = problems_of(path)
    assert any("link 'stock->shop'" in m and "cannot send to client 'shop'" in m for m in messages)


def test_bad_expectation_has_its_line(write_topology):
    path = write_topology(GOOD_HEAD + "links:\n  - {from: shop, to: stock}\nexpectations:\n  - lots == 0\n")
    [message] = problems_of(path)
    assert f"{path}:13:" in message and "unknown counter 'lots'" in message and "lost" in message


def test_scenario_on_unknown_node(write_topology):
    text = GOOD_HEAD + "links:\n  - {from: shop, to: stock}\nscenario:\n  - {action: kill, target: stok, at_s: 1}\n"
    [message] = problems_of(write_topology(text))
    assert "no node 'stok'" in message and "did you mean 'stock'?" in message


def test_missing_file_and_non_mapping(tmp_path, write_topology):
    assert "no such file" in problems_of(tmp_path / "nope.topo.yaml")[0]
    assert "is a mapping" in problems_of(write_topology("- just\n- a list\n"))[0]


def test_several_channels_need_a_choice(write_topology):
    text = """\
    version: 1
    name: case
    nodes:
      - {name: a, kind: client, transport: amqp, style: notification}
      - {name: b, kind: client, transport: amqp, style: notification}
      - {name: mq, kind: broker}
      - {name: s, kind: service}
    links:
      - {from: a, to: mq}
      - {from: b, to: mq}
      - {from: mq, to: s}
    """
    [message] = problems_of(write_topology(text))
    assert "link 'mq->s'" in message and "several channels (a, b)" in message

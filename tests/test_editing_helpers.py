"""The Qt-free helpers behind the editor: auto-layout, renaming with references, fragments, drafts."""

from __future__ import annotations

import pytest

from engines.topology import drafts, layout, refactor, topofile
from engines.topology.model import ClientNode, Link, ServiceNode, Topology
from engines.topology.problems import TopologyError
from tests.conftest import EXAMPLES


def example(prefix: str) -> Topology:
    return topofile.load(next(p for p in EXAMPLES if p.name.startswith(prefix))).topology


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name.split("-")[0])
def test_layout_puts_kinds_in_columns_without_overlaps(path):
    topo = topofile.load(path).topology
    positions = layout.columns(topo)
    assert set(positions) == {n.name for n in topo.nodes}
    column = {"client": 0, "broker": 1, "service": 2 if topo.brokers() else 1}
    for node in topo.nodes:
        assert positions[node.name][0] == column[node.kind.value] * layout.COLUMN_GAP
    spots = list(positions.values())
    assert len(set(spots)) == len(spots)
    assert all(x % layout.GRID == 0 and y % layout.GRID == 0 for x, y in spots)


def test_layout_orders_rows_by_what_feeds_them_and_stacks_separate_parts():
    topo = Topology(name="t", nodes=[
        ClientNode(name="a", position=(0, 500)), ClientNode(name="b", position=(0, 0)),
        ServiceNode(name="sa"), ServiceNode(name="sb"), ServiceNode(name="alone", position=(0, 900))],
        links=[Link(source="a", target="sa"), Link(source="b", target="sb")])
    pos = layout.columns(topo)
    assert pos["b"][1] < pos["a"][1]  # parts keep their vertical order
    assert pos["sa"][1] == pos["a"][1] and pos["sb"][1] == pos["b"][1]  # straight links
    assert pos["alone"][1] > max(pos["a"][1], pos["b"][1])


def test_rename_rewrites_links_scenario_and_expectations():
    topo = example("12")
    topo.expectations.append("rabbit->payments.lost == 0")
    topo.expectations.append("rabbit.errors == 0")
    links, scenario, expectations = refactor.rename_references(topo, "rabbit", "mq")
    assert [lk.key for lk in links] == ["checkout->mq", "mq->payments"]
    assert [s.target for s in scenario] == ["mq", "mq"]
    assert expectations[-2:] == ["mq->payments.lost == 0", "mq.errors == 0"]
    assert expectations[:3] == topo.expectations[:3]  # counters named like nodes are left alone


def test_rename_link_references():
    topo = example("12")
    topo.expectations.append("rabbit->payments.processed > 0")
    scenario, expectations = refactor.rename_link_references(topo, "rabbit->payments", "orders")
    assert expectations[-1] == "orders.processed > 0"
    assert scenario == topo.scenario


def test_renamed_copy_keeps_inner_links_only_and_frees_ports():
    topo = example("12")
    topo.nodes[2] = topo.nodes[2].model_copy(update={"port": 7000})
    nodes, links = refactor.fragment(topo, ["rabbit", "payments"])
    assert [lk.key for lk in links] == ["rabbit->payments"]
    copies, new_links = refactor.renamed_copy(topo, nodes, links, (40, 40))
    assert [n.name for n in copies] == ["rabbit-2", "payments-2"]
    assert copies[1].port is None and copies[1].position == (600.0, 140.0)
    assert [lk.key for lk in new_links] == ["rabbit-2->payments-2"]
    again, _ = refactor.renamed_copy(topo.model_copy(update={"nodes": topo.nodes + copies}), copies, [], (0, 0))
    assert [n.name for n in again] == ["rabbit-3", "payments-3"]


def test_drafts_open_semantic_errors_but_not_broken_files(tmp_path):
    draft = tmp_path / "d.topo.yaml"
    draft.write_text("version: 1\nname: d\nnodes:\n  - {name: c, kind: client, transport: http,"
                     " style: publish-subscribe}\n")
    with pytest.raises(TopologyError):
        topofile.load(draft)
    loaded = drafts.load_draft(draft)
    assert loaded.topology.nodes[0].name == "c"
    assert any("http cannot carry publish-subscribe" in p.message and p.line == 4 for p in loaded.warnings)
    broken = tmp_path / "b.topo.yaml"
    broken.write_text("version: 1\nname: b\nnodes:\n  - {name: c, kind: client, rate: -1}\n")
    with pytest.raises(TopologyError):
        drafts.load_draft(broken)
    with pytest.raises(TopologyError):
        drafts.loads_draft("version: 2\nname: x\n")


@pytest.mark.parametrize("shape", ["pairs", "fan-in"])
def test_layout_of_fifty_nodes_is_about_as_wide_as_it_is_tall(shape):
    """Issue 16, defect 10: 50 nodes used to be two columns, 14 % zoom in a 16:10 window."""
    if shape == "pairs":  # 25 separate client -> service pairs
        nodes = [ClientNode(name=f"c{i}") for i in range(25)] + [ServiceNode(name=f"s{i}") for i in range(25)]
        links = [Link(source=f"c{i}", target=f"s{i}") for i in range(25)]
    else:  # 45 clients feeding 5 services
        nodes = [ClientNode(name=f"c{i}") for i in range(45)] + [ServiceNode(name=f"s{i}") for i in range(5)]
        links = [Link(source=f"c{i}", target=f"s{i % 5}") for i in range(45)]
    pos = layout.columns(Topology(name="t", nodes=nodes, links=links))
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    width, height = max(xs) - min(xs) + 200, max(ys) - min(ys) + 140
    assert 0.6 < width / height < 4, (width, height)
    assert len(set(pos.values())) == 50
    for link in links:  # messages still flow left to right
        assert pos[link.source][0] < pos[link.target][0]

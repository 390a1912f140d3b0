"""Every example validates, and load -> save -> load gives an equal model and the same bytes."""

from __future__ import annotations

import pytest

from engines.cli import main as cli_main
from engines.topology import topofile
from tests.conftest import EXAMPLES

STYLES_COVERED = {
    "request-response", "async-request-response", "notification",
    "publish-subscribe", "publish-async-responses",
}


def test_examples_exist_for_every_style_and_transport():
    seen = set()
    for path in EXAMPLES:
        topo = topofile.load(path).topology
        assert topo.description, f"{path.name} has no description"
        assert topo.expectations, f"{path.name} has no expectations"
        seen |= {(c.style.value, c.transport.value) for c in topo.clients()}
    assert {style for style, _ in seen} == STYLES_COVERED
    assert {("request-response", t) for t in ("http", "zmq", "amqp")} <= seen
    assert {("notification", "zmq"), ("notification", "amqp")} <= seen
    assert {("publish-subscribe", "zmq"), ("publish-subscribe", "amqp")} <= seen


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_round_trip_is_equal_and_byte_identical(path, tmp_path):
    first = topofile.load(path).topology
    copy = tmp_path / path.name
    topofile.save(first, copy)
    assert topofile.load(copy).topology == first
    assert copy.read_text() == path.read_text()


def test_cli_validate_examples_exit_zero(capsys):
    assert cli_main(["validate", *map(str, EXAMPLES)]) == 0
    assert capsys.readouterr().out.count(": ok (") == len(EXAMPLES)


def test_cli_validate_bad_file_exits_one_with_message(write_topology, capsys):
    bad = write_topology("version: 1\nname: x\nnodes:\n  - {name: a, kind: client, rate: -1}\n")
    assert cli_main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:4: error: node 'a': field 'rate'" in err and "greater than or equal to 0" in err


def test_a_command_imports_only_its_own_module_and_help_lists_them_all():
    """`labgui validate` starts in half the time when it does not import run, trace, explain..."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    probe = ("import sys; from engines.cli import main; main(['validate', sys.argv[1]]); "
             "print(sorted(m for m in sys.modules if m.startswith('engines.cli.')))")
    out = subprocess.run([sys.executable, "-c", probe, str(EXAMPLES[0])], capture_output=True, text=True,
                         cwd=ROOT, timeout=60, check=True).stdout
    assert out.strip().splitlines()[-1] == "['engines.cli.validate']"
    helped = subprocess.run([sys.executable, "-c", "from engines.cli import main; main(['--help'])"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60).stdout
    assert all(name in helped for name in ("validate", "run", "test", "report", "trace", "compare", "explain"))

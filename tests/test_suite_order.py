"""The suite's own order (conftest.py): longest files first, heavy ones spaced out."""

from __future__ import annotations

from conftest import HEAVY_GAP, longest_first


def test_longest_first_and_no_two_heavy_files_side_by_side() -> None:
    files = {"a": 100.0, "b": 90.0, "c": 80.0, "d": 30.0, "e": 20.0, "f": 10.0, "g": 5.0, "h": 1.0,
             "i": 0.5, "j": 0.2}
    order = longest_first(files)
    assert sorted(order) == sorted(files), "every file once"
    assert order[:2] == ["a", "d"], "the longest first; the next heavy one waits"
    heavy = [i for i, f in enumerate(order) if files[f] >= 60]
    assert all(b - a > HEAVY_GAP for a, b in zip(heavy, heavy[1:], strict=False))
    assert order.index("b") < order.index("c"), "heavy ones keep their own order"


def test_heavy_files_left_waiting_go_last() -> None:
    assert longest_first({"a": 100.0, "b": 90.0, "d": 30.0}) == ["a", "d", "b"]


def test_light_files_keep_longest_first() -> None:
    files = {"x": 3.0, "y": 9.0, "z": 1.0}
    assert longest_first(files) == ["y", "x", "z"]

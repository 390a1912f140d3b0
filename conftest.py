"""Suite-wide ordering: the longest test files first, so the four workers end together.

pytest-xdist hands out whole files (`--dist loadfile`) in collection order
(`--no-loadscope-reorder`; its own reorder puts the files with most tests
first, which left the one-item topology runs of 30 to 100 s for the end and
one worker running alone). Each file's seconds come from a measured run
(`tests/file_seconds.json`, wall time on the 2-core machine); a file not in it
counts a second a test. The heaviest files (RabbitMQ clusters, above
`HEAVY_S`) are spaced out so that no two of them boot their members at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FILE_SECONDS = Path(__file__).parent / "tests" / "file_seconds.json"
HEAVY_S = 60.0
HEAVY_GAP = 3  # files between two heavy ones: four workers, so they rarely overlap


def _file_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def longest_first(files: dict[str, float]) -> list[str]:
    """Files by their seconds, longest first; a heavy file waits until HEAVY_GAP others passed."""
    ordered = sorted(files, key=lambda f: -files[f])
    out: list[str] = []
    waiting: list[str] = []

    def heavy_is_recent() -> bool:
        return any(files[f] >= HEAVY_S for f in out[-HEAVY_GAP:])

    for name in ordered:
        if waiting and not heavy_is_recent():
            out.append(waiting.pop(0))
        if files[name] >= HEAVY_S and heavy_is_recent():
            waiting.append(name)
        else:
            out.append(name)
    return out + waiting


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        measured: dict[str, float] = json.loads(FILE_SECONDS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # the order is only an optimisation
    by_file: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_file.setdefault(_file_of(item), []).append(item)
    seconds = {f: float(measured.get(f, len(group))) for f, group in by_file.items()}
    items[:] = [item for f in longest_first(seconds) for item in by_file[f]]

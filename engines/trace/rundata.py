"""The pieces of a run directory the traces need, each read with a clear error when it is bad."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class RunDirError(Exception):
    """A run directory that is missing, truncated or corrupt; the message says which file and why."""


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunDirError(f"{path.parent}: no {path.name} ({what}); is this a run directory?") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path}: cannot read {what}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{path}: {what} is not valid JSON (line {exc.lineno}, column {exc.colno}); "
                          "the file is truncated or corrupt") from None


def check_run_dir(run_dir: Path) -> Path:
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise RunDirError(f"{run_dir}: no such run directory")
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: not a directory (give the run directory, not a file in it)")
    if not (run_dir / "topology.topo.yaml").exists() and not (run_dir / "events.jsonl").exists():
        raise RunDirError(f"{run_dir}: no topology.topo.yaml or events.jsonl; this is not a run directory")
    return run_dir


def clock_zero_ns(run_dir: Path) -> int | None:
    """The run's clock zero in time.monotonic_ns(), or None for a run made before clock.json existed."""
    path = Path(run_dir) / "clock.json"
    if not path.exists():
        return None
    data = read_json(path, "the run's clock")
    try:
        return int(data["t0_monotonic_ns"])
    except (KeyError, TypeError, ValueError):
        raise RunDirError(f"{path}: no t0_monotonic_ns; the file is corrupt") from None


def origin_ns(run_dir: Path) -> int:
    """Where the run clock starts (the clients' start) after the files' zero, in ns.

    Every file of a run keeps `t` since the run folder opened; the run-started
    event's `origin_t` converts, so stories tell the same times as the report,
    the plots and the timeline. 0 for a run without that event.
    """
    path = Path(run_dir) / "events.jsonl"
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if '"run-started"' not in line:
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn last line
                if event.get("event") == "run-started" and event.get("origin_t") is not None:
                    return round(float(event["origin_t"]) * 1e9)
    except (OSError, UnicodeDecodeError, TypeError, ValueError):
        return 0
    return 0


def client_indexes(run_dir: Path) -> dict[str, int]:
    """Client name -> index in message IDs, from any node's spec.json."""
    nodes = Path(run_dir) / "nodes"
    for spec in sorted(nodes.glob("*/spec.json")) if nodes.is_dir() else []:
        try:
            data = json.loads(spec.read_text(encoding="utf-8"))
            return {str(k): int(v) for k, v in data["clients"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    raise RunDirError(f"{run_dir}: no readable nodes/*/spec.json; the run never started its nodes "
                      "or the directory is damaged")


def node_dirs(run_dir: Path) -> list[Path]:
    nodes = Path(run_dir) / "nodes"
    return sorted(p for p in nodes.iterdir() if p.is_dir()) if nodes.is_dir() else []

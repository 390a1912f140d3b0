"""Where a run leaves its files: a fresh directory per run under the user's data directory.

Layout:
    topology.topo.yaml   the topology as run
    events.jsonl         node states and scenario actions, one JSON object a line
    metrics.csv          time series sampled ten times a second, one row per node
    summary.json         every counter, in total, per node and per link
    pids.json            every process the run started (for leak checks)
    nodes/<name>/        spec.json, node.log, records.bin (clients), service.db (services)
    stores/<store>.db    the database instances of one service share (`store:`)
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import platformdirs


def default_root() -> Path:
    return Path(platformdirs.user_data_dir("topology-lab")) / "runs"


def fresh_dir(root: str | Path, stem: str) -> Path:
    """`root/stem`, or `root/stem-1`, `-2`... the first that does not exist yet (created)."""
    for i in range(10000):
        path = Path(root) / (stem if i == 0 else f"{stem}-{i}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot make a run directory under {root}")


def new_run_dir(topology_name: str, out: str | Path | None = None, *,
                root: str | Path | None = None) -> Path:
    """`out` itself when given (created; must be empty or new), else a fresh timestamped
    folder under `root` (default: the user data directory), so every rerun gets its own."""
    if out is not None:
        path = Path(out)
        if path.exists() and any(path.iterdir()):
            raise FileExistsError(f"{path} is not empty; give a new or empty directory")
        path.mkdir(parents=True, exist_ok=True)
        return path
    root = Path(root) if root is not None else default_root()
    return fresh_dir(root, f"{time.strftime('%Y%m%d-%H%M%S')}-{re.sub(r'[^A-Za-z0-9_-]', '_', topology_name)}")

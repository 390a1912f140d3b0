"""Run a design's transport variants one after the other (engines.replay.variants), for `compare`."""

from __future__ import annotations

import time
from pathlib import Path

from engines.replay.compare import RunSide, open_side
from engines.replay.variants import derive
from engines.topology import topofile
from engines.topology.problems import TopologyError
from engines.trace.rundata import RunDirError


def run_variants(path: Path, transports: list[str], runs: str | None) -> tuple[list[RunSide], list[str], Path]:
    """(the runs that ran, 'transport: why not' for the refused ones, the directory they went to)."""
    from engines.runtime import RunError, Supervisor

    try:
        design = topofile.load(path).topology
    except TopologyError as exc:
        raise RunDirError(f"{path}: {exc}") from None
    root = Path(runs) if runs else Path(f"compare-{design.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    root.mkdir(parents=True, exist_ok=True)
    sides: list[RunSide] = []
    refused: list[str] = []
    for transport in [t.strip() for t in transports if t.strip()]:
        variant = derive(design, transport)
        if variant.topology is None:
            refused.append(f"{transport}: {variant.refused}")
            continue
        run_dir = root / transport
        print(f"running {variant.topology.name} ...", flush=True)
        sup = Supervisor(variant.topology, run_dir)
        try:
            sup.run()
        except RunError as exc:
            refused.append(f"{transport}: the run failed: {exc}")
            continue
        finally:
            sup.close()
        sides.append(open_side(run_dir, transport))
    return sides, refused, root

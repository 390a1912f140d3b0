"""How much of each message's story a run records (engines.nodes.tracefile), decided before it starts.

Every message is traced while the clients' total rate is at most
ALL_MAX_RATE messages a second; above it (or at rate 0, as fast as possible)
only the unusual ones (retried, timed out, nacked, in doubt, redelivered,
refused as duplicates, errors) and a uniform sample of one in SAMPLE, plus the
clients' sends and the services' commits as range records, which cost one
record per batch. `LAB_TRACE=all|anomalies|off` in the environment overrides
the choice (the benchmarks use it to measure the cost).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engines.ledger import reconcile as ledger
from engines.topology.model import Topology

ALL_MAX_RATE = 2000.0
SAMPLE = 100
ENV = "LAB_TRACE"


def settings(topology: Topology) -> dict[str, Any]:
    """{"mode": "all" | "anomalies" | "off", "sample": SAMPLE} for every node of this run."""
    forced = os.environ.get(ENV, "").strip().lower()
    if forced in ("all", "anomalies", "off"):
        return {"mode": forced, "sample": SAMPLE}
    rates = [c.rate for c in topology.clients()]
    full = any(r <= 0 for r in rates) or sum(rates) > ALL_MAX_RATE
    return {"mode": "anomalies" if full else "all", "sample": SAMPLE}


def record_traces(run_dir: Path, books: list[ledger.ClientBook],
                  services: Mapping[str, ledger.ServiceBook]) -> None:
    """At the end of a run: merge the nodes' traces (trace.npy) and list each counter's IDs (ids.json).

    Never fails the run: a problem here is logged and the summary is written anyway.
    """
    from engines.trace import ids, merge

    try:
        ids.write(run_dir, ids.compute(books, services, run_dir))
        merge.merge(run_dir)
    except OSError as exc:  # e.g. a full disk: said once by the run, not as a traceback here
        logging.getLogger(__name__).warning("message traces of %s not written: %s", run_dir,
                                            exc.strerror or exc)
    except Exception:  # noqa: BLE001 - the counters matter more than their stories
        logging.getLogger(__name__).exception("could not merge the message traces of %s", run_dir)

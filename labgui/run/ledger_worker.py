"""`python -m labgui.run.ledger_worker`: the live ledger's passes, in a process of their own.

A pass reads every row the services committed; at full rate that is millions
of rows, and reading them in the GUI's process would hold its interpreter
lock for seconds. Here it costs the window nothing. Protocol, pickles over
the pipes: the GUI sends the job once ({"topology", "plan", "node_dirs"}),
then one request per pass (the set of SIGKILLed nodes); the worker answers
each with {"cost_s", "result"} where result is `engines.ledger.reconcile.compute`'s
output (with `dropped`: engines.ledger.live) or None. End of input (the GUI stopped it, or died) ends the worker.
No Qt here.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from engines.ledger import live
from engines.ledger import reconcile as ledger
from engines.runtime.summary import client_books, service_books

NICE = 10  # below the window (the nodes run in groups of their own, see run_session.py)


def compute(job: dict[str, Any], sigkilled: set[str]) -> dict[str, Any] | None:
    """One pass, with the supervisor's fields `client_books` reads, rebuilt from the job."""
    topology, node_dirs = job["topology"], job["node_dirs"]
    view = SimpleNamespace(
        topology=topology, plan=job["plan"], sigkilled=sigkilled,
        table=SimpleNamespace(nodes={name: SimpleNamespace(node_dir=Path(d)) for name, d in node_dirs.items()}),
    )
    try:
        services = service_books(topology, node_dirs)
        books = client_books(view)
        result = ledger.compute(books, services)
        in_order = {c.name for c in topology.clients() if c.transport.value == "zmq" and c.style.one_to_many}
        result["dropped"] = live.dropped(books, services, in_order)
        return result
    except Exception:  # noqa: BLE001 - a file half written at start; the next pass reads it
        return None


def main() -> int:
    try:
        os.nice(NICE)
    except OSError:
        pass
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        job = pickle.load(stdin)
        while True:
            sigkilled = pickle.load(stdin)
            began = time.monotonic()
            result = compute(job, set(sigkilled))
            pickle.dump({"cost_s": time.monotonic() - began, "result": result}, stdout)
            stdout.flush()
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        return 0


if __name__ == "__main__":
    sys.exit(main())

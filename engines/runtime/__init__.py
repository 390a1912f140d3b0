"""The runtime: run a topology as real processes, control them, count every message.

    from engines.runtime import Supervisor, new_run_dir
    with Supervisor(topology, new_run_dir(topology.name)) as sup:
        summary = sup.run(duration=10)

See supervisor.py for the control API a GUI uses while a run goes on.

`Supervisor` is imported when first asked for: a process that needs one of
the runtime's small modules (the GUI's ledger worker reads `summary`) then
does not load the supervisor and everything it runs (half a second a process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engines.runtime.errors import RunError
from engines.runtime.rundir import new_run_dir

if TYPE_CHECKING:
    from engines.runtime.supervisor import Supervisor

__all__ = ["RunError", "Supervisor", "new_run_dir"]


def __getattr__(name: str) -> Any:
    if name == "Supervisor":
        from engines.runtime.supervisor import Supervisor

        return Supervisor
    raise AttributeError(f"module 'engines.runtime' has no attribute {name!r}")

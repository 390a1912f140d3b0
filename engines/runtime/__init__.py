"""The runtime: run a topology as real processes, control them, count every message.

    from engines.runtime import Supervisor, new_run_dir
    with Supervisor(topology, new_run_dir(topology.name)) as sup:
        summary = sup.run(duration=10)

See supervisor.py for the control API a GUI uses while a run goes on.
"""

from engines.runtime.errors import RunError
from engines.runtime.rundir import new_run_dir
from engines.runtime.supervisor import Supervisor

__all__ = ["RunError", "Supervisor", "new_run_dir"]

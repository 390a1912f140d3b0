"""A bare supervisor as a process (what an embedding program does): `python drive_supervisor.py FILE RUN_DIR SECONDS`.

The hygiene tests SIGKILL it at chosen moments; it never closes the run itself
before its time is up, so whatever is left is the reaper's business.
"""

from __future__ import annotations

import sys
from pathlib import Path

from engines.runtime import Supervisor
from engines.topology import topofile


def main(argv: list[str]) -> int:
    topology = topofile.load(argv[0]).topology
    with Supervisor(topology, Path(argv[1])) as sup:
        sup.run(duration=float(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

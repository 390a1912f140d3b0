"""Process and port hygiene: nothing of a run outlives it, no run takes another's port.

Light on purpose (psutil and the standard library only): the reaper runs as
its own small process and must start in a fraction of a second.
"""

# Every process a run starts (nodes, a managed broker and whatever beam forks) carries the
# run directory in this environment variable, so the reaper finds the orphans nothing else names.
RUN_MARK = "TOPOLOGY_LAB_RUN"

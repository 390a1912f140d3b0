"""Process and port hygiene: nothing of a run outlives it, no run takes another's port.

Light on purpose (psutil and the standard library only): the reaper runs as
its own small process and must start in a fraction of a second.
"""

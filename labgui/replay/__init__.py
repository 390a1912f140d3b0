"""Replay mode: a finished run directory shown as it was at any time t (File > Open Run...,
`labgui replay RUN_DIR`), with the run view's own canvas, counters and plots."""

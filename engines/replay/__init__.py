"""A finished run as it was at any time t: the files a run leaves, indexed by time (no Qt).

engines.replay.recording reads a run directory (made by the GUI, `labgui
run`, `labgui test` or the pytest plugin) and answers "what did the lab show
at t?": node states, each node's counters, link counts and rates, queue
depths, the events so far, the previous/next event or fault. labgui.replay
draws it with the run view's own canvas and plots; engines.replay.compare
sets several runs side by side.
"""

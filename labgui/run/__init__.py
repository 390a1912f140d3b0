"""The run view: Run/Stop on worker threads, the live canvas, dashboards, plots, counters, logs, results.

May import `engines` (runtime included), `labgui.canvas`, `labgui.editor`
(dialogs) and `labgui.document`; never `labgui.app`: the window hands the run
view what it needs.
"""

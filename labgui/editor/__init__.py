"""The editor's panels around the canvas: palette, inspector and its fields, problems, clipboard, dialogs.

May import `labgui.canvas`, `labgui.document` and `engines.topology`; never
the runtime (a run is the run view's business).
"""

"""The editor's model: the document that wraps a Topology and the undoable commands that alone write it.

Like orange-canvas-core's `Scheme` and `commands.py`: the document emits
signals, never draws. May import `engines.topology` and QtCore only.
"""

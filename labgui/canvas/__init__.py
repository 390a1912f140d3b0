"""The canvas: a scene that mirrors the document's signals into node and link items, the view, the theme.

The scene turns gestures into commands (`labgui.document`) and never writes
the topology itself. May import `labgui.document` and `engines.topology`;
never the runtime.
"""

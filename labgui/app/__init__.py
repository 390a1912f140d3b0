"""The application: the `labgui` command, the main window that wires the parts, actions, files.

May import every other `labgui` package and `engines`. Nothing below it
imports it: the run view and the editor receive what they need from the
window instead.
"""

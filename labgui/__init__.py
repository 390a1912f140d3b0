"""Topology Lab's Qt GUI: editor, run view, dashboards. Depends on engines, never the reverse."""

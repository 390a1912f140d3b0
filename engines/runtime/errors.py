"""The runtime's one error type: a run that cannot start or go on, with a clear reason."""

from __future__ import annotations


class RunError(RuntimeError):
    """A run that cannot start or go on; the message says why and what to look at."""

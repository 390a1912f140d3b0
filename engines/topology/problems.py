"""Problems found in a topology: what, where (file, line, node or link) and what would be valid.

Every error the loader or the validator reports is a `Problem`; a refused file
raises one `TopologyError` that carries all of them, so the CLI prints them all
at once and the GUI can put each next to the node it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    message: str
    file: str | None = None
    line: int | None = None
    node: str | None = None
    link: str | None = None
    hint: str | None = None
    severity: Severity = Severity.ERROR
    path: tuple[str | int, ...] = field(default=())

    @property
    def subject(self) -> str | None:
        if self.node is not None:
            return f"node '{self.node}'"
        if self.link is not None:
            return f"link '{self.link}'"
        return None

    def __str__(self) -> str:
        where = self.file or "<topology>"
        if self.line is not None:
            where += f":{self.line}"
        parts = [f"{where}: {self.severity.value}:"]
        if self.subject:
            parts.append(f"{self.subject}:")
        parts.append(self.message)
        text = " ".join(parts)
        if self.hint:
            text += f" ({self.hint})"
        return text


class TopologyError(Exception):
    """A topology file or model that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid topology")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

"""Expectations: small assertions over a run's counters, parsed by a grammar, never `eval`.

Grammar (whitespace free between tokens):

    expectation := operand OP operand
    operand     := NUMBER | counter | scope '.' counter
    OP          := '==' | '!=' | '<' | '<=' | '>' | '>='

`scope` is a node name or a link name ('from->to'); a bare counter is the
run's total. Examples: `lost == 0`, `payments.duplicates_processed == 0`,
`p99_latency_ms < 50`, `processed == sent`.
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engines.ledger.counters import COUNTERS as MESSAGE_COUNTERS
from engines.ledger.counters import RUN_COUNTERS

COUNTERS = {**MESSAGE_COUNTERS, **RUN_COUNTERS}

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}

_TOKEN = re.compile(
    r"\s*(?:(?P<op>==|!=|<=|>=|<|>)"
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"|(?P<ref>(?:[A-Za-z][A-Za-z0-9_-]*->[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?:[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)))"
)


class ExpectationError(ValueError):
    """An expectation that does not parse; the message says what would be valid."""


@dataclass(frozen=True)
class Operand:
    number: float | None = None
    scope: str | None = None
    counter: str | None = None

    def __str__(self) -> str:
        if self.number is not None:
            return f"{self.number:g}"
        return f"{self.scope}.{self.counter}" if self.scope else str(self.counter)


@dataclass(frozen=True)
class Expectation:
    text: str
    left: Operand
    op: str
    right: Operand

    def scopes(self) -> list[str]:
        return [o.scope for o in (self.left, self.right) if o.scope]

    def evaluate(self, lookup: Callable[[str | None, str], float | None]) -> Verdict:
        """Check against counters; `lookup(scope, counter)` gives a value or None if unknown."""
        values = []
        for operand in (self.left, self.right):
            if operand.number is not None:
                values.append(operand.number)
                continue
            value = lookup(operand.scope, operand.counter or "")
            if value is None:
                return Verdict(self, False, None, None, f"no value for {operand}")
            values.append(float(value))
        passed = OPERATORS[self.op](values[0], values[1])
        return Verdict(self, passed, values[0], values[1], None)


@dataclass(frozen=True)
class Verdict:
    expectation: Expectation
    passed: bool
    measured: float | None
    compared_to: float | None
    problem: str | None

    def __str__(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        if self.problem:
            return f"{mark}  {self.expectation.text}  ({self.problem})"
        return f"{mark}  {self.expectation.text}  (measured {self.measured:g})"


def _operand(kind: str, value: str) -> Operand:
    if kind == "num":
        return Operand(number=float(value))
    scope, _, counter = value.rpartition(".")
    if counter not in COUNTERS:
        close = difflib.get_close_matches(counter, COUNTERS, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else f"counters: {', '.join(COUNTERS)}"
        raise ExpectationError(f"unknown counter '{counter}'; {hint}")
    return Operand(scope=scope or None, counter=counter)


def parse(text: str) -> Expectation:
    """Parse one expectation or raise ExpectationError saying what is wrong."""
    if not isinstance(text, str):
        raise ExpectationError("an expectation is a string such as 'lost == 0'")
    if re.search(r"(?<![=!<>])=(?!=)", text):
        raise ExpectationError(f"'{text}' has a single '='; use '==' to compare")
    tokens: list[tuple[str, str]] = []
    pos = 0
    stripped = text.strip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if not match or match.end() == pos:
            raise ExpectationError(
                f"cannot read '{stripped[pos:]}' in '{text}'; write e.g. 'lost == 0' or "
                "'payments.duplicates_processed == 0'"
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    shape = [kind for kind, _ in tokens]
    if len(tokens) != 3 or shape[1] != "op" or "op" in (shape[0], shape[2]):
        raise ExpectationError(
            f"'{text}' is not 'value OP value'; OP is one of {' '.join(OPERATORS)}, "
            "e.g. 'lost == 0' or 'processed == sent'"
        )
    left = _operand(*tokens[0])
    right = _operand(*tokens[2])
    if left.number is not None and right.number is not None:
        raise ExpectationError(f"'{text}' compares two numbers; name a counter on one side")
    return Expectation(text=text.strip(), left=left, op=tokens[1][1], right=right)


def evaluate_all(
    expectations: list[str], totals: Mapping[str, float], scoped: Mapping[str, Mapping[str, float]]
) -> list[Verdict]:
    """Evaluate expectation texts over the run totals and per-node/per-link counters."""

    def lookup(scope: str | None, counter: str) -> float | None:
        table = totals if scope is None else scoped.get(scope)
        if table is None:
            return None
        value = table.get(counter)
        return None if value is None else float(value)

    return [parse(text).evaluate(lookup) for text in expectations]

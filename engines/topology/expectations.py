"""Expectations: small assertions over a run's counters, parsed by a grammar, never `eval`.

Grammar (spaces free between tokens, but put them around '-': names may hold one):

    expectation := expr OP expr [OP expr]       a comparison, or a range: 100 <= throughput <= 300
    expr        := term (('+' | '-') term)*
    term        := factor (('*' | '/') factor)*
    factor      := NUMBER | counter | scope '.' counter | 'abs' '(' expr ')' | '(' expr ')' | '-' factor
    OP          := '==' | '!=' | '<' | '<=' | '>' | '>='

`scope` is a node name or a link name ('from->to'); a bare counter is the
run's total. Examples: `lost == 0`, `payments.duplicates_processed == 0`,
`p99_latency_ms < 50`, `lost == sent - processed`, `100 <= throughput <= 300`,
`a.processed > b.processed`, `abs(a.processed - b.processed) <= 2`.
A verdict carries the value of every counter it read, so a failed
counter-versus-counter check shows both sides.
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Union

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
ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
}
SUPPORTED = ("supported: counters (lost, a.processed, 'a->b.lost'), numbers, + - * /, abs(...), "
             "parentheses, and one comparison (==, !=, <, <=, >, >=) or a range (100 <= throughput <= 300)")

_TOKEN = re.compile(
    r"\s*(?:(?P<op>==|!=|<=|>=|<|>)"
    r"|(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"|(?P<abs>abs(?=\s*\())"
    r"|(?P<ref>(?:[A-Za-z][A-Za-z0-9_-]*->[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?:[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?))"
    r"|(?P<arith>[-+*/])|(?P<paren>[()]))"
)


class ExpectationError(ValueError):
    """An expectation that does not parse; the message says what would be valid."""


@dataclass(frozen=True)
class Operand:
    """A number or a counter reference: the leaves of an expression."""

    number: float | None = None
    scope: str | None = None
    counter: str | None = None

    def __str__(self) -> str:
        if self.number is not None:
            return f"{self.number:g}"
        return f"{self.scope}.{self.counter}" if self.scope else str(self.counter)


@dataclass(frozen=True)
class Apply:
    """An arithmetic node: `op` is '+', '-', '*', '/', 'abs' (one argument) or 'neg'."""

    op: str
    args: tuple[Expr, ...]


Expr = Union[Operand, Apply]  # noqa: UP007 - a runtime alias (dataclass field types are strings)
Lookup = Callable[[str | None, str], float | None]


class _NoValue(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _refs(expr: Expr) -> list[Operand]:
    if isinstance(expr, Operand):
        return [expr] if expr.counter else []
    return [ref for arg in expr.args for ref in _refs(arg)]


def _value(expr: Expr, lookup: Lookup, seen: dict[str, float]) -> float:
    if isinstance(expr, Operand):
        if expr.number is not None:
            return expr.number
        value = lookup(expr.scope, expr.counter or "")
        if value is None:
            raise _NoValue(f"no value for {expr}")
        seen[str(expr)] = float(value)
        return float(value)
    values = [_value(arg, lookup, seen) for arg in expr.args]
    if expr.op == "abs":
        return abs(values[0])
    if expr.op == "neg":
        return -values[0]
    if expr.op == "/" and values[1] == 0:
        raise _NoValue("division by zero")
    return ARITHMETIC[expr.op](values[0], values[1])


@dataclass(frozen=True)
class Expectation:
    text: str
    sides: tuple[Expr, ...]  # two, or three for a range
    ops: tuple[str, ...]  # one, or two for a range

    @property
    def left(self) -> Expr:
        return self.sides[0]

    @property
    def right(self) -> Expr:
        return self.sides[-1]

    @property
    def op(self) -> str:
        return self.ops[0]

    def references(self) -> list[Operand]:
        """Every counter the expectation reads, in order."""
        return [ref for side in self.sides for ref in _refs(side)]

    def scopes(self) -> list[str]:
        return [o.scope for o in self.references() if o.scope]

    def evaluate(self, lookup: Lookup) -> Verdict:
        """Check against counters; `lookup(scope, counter)` gives a value or None if unknown."""
        seen: dict[str, float] = {}
        try:
            values = [_value(side, lookup, seen) for side in self.sides]
        except _NoValue as exc:
            return Verdict(self, False, None, None, exc.why, seen)
        passed = all(OPERATORS[op](values[i], values[i + 1]) for i, op in enumerate(self.ops))
        # measured: the side that reads a counter (the middle of a range); compared_to: the other
        measured_at = next((i for i, side in enumerate(self.sides) if _refs(side)), 0)
        if len(self.sides) == 3:
            measured_at = 1
        other = None if len(self.sides) == 3 else values[1 - measured_at]
        return Verdict(self, passed, values[measured_at], other, None, seen)


@dataclass(frozen=True)
class Verdict:
    expectation: Expectation
    passed: bool
    measured: float | None
    compared_to: float | None
    problem: str | None
    values: dict[str, float] = field(default_factory=dict)  # every counter read, by name

    def detail(self) -> str:
        """'measured 3' for one counter; every counter's value when it read several."""
        return detail(self.problem, self.measured, self.values)

    def __str__(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.expectation.text}  ({self.detail()})"


def detail(problem: str | None, measured: float | None, values: Mapping[str, float] | None) -> str:
    """How a verdict reads (also from summary.json's fields): its problem, every counter's
    value when it read several, else 'measured X'."""
    if problem:
        return problem
    if values and len(values) > 1:
        return "measured " + ", ".join(f"{name} = {value:g}" for name, value in values.items())
    return f"measured {measured:g}" if measured is not None else "no value"


def _operand(kind: str, value: str) -> Operand:
    if kind == "num":
        return Operand(number=float(value))
    if value == "abs":
        raise ExpectationError("'abs' needs '(': write e.g. abs(a.processed - b.processed) <= 2")
    scope, _, counter = value.rpartition(".")
    if counter not in COUNTERS:
        close = difflib.get_close_matches(counter, COUNTERS, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else f"counters: {', '.join(COUNTERS)}"
        if "-" in counter:
            hint += " (put spaces around '-' to subtract)"
        raise ExpectationError(f"unknown counter '{counter}'; {hint}")
    return Operand(scope=scope or None, counter=counter)


class _Parser:
    """Recursive descent over the tokens; builds Operand/Apply trees, evaluates nothing."""

    def __init__(self, text: str, tokens: list[tuple[str, str]]) -> None:
        self.text, self.tokens, self.pos = text, tokens, 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.pos += 1
        return token

    def fail(self, what: str) -> ExpectationError:
        kind, value = self.peek()
        where = f"at '{value}'" if kind != "end" else "at the end"
        return ExpectationError(f"'{self.text}': {what} {where}; {SUPPORTED}")

    def expr(self) -> Expr:
        node = self.term()
        while self.peek() in (("arith", "+"), ("arith", "-")):
            node = Apply(self.take()[1], (node, self.term()))
        return node

    def term(self) -> Expr:
        node = self.factor()
        while self.peek() in (("arith", "*"), ("arith", "/")):
            node = Apply(self.take()[1], (node, self.factor()))
        return node

    def factor(self) -> Expr:
        kind, value = self.take()
        if kind in ("num", "ref"):
            return _operand(kind, value)
        if (kind, value) == ("arith", "-"):
            return Apply("neg", (self.factor(),))
        if kind == "abs":
            if self.take() != ("paren", "("):
                raise self.fail("'abs' needs '('")
            inner = self.expr()
            if self.take() != ("paren", ")"):
                self.pos -= 1
                raise self.fail("expected ')'")
            return Apply("abs", (inner,))
        if (kind, value) == ("paren", "("):
            inner = self.expr()
            if self.take() != ("paren", ")"):
                self.pos -= 1
                raise self.fail("expected ')'")
            return inner
        self.pos -= 1
        raise self.fail("expected a counter or a number")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    stripped = text.strip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if not match or match.end() == pos:
            raise ExpectationError(f"cannot read '{stripped[pos:]}' in '{text}'; {SUPPORTED}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def parse(text: str) -> Expectation:
    """Parse one expectation or raise ExpectationError saying what is wrong and what is supported."""
    if not isinstance(text, str):
        raise ExpectationError("an expectation is a string such as 'lost == 0'")
    if re.search(r"(?<![=!<>])=(?!=)", text):
        raise ExpectationError(f"'{text}' has a single '='; use '==' to compare")
    parser = _Parser(text, _tokens(text))
    sides, ops = [parser.expr()], []
    while parser.peek()[0] == "op":
        ops.append(parser.take()[1])
        sides.append(parser.expr())
    if parser.peek()[0] != "end":
        raise parser.fail("unexpected")
    if not ops:
        raise ExpectationError(f"'{text}' compares nothing; OP is one of {' '.join(OPERATORS)}, "
                               "e.g. 'lost == 0' or 'processed == sent'")
    if len(ops) > 2:
        raise ExpectationError(f"'{text}' chains {len(ops)} comparisons; at most a range "
                               "such as '100 <= throughput <= 300'")
    if len(ops) == 2 and not (set(ops) <= {"<", "<="} or set(ops) <= {">", ">="}):
        raise ExpectationError(f"'{text}': a range goes one way, e.g. '100 <= throughput <= 300'")
    expectation = Expectation(text=text.strip(), sides=tuple(sides), ops=tuple(ops))
    if not expectation.references():
        raise ExpectationError(f"'{text}' compares only numbers; name a counter on one side")
    return expectation


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

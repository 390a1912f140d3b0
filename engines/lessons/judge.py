"""The ledger answers a lesson's questions; a learner's prediction is set beside it and explained.

Only the run's summary (the ledger's counters, total and per node or link) is
read, through the expectation grammar, so a question's answer means exactly
what a check over the same expression means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engines.lessons.model import Question
from engines.topology.expectations import Lookup
from engines.topology.expectations import parse as parse_expectation


@dataclass
class LedgerAnswer:
    question: Question
    value: float | None = None  # number: the expression's value
    choice: int | None = None  # choice: the index of the first choice that holds
    read: dict[str, float] = field(default_factory=dict)  # every counter the answer read
    problem: str | None = None  # the run has no value for it (a node that never ran...)

    def text(self) -> str:
        if self.problem:
            return f"no answer ({self.problem})"
        if self.question.kind == "choice":
            return self.question.choices[self.choice].label if self.choice is not None else "none of the choices"
        return number(self.value)


def number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def lookup_in(summary: Mapping[str, Any]) -> Lookup:
    totals = summary.get("total", {}) or {}
    scoped = {**(summary.get("nodes", {}) or {}), **(summary.get("links", {}) or {})}

    def lookup(scope: str | None, counter: str) -> float | None:
        table = totals if scope is None else scoped.get(scope)
        value = None if table is None else table.get(counter)
        return None if value is None else float(value)

    return lookup


def answer(question: Question, summary: Mapping[str, Any]) -> LedgerAnswer:
    lookup = lookup_in(summary)
    out = LedgerAnswer(question)
    if question.kind == "number":
        verdict = parse_expectation(f"{question.answer} == 0").evaluate(lookup)
        out.read = dict(verdict.values)
        if verdict.problem:
            out.problem = verdict.problem
        else:
            out.value = verdict.measured
        return out
    for index, choice in enumerate(question.choices):
        verdict = parse_expectation(choice.when).evaluate(lookup)
        out.read.update(verdict.values)
        if verdict.passed:
            out.choice = index
            break
    return out


@dataclass
class Outcome:
    """A prediction beside the ledger's answer, and the words that explain the difference."""

    ledger: LedgerAnswer
    predicted: str | None  # as the learner gave it (a number's text, a choice's label); None: no answer
    right: bool | None  # None: nothing was predicted
    explanation: str


def compare(question: Question, predicted: str | None, ledger: LedgerAnswer) -> Outcome:
    reads = ", ".join(f"{name} = {number(v)}" for name, v in ledger.read.items())
    counted = f"The ledger counted {ledger.text()}" + (f" ({reads})" if reads and question.kind == "number" else "")
    why = question.explain.strip()
    if predicted is None or not predicted.strip():
        return Outcome(ledger, None, None, f"You made no prediction. {counted}. {why}".strip())
    if ledger.problem:
        return Outcome(ledger, predicted, None, f"{counted}. {why}".strip())
    if question.kind == "choice":
        right = ledger.choice is not None and question.choices[ledger.choice].label == predicted
        head = "Right." if right else f"You chose '{predicted}'; the run says '{ledger.text()}'."
        return Outcome(ledger, predicted, right, f"{head} {counted}. {why}".strip())
    try:
        guess = float(predicted.replace(",", "").strip())
    except ValueError:
        return Outcome(ledger, predicted, None, f"'{predicted}' is not a number. {counted}. {why}".strip())
    assert ledger.value is not None
    off = guess - ledger.value
    tolerance = question.tolerance
    right = abs(off) <= tolerance
    if right:
        head = "Right" + (f" (within {number(tolerance)})." if tolerance and off else ".")
    else:
        direction = "more" if off > 0 else "fewer"
        head = f"You predicted {number(guess)}: {number(abs(off))} {direction} than the ledger counted."
    return Outcome(ledger, predicted, right, f"{head} {counted}. {why}".strip())

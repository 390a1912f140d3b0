"""The lesson file format, version 1, as pydantic models (the JSON schema is generated from them).

A lesson refers to a topology file by path (relative to the lesson file); a
variant is that topology (or another file) with settings overridden and
scenario steps added; a step says what to do, may name the variant to run and
ask questions to predict before the run, or name two variants to compare.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FORMAT_VERSION = 1
NAME = r"^[A-Za-z][A-Za-z0-9_-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Choice(_Strict):
    """One answer of a choice question; the ledger's answer is the first whose `when` holds."""

    label: str = Field(min_length=1, description="what the learner picks, e.g. 'none is lost'")
    when: str = Field(description="an expectation over the run's counters, e.g. 'lost == 0'")


class Question(_Strict):
    """A prediction asked before a run; the run's ledger answers it."""

    id: str = Field(pattern=NAME, description="a short name, unique in the lesson")
    ask: str = Field(min_length=1, description="the question as the learner reads it")
    kind: Literal["number", "choice"] = Field("number", description="a number, or one of `choices`")
    answer: str | None = Field(None, description="number: a counter expression that answers it, "
                                                 "e.g. 'lost' or 'latecomer.delivered' or 'sent - processed'")
    tolerance: float = Field(0, ge=0, description="number: how far off a prediction may be and still be right")
    choices: list[Choice] = Field(default_factory=list, description="choice: the answers offered")
    explain: str = Field("", description="why the ledger's answer is what it is (shown after the run)")

    @model_validator(mode="after")
    def _complete(self) -> Question:
        if self.kind == "number" and not self.answer:
            raise ValueError("a number question needs 'answer:' (a counter expression, e.g. 'lost')")
        if self.kind == "choice" and len(self.choices) < 2:
            raise ValueError("a choice question needs at least two 'choices:'")
        return self


class Variant(_Strict):
    """The topology as one step runs it."""

    label: str = Field("", description="a short name for the comparison, e.g. 'naive consumer'")
    topology: str | None = Field(None, description="another topology file (relative to the lesson); "
                                                   "default: the lesson's")
    set: dict[str, Any] = Field(default_factory=dict, description="settings overridden: 'NODE.field', "
                                "'FROM->TO.field' (a link) or a topology field such as 'duration_s'")
    scenario: list[dict[str, Any]] | None = Field(None, description="replaces the topology's scenario")
    add_scenario: list[dict[str, Any]] = Field(default_factory=list,
                                               description="scenario steps added to the topology's")
    checks: list[str] = Field(default_factory=list, description="expectations the run must pass "
                              "(they replace the topology's own)")


class Step(_Strict):
    title: str = Field(min_length=1)
    text: str = Field("", description="what to do and what to look at")
    variant: str | None = Field(None, description="the variant this step runs (applied to the canvas)")
    questions: list[Question] = Field(default_factory=list, description="predictions asked before the run")
    compare: list[str] = Field(default_factory=list, description="two variants shown side by side")
    # a step with questions names its variant, and compare names two: checked by the loader, at their line



class Lesson(_Strict):
    version: int = Field(description=f"the format version: {FORMAT_VERSION}")
    title: str = Field(min_length=1)
    section: str = Field("", description="the section of the source text this lesson follows")
    goal: str = Field(min_length=1, description="what the learner will understand")
    topology: str = Field(description="the topology file, relative to the lesson file")
    variants: dict[str, Variant] = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)

    def questions(self) -> list[Question]:
        return [q for s in self.steps for q in s.questions]

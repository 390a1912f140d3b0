"""A scenario: node and link actions at a time, or after a number of messages sent."""

from __future__ import annotations

from enum import Enum

from pydantic import Field, field_validator, model_validator

from engines.topology import stream_offsets
from engines.topology.basics import _Strict


class Action(str, Enum):
    KILL = "kill"
    STOP = "stop"
    START = "start"
    RESTART = "restart"
    PAUSE = "pause"
    RESUME = "resume"
    CUT = "cut"
    HEAL = "heal"
    DELAY = "delay"
    LOSSY = "lossy"
    REREAD = "reread"  # a stream consumer reads its streams again from `offset`

    @property
    def on_link(self) -> bool:
        return self in (Action.CUT, Action.HEAL, Action.DELAY, Action.LOSSY)


class Step(_Strict):
    """One action of a scenario, at a time or after a number of messages sent."""

    action: Action
    target: str = Field(description="A node name, or a link name ('from->to').")
    at_s: float | None = Field(default=None, ge=0)
    after_messages: int | None = Field(default=None, ge=1)
    latency_ms: float = Field(default=0.0, ge=0)
    jitter_ms: float = Field(default=0.0, ge=0)
    loss: float = Field(default=0.0, ge=0, le=1)
    offset: str = Field(default="first", json_schema_extra={"pattern": stream_offsets.PATTERN},
                        description="reread: where the stream consumer reads again from (first, "
                        "last, next, an offset, or time:<seconds>s on the run's clock).")

    @field_validator("offset")
    @classmethod
    def _offset(cls, value: str) -> str:
        return stream_offsets.check(value)

    @model_validator(mode="after")
    def _when(self) -> Step:
        if (self.at_s is None) == (self.after_messages is None):
            raise ValueError("give exactly one of 'at_s' or 'after_messages'")
        return self



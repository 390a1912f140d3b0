"""The building blocks of every model class: names, positions, the strict base, the format version."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

FORMAT_VERSION = 1
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,62}$"
_NAME_RE = re.compile(NAME_PATTERN)

Name = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        description="Letters, digits, '-' and '_', starting with a letter.",
    ),
]
Position = tuple[float, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False, validate_assignment=True,
                              allow_inf_nan=False)  # `.inf` and `.nan` are YAML floats: refused



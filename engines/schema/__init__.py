"""The published JSON Schema of topology files, generated from the model.

`python -m engines.schema` rewrites `engines/schema/topology.schema.json`; a test
checks that the published file matches the model, so editors never see a stale one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engines.lessons.model import Lesson
from engines.topology.model import Topology

SCHEMA_PATH = Path(__file__).with_name("topology.schema.json")
LESSON_SCHEMA_PATH = Path(__file__).with_name("lesson.schema.json")


def generate() -> dict[str, Any]:
    schema = Topology.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://topology-lab.invalid/topology.schema.json"
    schema["title"] = "Topology Lab topology file (*.topo.yaml)"
    return schema


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=True) + "\n"




def generate_lesson() -> dict[str, Any]:
    """The lesson files' schema (`*.lesson.yaml`, docs/lessons.md)."""
    schema = Lesson.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://topology-lab.invalid/lesson.schema.json"
    schema["title"] = "Topology Lab lesson file (*.lesson.yaml)"
    return schema


def render_lesson() -> str:
    return json.dumps(generate_lesson(), indent=2, sort_keys=True) + "\n"

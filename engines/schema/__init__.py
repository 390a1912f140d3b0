"""The published JSON Schema of topology files, generated from the model.

`python -m engines.schema` rewrites `engines/schema/topology.schema.json`; a test
checks that the published file matches the model, so editors never see a stale one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engines.topology.model import Topology

SCHEMA_PATH = Path(__file__).with_name("topology.schema.json")


def generate() -> dict[str, Any]:
    schema = Topology.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://topology-lab.invalid/topology.schema.json"
    schema["title"] = "Topology Lab topology file (*.topo.yaml)"
    return schema


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=True) + "\n"



"""The published JSON Schema matches the model, and every example satisfies it."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from engines import schema
from tests.conftest import EXAMPLES


def test_published_schema_is_current():
    assert schema.SCHEMA_PATH.read_text() == schema.render(), "run: python -m engines.schema"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_satisfy_the_schema(path):
    jsonschema.validate(yaml.safe_load(path.read_text()), json.loads(schema.SCHEMA_PATH.read_text()))


def test_schema_rejects_unknown_fields():
    bad = {"version": 1, "name": "x", "nodes": [{"name": "a", "kind": "client", "rat": 3}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema.generate())

"""A lesson variant's topology: the file with settings overridden and scenario steps added.

`set` keys name what they change the way the expectation grammar names
scopes: 'NODE.field', 'FROM->TO.field' for a link, or a bare topology field
('duration_s'). The result is loaded through the topology loader, so a value
out of range or a scenario on an unknown node is refused with the loader's own
reason. A variant's checks replace the topology's expectations: a variant that
turns off a safeguard is expected to lose or duplicate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from engines.lessons.model import Variant
from engines.topology import topofile
from engines.topology.model import NODE_CLASSES, Link, Topology
from engines.topology.problems import Severity, TopologyError


class VariantError(ValueError):
    """A variant that cannot be built; `key` is the `set` key or section at fault."""

    def __init__(self, message: str, key: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.key = key


def _node_fields(node: dict[str, Any]) -> list[str]:
    cls = next((c for k, c in NODE_CLASSES.items() if k.value == node.get("kind")), None)
    return list(cls.model_fields) if cls else []


_LINK_FIELDS = [f.alias or n for n, f in Link.model_fields.items()]
_TOPOLOGY_FIELDS = ("duration_s", "description", "name")


def override(data: dict[str, Any], key: str, value: Any) -> None:
    """Set one `set:` entry on the topology's plain data; VariantError if it names nothing."""
    if "." not in key:
        if key not in _TOPOLOGY_FIELDS:
            raise VariantError(f"'{key}' is not a topology field one may set "
                               f"(one of {', '.join(_TOPOLOGY_FIELDS)}; or NODE.field, FROM->TO.field)")
        data[key] = value
        return
    scope, _, field = key.rpartition(".")
    if "->" in scope:
        src, _, dst = scope.partition("->")
        link = next((lk for lk in data["links"] if lk["from"] == src and lk["to"] == dst), None)
        if link is None:
            names = ", ".join(f"{lk['from']}->{lk['to']}" for lk in data["links"])
            raise VariantError(f"no link '{scope}' in the topology (links: {names})")
        if field not in _LINK_FIELDS:
            raise VariantError(f"a link has no field '{field}' (fields: {', '.join(_LINK_FIELDS)})")
        link[field] = value
        return
    node = next((n for n in data["nodes"] if n["name"] == scope), None)
    if node is None:
        raise VariantError(f"no node '{scope}' in the topology (nodes: "
                           f"{', '.join(n['name'] for n in data['nodes'])})")
    fields = _node_fields(node)
    if field not in fields:
        raise VariantError(f"a {node['kind']} has no field '{field}' (fields: {', '.join(fields)})")
    node[field] = value


def build(base: Topology, variant: Variant, name: str) -> Topology:
    """The variant's topology; VariantError (with the `set` key at fault) if it cannot be made."""
    data = topofile.to_data(base)
    for key, value in variant.set.items():
        try:
            override(data, key, value)
        except VariantError as exc:
            raise VariantError(str(exc), ("set", key)) from None
    if variant.scenario is not None:
        data["scenario"] = list(variant.scenario)
    data["scenario"] = list(data.get("scenario", [])) + list(variant.add_scenario)
    if not data["scenario"]:
        data.pop("scenario")
    data["expectations"] = list(variant.checks)
    if not data["expectations"]:
        data.pop("expectations")
    try:
        plain = json.loads(json.dumps(data))  # to_data marks some lists for flow style
        return topofile.loads(yaml.safe_dump(plain, sort_keys=False), f"variant '{name}'").topology
    except TopologyError as exc:
        errors = [p for p in exc.problems if p.severity is Severity.ERROR]
        reasons = "; ".join(p.message + (f" ({p.subject})" if p.subject else "") for p in errors) or str(exc)
        raise VariantError(f"variant '{name}' is not a valid topology: {reasons}", _culprit(variant, errors)) from None


def _culprit(variant: Variant, errors: list[Any]) -> tuple[str | int, ...]:
    """The `set` key (or scenario section) the first error comes from, to point at its line."""
    for p in errors:
        fields = [part for part in p.path if isinstance(part, str)]
        scope = p.node or p.link
        if scope and fields and f"{scope}.{fields[-1]}" in variant.set:
            return ("set", f"{scope}.{fields[-1]}")
        if fields[:1] == ["scenario"]:
            return ("add_scenario",) if variant.add_scenario else ("scenario",)
    return ()


def topology_path(lesson_file: Path, relative: str) -> Path:
    """A topology named in a lesson: relative to the lesson file's folder."""
    path = Path(relative)
    return path if path.is_absolute() else (lesson_file.parent / path).resolve()

"""YAML text to plain data plus a line for every path: the intermediate form of a topology file.

PyYAML's safe composer gives nodes with marks; we turn them into dicts, lists
and scalars (with the safe constructor's scalar rules) and keep, for each path
such as ('nodes', 2, 'rate'), the line it was written on. Errors found later,
by pydantic or the validator, are located through that table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
import yaml.constructor

PathKey = tuple[str | int, ...]


@dataclass
class SourceDoc:
    """A parsed file: its data and the 1-based line of every path in it."""

    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)
    values_built: int = 0

    def line_of(self, path: PathKey) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


class YamlSyntaxError(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


class _Constructor(yaml.constructor.SafeConstructor):
    """Safe scalars only; anchors and aliases resolve to their value."""


def parse(text: str) -> SourceDoc:
    """Parse YAML text with the safe loader, recording lines. Raises YamlSyntaxError."""
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # its reader already refuses unprintable characters
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlSyntaxError(f"YAML syntax: {exc.problem or exc}", line) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML: {exc}", None) from None
    except RecursionError:  # PyYAML's composer recurses once per level: ~1,000 levels end here
        line = loader.get_mark().line + 1 if loader is not None else None
        raise YamlSyntaxError(f"YAML nests deeper than a topology ever needs (more than {_MAX_DEPTH} levels)",
                              line) from None
    finally:
        if loader is not None:
            loader.dispose()
    doc = SourceDoc(data=None)
    if root is None:
        return doc
    constructor = _Constructor()
    doc.data = _build(root, (), doc, constructor, depth=0)
    return doc


_SAFE_TAGS = frozenset(t for t in yaml.constructor.SafeConstructor.yaml_constructors if t)
_MAX_DEPTH = 64
_MAX_VALUES = 200_000  # aliases can expand a small file into a huge one ("billion laughs")


def _build(node: yaml.Node, path: PathKey, doc: SourceDoc, ctor: _Constructor, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise YamlSyntaxError(f"YAML nests deeper than a topology ever needs (more than {_MAX_DEPTH} levels)",
                              node.start_mark.line + 1)
    doc.values_built += 1
    if doc.values_built > _MAX_VALUES:
        raise YamlSyntaxError("YAML expands to more values than a topology ever needs (aliases?)", node.start_mark.line + 1)
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if node.tag not in _SAFE_TAGS:
        raise YamlSyntaxError(f"YAML tag '{node.tag}' is not allowed in a topology file",
                              node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        ctor.flatten_mapping(node)
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSyntaxError("a mapping key must be a plain value", key_node.start_mark.line + 1)
            key = ctor.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise YamlSyntaxError("a mapping key must be a plain value", key_node.start_mark.line + 1) from None
            if key in result:
                raise YamlSyntaxError(f"key '{key}' appears twice", key_node.start_mark.line + 1)
            child = (*path, key)
            doc.lines[child] = key_node.start_mark.line + 1
            result[key] = _build(value_node, child, doc, ctor, depth + 1)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, i), doc, ctor, depth + 1) for i, item in enumerate(node.value)
        ]
    try:
        return ctor.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML value: {exc}", node.start_mark.line + 1) from None
    except (ValueError, OverflowError) as exc:  # e.g. a timestamp out of range
        raise YamlSyntaxError(f"YAML value: {exc}", node.start_mark.line + 1) from None
    except (AttributeError, TypeError, KeyError):  # PyYAML's own crash, e.g. !!timestamp on a non-date
        raise YamlSyntaxError(f"YAML value '{node.value}' is not a valid {node.tag.rpartition(':')[2]}",
                              node.start_mark.line + 1) from None

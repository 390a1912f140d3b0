"""Topology files (`*.topo.yaml`): read, check the version, build the model, write back.

Reading goes text -> `SourceDoc` (plain data with a line for every path) ->
version check -> pydantic model -> semantic validation. Every failure becomes a
`Problem` with file, line, node or link, and what would be valid; nothing else
escapes. Writing gives the canonical form: defaults left out, keys in a fixed
order, so loading and saving an example gives the same bytes back.
"""

from __future__ import annotations

import difflib
import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from engines.topology import relevance, validation
from engines.topology.model import FORMAT_VERSION, NODE_CLASSES, Annotation, Link, Topology
from engines.topology.problems import Problem, Severity, TopologyError
from engines.topology.savefile import write_atomic as write_atomic  # the editor's writes too
from engines.topology.vocabulary import NodeKind
from engines.topology.yamlsource import SourceDoc, YamlSyntaxError, parse

SUFFIX = ".topo.yaml"
_KINDS = [k.value for k in NodeKind]


@dataclass
class Loaded:
    """A topology read from a file, with its warnings and where each path came from."""

    topology: Topology
    source: SourceDoc
    file: str | None
    warnings: list[Problem] = field(default_factory=list)


# -- reading ---------------------------------------------------------------------

def load(path: str | os.PathLike[str]) -> Loaded:
    """Read and validate a topology file; raise TopologyError naming file and line."""
    return loads(read_text(path), str(path))


MAX_BYTES = 8 * 1024 * 1024  # far above any topology; /dev/zero or a log file is not one


def read_text(path: str | os.PathLike[str]) -> str:
    """A topology file's text; TopologyError for what is not a readable regular text file.

    Never blocks and never reads without bound: a FIFO or a device is refused
    before it is opened for reading (opening a FIFO would wait for a writer)."""
    name = str(path)
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise TopologyError([Problem("is a directory, not a topology file", file=name)])
        if not stat.S_ISREG(info.st_mode):
            raise TopologyError([Problem("not a regular file (a pipe, socket or device): "
                                         "a topology is a *.topo.yaml text file", file=name)])
        if info.st_size > MAX_BYTES:
            raise TopologyError([Problem(f"{info.st_size} bytes: too large for a topology file "
                                         f"(at most {MAX_BYTES // (1024 * 1024)} MiB)", file=name)])
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise TopologyError([Problem("too large for a topology file", file=name)])
        return data.decode("utf-8")
    except FileNotFoundError:
        raise TopologyError([Problem("no such file", file=name)]) from None
    except IsADirectoryError:
        raise TopologyError([Problem("is a directory, not a topology file", file=name)]) from None
    except UnicodeDecodeError as exc:
        raise TopologyError([Problem(f"not UTF-8 text ({exc.reason})", file=name)]) from None
    except OSError as exc:
        raise TopologyError([Problem(f"cannot read: {exc.strerror}", file=name)]) from None


def loads(text: str, file: str | None = None) -> Loaded:
    """Parse, build and validate topology text; raise TopologyError with every error found."""
    try:
        source = parse(text)
    except YamlSyntaxError as exc:
        raise TopologyError([Problem(str(exc), file=file, line=exc.line)]) from None
    data = source.data
    if not isinstance(data, dict):
        raise TopologyError([Problem(
            "a topology file is a mapping with 'version', 'name', 'nodes' and 'links'",
            file=file, line=source.line_of(()))])
    _check_version(data, source, file)
    topology = _build(data, source, file)
    problems = [_locate(p, source, file) for p in validation.validate(topology)]
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        raise TopologyError(problems)
    return Loaded(topology, source, file, warnings=problems)


def _check_version(data: dict[Any, Any], source: SourceDoc, file: str | None) -> None:
    version = data.get("version")
    if version is None:
        raise TopologyError([Problem(
            "no 'version' field", file=file, line=source.line_of(()),
            hint=f"add 'version: {FORMAT_VERSION}' at the top")])
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise TopologyError([Problem(
            f"version {version!r} is not supported by this lab",
            file=file, line=source.line_of(("version",)),
            hint=f"it reads version {FORMAT_VERSION}")])


def _build(data: dict[Any, Any], source: SourceDoc, file: str | None) -> Topology:
    try:
        return Topology.model_validate(data)
    except ValidationError as exc:
        problems = [_pydantic_problem(err, data, source, file) for err in exc.errors()]
        raise TopologyError(problems) from None


def _subject(data: dict[Any, Any], loc: tuple[Any, ...]) -> tuple[str | None, str | None]:
    """The node or link a location points into, by the name written in the file."""
    if len(loc) < 2 or not isinstance(loc[1], int):
        return None, None
    items = data.get(loc[0])
    if not isinstance(items, list) or loc[1] >= len(items) or not isinstance(items[loc[1]], dict):
        return None, None
    item = items[loc[1]]
    if loc[0] == "nodes":
        name = item.get("name")
        return (str(name) if name is not None else f"#{loc[1] + 1}"), None
    if loc[0] == "links":
        return None, item.get("name") or f"{item.get('from')}->{item.get('to')}"
    return None, None


def _field_names(loc: tuple[Any, ...], data: dict[Any, Any]) -> list[str]:
    if not loc:
        return list(Topology.model_fields)
    if loc[0] == "nodes" and len(loc) == 2:
        node = _subject_item(data, loc)
        kind = node.get("kind") if isinstance(node, dict) else None
        cls = next((c for k, c in NODE_CLASSES.items() if k.value == kind), None)
        return list(cls.model_fields) if cls else []
    if loc[0] == "links" and len(loc) == 2:
        return [f.alias or n for n, f in Link.model_fields.items()]
    return []


def _subject_item(data: dict[Any, Any], loc: tuple[Any, ...]) -> Any:
    items = data.get(loc[0])
    if isinstance(items, list) and isinstance(loc[1], int) and loc[1] < len(items):
        return items[loc[1]]
    return None


def _pydantic_problem(err: Any, data: dict[Any, Any], source: SourceDoc, file: str | None) -> Problem:
    loc = tuple(err["loc"])
    # A discriminated union inserts the tag ('nodes', 0, 'client', 'rate'): drop it.
    if len(loc) > 2 and loc[0] == "nodes" and loc[2] in _KINDS:
        loc = loc[:2] + loc[3:]
    node, link = _subject(data, loc)
    where = [str(part) for part in loc[2:]] if loc[:1] in (("nodes",), ("links",)) else [str(p) for p in loc]
    field_text = ".".join(where)
    kind, message = err["type"], err["msg"]
    hint = None
    if kind == "extra_forbidden":
        known = _field_names(loc[:-1], data)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        message = f"unknown field '{loc[-1]}'"
        hint = f"did you mean '{close[0]}'?" if close else (
            f"valid fields: {', '.join(known)}" if known else None)
    elif kind == "missing":
        message = f"field '{field_text}' is required"
    elif kind in ("union_tag_not_found", "union_tag_invalid"):
        message = "a node needs 'kind:' " + ("" if kind == "union_tag_not_found" else
                                            f"(got {err.get('input', {}).get('kind')!r}) ")
        message += "set to one of: " + ", ".join(_KINDS)
    else:
        got = err.get("input")
        shown = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
        message = f"field '{field_text}': {message}{shown}" if field_text else f"{message}{shown}"
    return Problem(message, file=file, line=source.line_of(loc), node=node, link=link,
                   hint=hint, path=loc)


def _locate(problem: Problem, source: SourceDoc, file: str | None) -> Problem:
    return replace(problem, file=file, line=source.line_of(problem.path))


def check(topology: Topology) -> list[Problem]:
    """Validate a model built in memory (the GUI's document); no file, no lines."""
    return validation.validate(topology)


# -- writing ---------------------------------------------------------------------

class _FlowList(list):  # type: ignore[type-arg]
    """A list written inline: positions read better as [x, y]."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as people write YAML by hand.
        return super().increase_indent(flow, False)


def _represent_flow(dumper: yaml.SafeDumper, value: _FlowList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(_FlowList, _represent_flow)
_Dumper.add_representer(str, _represent_str)

_NODE_HEAD = ("name", "kind", "description")
_NODE_TAIL = ("port", "bind", "position")


def _tidy(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_tidy(v) for v in value]
    return value


def to_data(topology: Topology) -> dict[str, Any]:
    """The canonical plain-data form of a topology (defaults left out)."""
    out: dict[str, Any] = {"version": topology.version, "name": topology.name}
    if topology.description:
        out["description"] = topology.description
    if topology.duration_s is not None:
        out["duration_s"] = _tidy(topology.duration_s)
    nodes = []
    for node in topology.nodes:
        dumped = _tidy(node.model_dump(mode="json", exclude_defaults=True))
        full = _tidy(node.model_dump(mode="json"))
        for key in relevance.node_fields(topology, node):
            dumped.setdefault(key, full[key])
        dumped["name"] = node.name
        dumped["kind"] = node.kind.value
        ordered = {k: dumped[k] for k in _NODE_HEAD if k in dumped}
        ordered.update({k: dumped[k] for k in type(node).model_fields
                        if k in dumped and k not in _NODE_HEAD + _NODE_TAIL})
        ordered.update({k: dumped[k] for k in _NODE_TAIL if k in dumped})
        if "position" in ordered:
            ordered["position"] = _FlowList(ordered["position"])
        nodes.append(ordered)
    out["nodes"] = nodes
    links = []
    for link in topology.links:
        dumped = _tidy(link.model_dump(mode="json", by_alias=True, exclude_defaults=True))
        full = _tidy(link.model_dump(mode="json", by_alias=True))
        for key in relevance.link_fields(topology, link):
            if full[key] is not None or key not in ("style", "transport"):  # a service link's unset
                dumped.setdefault(key, full[key])  # style or transport: its default applies, unwritten
        if "queue_type" in dumped:  # what the run uses: quorum by default on a cluster
            dumped["queue_type"] = relevance.effective_queue_type(topology, link)
        ordered = {"from": link.source, "to": link.target}
        aliases = [f.alias or n for n, f in Link.model_fields.items()]
        ordered.update({k: dumped[k] for k in aliases if k in dumped and k not in ("from", "to")})
        links.append(ordered)
    out["links"] = links
    if topology.scenario:
        out["scenario"] = [_tidy(s.model_dump(mode="json", exclude_defaults=True)) for s in topology.scenario]
    if topology.expectations:
        out["expectations"] = list(topology.expectations)
    if topology.annotations:
        out["annotations"] = [_annotation_data(a) for a in topology.annotations]
    return out


def _annotation_data(annotation: Annotation) -> dict[str, Any]:
    data = _tidy(annotation.model_dump(mode="json", exclude_defaults=True))
    data["kind"] = annotation.kind.value
    ordered = {k: data[k] for k in Annotation.model_fields if k in data}
    for key in ("position", "size", "nodes"):
        if key in ordered:
            ordered[key] = _FlowList(ordered[key])
    return ordered


def dumps(topology: Topology) -> str:
    return yaml.dump(to_data(topology), Dumper=_Dumper, sort_keys=False,
                     default_flow_style=False, allow_unicode=True, width=88)


def save(topology: Topology, path: str | os.PathLike[str]) -> None:
    """Write atomically (engines.topology.savefile): a crash leaves the old file or the new
    one; symlinks, hard links, owner and mode are kept."""
    write_atomic(Path(path), dumps(topology))


def find_topologies(paths: list[str]) -> list[Path]:
    """Topology files named on the command line, folders searched for *.topo.yaml."""
    found: list[Path] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            found.extend(sorted(p.rglob(f"*{SUFFIX}")))
        else:
            found.append(p)
    return found

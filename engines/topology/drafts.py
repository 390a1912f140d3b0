"""Loading a topology the editor can open even when it does not validate yet.

A file saved mid-edit may have a client with no link or a style its transport
cannot carry: `topofile.load` rightly refuses it for a run, but the editor must
reopen it (and its recovery file) to let the user fix it. A draft is a file
whose YAML, version and field types are fine; its semantic problems come back
as the `Loaded.warnings` list with their lines. Anything worse still raises
`TopologyError`.
"""

from __future__ import annotations

import os

from pydantic import ValidationError

from engines.topology import topofile
from engines.topology.model import FORMAT_VERSION, Topology
from engines.topology.problems import TopologyError
from engines.topology.yamlsource import YamlSyntaxError, parse


def _typed(text: str) -> Topology | None:
    """The model if the text is well-typed YAML of our version, else None."""
    try:
        data = parse(text).data
    except YamlSyntaxError:
        return None
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        return None
    try:
        return Topology.model_validate(data)
    except ValidationError:
        return None


def loads_draft(text: str, file: str | None = None) -> topofile.Loaded:
    """Like `topofile.loads`, but semantic errors come back as problems, not an exception."""
    try:
        return topofile.loads(text, file)
    except TopologyError as exc:
        topology = _typed(text)
        if topology is None:
            raise
        return topofile.Loaded(topology, parse(text), file, warnings=list(exc.problems))


def load_draft(path: str | os.PathLike[str]) -> topofile.Loaded:
    """Like `topofile.load`, with the leniency of `loads_draft`."""
    try:
        return topofile.load(path)
    except TopologyError as exc:
        try:
            text = topofile.read_text(path)
        except TopologyError:
            raise exc from None
        return loads_draft(text, str(path))

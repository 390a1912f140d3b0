"""The topology as data: the file format, the model, validation and edits that keep references whole.

What lives here: the vocabulary (styles, transports), the pydantic model, the
YAML reader and writer with a line for every path, problems with their
location, semantic validation, channels (which queue a brokered link uses),
expectations (the grammar, never `eval`), auto-layout, drafts and examples.

May import: the standard library, pydantic, PyYAML, networkx, and
`engines.ledger.counters` (the names expectations may use). Never Qt, the
runtime or node programs: the editor, the CLI and the runtime all read the
topology through this package.
"""

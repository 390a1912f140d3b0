"""Counting, exactly: the ledger that reconciles clients' records with services' committed rows.

`reconcile` computes every counter of DESIGN.md from record files and SQLite
rows (never estimates); `counters` names them with what each means;
`histogram` is the mergeable latency histogram nodes fill and the ledger
merges.

May import: the standard library, `engines.nodes.records` (the record file
format) and `engines.transports.wire` (message IDs). Node programs import
`histogram`, so this package's `__init__` imports nothing.
"""

"""Message traces after a run: merge the nodes' trace files, tell one message's story, list IDs.

The nodes write fixed records (engines.nodes.tracefile) with system-wide
monotonic timestamps; this package merges them on the run's own clock (zero
in clock.json, the same zero as events.jsonl and metrics.csv), expands the
range records, and answers "what happened to message shop:42?" as a list of
steps (engines.trace.story), as text (engines.trace.text), or for the
counters' ID lists (engines.trace.ids). Chains: a record's `cause` names the
upstream message that caused a downstream one; a story lists those links.
"""

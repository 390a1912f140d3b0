"""The summary as a plain-text table for the terminal."""

from __future__ import annotations

from typing import Any

from engines.runtime import insides
from engines.topology import expectations

COLUMNS = (
    ("sent", "sent"), ("acknowledged", "acked"), ("delivered", "delivered"),
    ("processed", "processed"), ("lost", "lost"), ("in_doubt", "in_doubt"),
    ("duplicates_delivered", "dup_deliv"), ("duplicates_processed", "dup_proc"),
    ("duplicates_suppressed", "dup_supp"), ("timeouts", "timeouts"), ("errors", "errors"),
    ("retries", "retries"), ("p50_latency_ms", "p50_ms"), ("p99_latency_ms", "p99_ms"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if value < 100 else f"{value:.0f}"
    return str(value)


def format_summary(summary: dict[str, Any]) -> str:
    total = summary["total"]
    rows: list[tuple[str, dict[str, Any]]] = [("total", total)]
    states = summary.get("node_states", {})
    for name, values in summary["nodes"].items():
        rows.append((f"{name} ({states.get(name, {}).get('state', '?')})", values))
    for name, values in summary["links"].items():
        rows.append((f"  {name}", values))
    width = max(len(label) for label, _ in rows) + 2
    lines = [
        f"run '{summary['topology']}': {total['duration_s']:g} s, {total['throughput']:g} processed/s",
        "".ljust(width) + " ".join(f"{title:>9}" for _, title in COLUMNS),
    ]
    for label, values in rows:
        lines.append(label.ljust(width) + " ".join(f"{_cell(values.get(key)):>9}" for key, _ in COLUMNS))
    lines += format_chains(summary)
    bounds = summary.get("bounds") or {}
    if bounds:
        lines.append(f"note: client(s) {', '.join(bounds['clients'])} were SIGKILLed: "
                     f"{', '.join(bounds['lower_bounds'])} are lower bounds and "
                     f"{', '.join(bounds['upper_bounds'])} an upper bound ({bounds['why']})")
    for name, values in summary["nodes"].items():
        kinds = values.get("errors_by_kind")
        if kinds:
            lines.append(f"{name} errors: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    for name, values in summary["nodes"].items():  # mail: what a mail service holds, what readers read
        if "stored" in values:
            lines.append(f"{name} stored {values['stored']} mail(s) in its Maildir")
        if "read" in values:
            lines.append(f"{name} read {values['read']} mail(s) over IMAP, processed {values.get('processed', 0)}")
        if values.get("resent_in_doubt"):
            lines.append(f"{name} resent {values['resent_in_doubt']} message(s) it was in doubt about")
    for name, values in summary["nodes"].items():
        if values.get("input_errors"):
            lines.append(f"{name} refused {values['input_errors']} malformed or unexpected message(s)")
    for name, values in summary["nodes"].items():
        if values.get("hostile"):
            lines.append(f"{name} committed {values['hostile']} message(s) whose ID no client sent "
                         "(forged; not counted as delivered)")
    for name, why in (summary.get("unreadable_records") or {}).items():
        lines.append(f"{name}: its record file could not be read ({why}); its counts are missing")
    rejected = summary.get("telemetry_rejected") or {}
    if rejected:
        lines.append("telemetry refused (not from this run's nodes): "
                     + ", ".join(f"{k} {v}" for k, v in sorted(rejected.items())))
    for name, state in summary.get("node_states", {}).items():
        if state.get("log_tail"):
            why = f" ({state.get('reason')})" if state.get("state") == "crashed" and state.get("reason") else ""
            lines.append(f"{name} crashed{why}; its log ends with:")
            lines += ["  | " + line for line in state["log_tail"].splitlines()]
    lines += insides.lines(summary.get("broker_survival") or [])
    for name, values in summary["nodes"].items():
        if values.get("stream_rereads"):
            lines.append(f"{name} re-read its stream(s) {values['stream_rereads']} time(s) on demand: "
                         f"{values.get('stream_reread', 0)} delivery(ies) read again")
    verdicts = summary.get("expectations", [])
    if verdicts:
        lines.append("expectations:")
        for v in verdicts:
            mark = "PASS" if v["passed"] else "FAIL"
            detail = expectations.detail(v["problem"], v["measured"], v.get("values"))
            lines.append(f"  {mark}  {v['text']}  ({detail})")
    lines.append(f"run directory: {summary['run_dir']}")
    return "\n".join(lines)


CHAIN_COLUMNS = (("upstream", "upstream"), ("reached", "reached"), ("hop_lost", "hop_lost"),
                 ("orphans", "orphans"), ("duplicates_processed", "dup_proc"),
                 ("duplicates_suppressed", "dup_supp"))
RESILIENCE_COLUMNS = (("calls_in_flight_peak", "inflight_peak"), ("rejected_bulkhead", "bulkhead"),
                      ("short_circuited", "short_circ"), ("breaker_open", "opened"))


def format_chains(summary: dict[str, Any]) -> list[str]:
    """Each client's chain in hop order (engines.ledger.chain), then the calls' resilience counters."""
    lines: list[str] = []
    for client, table in (summary.get("chains") or {}).items():
        lines.append(f"chain of '{client}': {table['entered']} entered, {table['e2e_reached']} reached "
                     f"the end, {table['e2e_lost']} lost on the way, {table['e2e_duplicates']} duplicate(s)")
        width = max(len(f"{s['link']} ({s['to']})") for s in table["stages"]) + 4
        lines.append("".ljust(width) + " ".join(f"{t:>9}" for _, t in CHAIN_COLUMNS))
        for stage in table["stages"]:
            label = f"  {stage['link']} ({stage['to']})"
            lines.append(label.ljust(width) + " ".join(f"{_cell(stage.get(k)):>9}" for k, _ in CHAIN_COLUMNS))
    links = {k: v for k, v in summary["links"].items()
             if any(v.get(key) for key, _ in RESILIENCE_COLUMNS)}
    if links:
        lines.append("calls:".ljust(24) + " ".join(f"{t:>13}" for _, t in RESILIENCE_COLUMNS))
        for key, values in links.items():
            lines.append(f"  {key}".ljust(24) + " ".join(f"{_cell(values.get(k)):>13}" for k, _ in RESILIENCE_COLUMNS))
    return lines

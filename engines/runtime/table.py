"""The summary as a plain-text table for the terminal."""

from __future__ import annotations

from typing import Any

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
    verdicts = summary.get("expectations", [])
    if verdicts:
        lines.append("expectations:")
        for v in verdicts:
            mark = "PASS" if v["passed"] else "FAIL"
            detail = expectations.detail(v["problem"], v["measured"], v.get("values"))
            lines.append(f"  {mark}  {v['text']}  ({detail})")
    lines.append(f"run directory: {summary['run_dir']}")
    return "\n".join(lines)

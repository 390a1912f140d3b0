"""A story as text (`labgui trace RUN_DIR ID`): one line per event, faults where they began."""

from __future__ import annotations

from engines.trace.story import Story

_MARK = {"ok": "ok", "doubt": "in doubt", "fail": "FAILED", "dup": "refused duplicate", "info": ""}


def render(story: Story) -> str:
    client, _, seq = story.id.rpartition(":")
    lines = [f"message {story.id} (client {client}, sequence {seq})"]
    if story.counted_as:
        lines.append("counted as: " + ", ".join(story.counted_as))
    lines.append("lifelines: " + " | ".join(story.lifelines))
    lines.append(f"{'t (s)':>9}  {'node':<16} {'event':<30} {'hop':<28} outcome")
    rows: list[tuple[float, str]] = []
    for s in story.steps:
        hop = f"{s.src} -> {s.dst}" if s.src != s.dst else ""
        extra = f" (attempt {s.attempt})" if s.attempt else ""
        detail = f"  [{s.detail}]" if s.detail else ""
        rows.append((s.t, f"{s.t:9.3f}  {s.node:<16} {s.kind + extra:<30} {hop:<28} "
                          f"{_MARK.get(s.outcome, s.outcome)}{detail}"))
    for p in story.periods:
        until = "end of run" if p.open_ended else f"{p.end:.3f}"
        rows.append((p.start, f"{p.start:9.3f}  {'--':<16} fault: {p.label} until {until}"))
    lines += [text for _, text in sorted(rows, key=lambda r: r[0])]
    if story.steps:
        last = story.steps[-1]
        lines.append(f"last event: {last.kind} at {last.node}, t = {last.t:.3f} s")
    lines += [f"note: {n}" for n in story.notes]
    return "\n".join(lines) + "\n"

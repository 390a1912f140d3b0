"""A story as an SVG sequence diagram: one lifeline per node, one row per event, faults as bands.

Rows are in event order (time runs down; each row says its time on the left)
rather than to scale: a story spans milliseconds and seconds at once. Colours:
acknowledged or committed green, in doubt amber, failed red, a refused
duplicate purple. A fault period (a kill, a pause, a cut) is a band across
every lifeline over the rows it lasted. The same SVG is embedded in the HTML
report and drawn by the GUI (QSvgRenderer), so both show one picture.
"""

from __future__ import annotations

from html import escape

from engines.trace.story import Story

COLOURS = {"ok": "#1a7f37", "doubt": "#bf8700", "fail": "#cf222e", "dup": "#8250df", "info": "#57606a"}
LEGEND = (("ok", "acknowledged / committed"), ("doubt", "in doubt"), ("fail", "failed"),
          ("dup", "duplicate refused"))
COL_W, ROW_H, LEFT, TOP = 180, 30, 70, 64


def render(story: Story) -> str:
    lanes = {name: LEFT + COL_W // 2 + i * COL_W for i, name in enumerate(story.lifelines)}
    # one row per step and one per fault's beginning, in time order (a fault first on a tie)
    items: list[tuple[float, int, int]] = [(p.start, 0, i) for i, p in enumerate(story.periods)]
    items += [(st.t, 1, i) for i, st in enumerate(story.steps)]
    items.sort()
    rows = max(1, len(items))
    width = LEFT + COL_W * max(1, len(story.lifelines)) + 20
    height = TOP + rows * ROW_H + 56
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>', "<defs>"]
    for key, colour in COLOURS.items():
        out.append(f'<marker id="a-{key}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                   f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
                   f'fill="{colour}"/></marker>')
    out.append("</defs>")
    out.append(f'<text x="8" y="18" font-size="14" font-weight="bold">message {escape(story.id)}</text>')
    if story.counted_as:
        out.append(f'<text x="8" y="36" fill="#57606a">counted as: {escape(", ".join(story.counted_as))}</text>')

    def y_of(row: int) -> int:
        return TOP + 20 + row * ROW_H

    for row, (t, is_step, i) in enumerate(items):
        if is_step:
            continue
        p = story.periods[i]
        last = next((r for r, it in enumerate(items) if it[1] and it[0] > p.end), len(items))
        y1, y2 = y_of(row) - ROW_H // 2 + 2, y_of(last) - ROW_H // 2 - 2
        until = "end of run" if p.open_ended else f"{p.end:.3f} s"
        out.append(f'<rect x="{LEFT}" y="{y1}" width="{width - LEFT - 10}" height="{max(8, y2 - y1)}" '
                   f'fill="#cf222e" fill-opacity="0.08" stroke="#cf222e" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y_of(row) + 4}" text-anchor="end" fill="#cf222e">{t:.3f}</text>')
        out.append(f'<text x="{LEFT + 8}" y="{y_of(row) + 4}" fill="#cf222e" font-weight="bold">'
                   f'{escape(p.label)} until {until}</text>')
    for name, x in lanes.items():
        out.append(f'<rect x="{x - 78}" y="{TOP - 22}" width="156" height="24" rx="5" fill="#f0f2f4" '
                   f'stroke="#8c959f"/><text x="{x}" y="{TOP - 6}" text-anchor="middle" '
                   f'font-weight="bold">{escape(name)}</text>')
        out.append(f'<line x1="{x}" y1="{TOP + 2}" x2="{x}" y2="{TOP + rows * ROW_H + 10}" '
                   f'stroke="#8c959f" stroke-dasharray="3 3"/>')
    for row, (_, is_step, i) in enumerate(items):
        if not is_step:
            continue
        s = story.steps[i]
        y, colour = y_of(row), COLOURS.get(s.outcome, "#57606a")
        out.append(f'<text x="{LEFT - 8}" y="{y + 4}" text-anchor="end" fill="#57606a">{s.t:.3f}</text>')
        label = s.kind + (f" #{s.attempt}" if s.attempt else "") + (f" ({s.detail})" if s.detail else "")
        x1, x2 = lanes[s.src], lanes[s.dst]
        if s.src != s.dst:
            dash = ' stroke-dasharray="6 3"' if s.kind == "ack" else ""
            out.append(f'<line x1="{x1}" y1="{y}" x2="{x2 - (6 if x2 > x1 else -6)}" y2="{y}" '
                       f'stroke="{colour}" stroke-width="2"{dash} marker-end="url(#a-{s.outcome})"/>')
            out.append(f'<text x="{(x1 + x2) / 2}" y="{y - 5}" text-anchor="middle" fill="{colour}">'
                       f'{escape(label)}</text>')
        else:
            out.append(f'<circle cx="{x1}" cy="{y}" r="6" fill="{colour}"/>')
            anchor, dx = ("end", -10) if x1 == max(lanes.values()) and len(lanes) > 1 else ("start", 10)
            out.append(f'<text x="{x1 + dx}" y="{y + 4}" text-anchor="{anchor}" fill="{colour}">'
                       f'{escape(label)}</text>')
    ly = TOP + rows * ROW_H + 36
    x = 8
    for key, text in LEGEND:
        out.append(f'<rect x="{x}" y="{ly - 9}" width="10" height="10" fill="{COLOURS[key]}"/>'
                   f'<text x="{x + 14}" y="{ly}" fill="#57606a">{escape(text)}</text>')
        x += 20 + 7 * len(text)
    out.append(f'<rect x="{x}" y="{ly - 9}" width="10" height="10" fill="#cf222e" fill-opacity="0.15" '
               f'stroke="#cf222e"/><text x="{x + 14}" y="{ly}" fill="#57606a">fault period</text>')
    out.append("</svg>")
    return "\n".join(out)

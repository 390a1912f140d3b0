"""What the run view does on each tick of its one timer, so that no tick holds the window long.

A sample's work is spread over a cycle of SAMPLE_EVERY ticks, because each
piece is followed by its repaint (about 10 ms each with 50 nodes at full
rate) and two of them in one tick made the window miss frames:

    tick 0  sample the run; redraw the second half of the plots
    tick 1  the canvas figures and a dash step: one canvas repaint for both
    tick 2  the counters and the first half of the plots
    tick 3  a dash step

Dashes move every ANIMATE_EVERY ticks (10 times a second): each step
repaints every busy link.
"""

from __future__ import annotations

TICK_MS = 50  # the one timer: at most 20 redraws a second
SAMPLE_EVERY = 4  # ticks in a sample's cycle (5 samples a second)
ANIMATE_EVERY = 2  # ticks between dash steps
CANVAS_STEP = 1  # a dash step's tick (SAMPLE_EVERY is a multiple of ANIMATE_EVERY)

SAMPLE, LATER_PLOTS, CANVAS, DASHES, COUNTERS = "sample", "later plots", "canvas", "dashes", "counters"


def jobs(tick: int, running: bool) -> tuple[str, ...]:
    """The work of tick number `tick` (dash steps only while the run is running)."""
    step = tick % SAMPLE_EVERY
    out: list[str] = []
    if running and tick % ANIMATE_EVERY == CANVAS_STEP % ANIMATE_EVERY:
        out.append(DASHES)
    if step == 0:
        out += [SAMPLE, LATER_PLOTS]
    elif step == CANVAS_STEP:
        out.append(CANVAS)
    elif step == 2:
        out.append(COUNTERS)
    return tuple(out)

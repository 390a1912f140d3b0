"""Time-series plots of a run with fault periods shaded, rendered to PNG with matplotlib (Agg).

One panel per concern (throughput, latency percentiles, queue depth, errors),
all on the same time axis so a dip lines up with the shaded fault above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from engines.report.periods import FaultPeriod  # noqa: E402

_FAULT_COLOURS = {"kill": "#d62728", "crash": "#d62728", "stop": "#ff7f0e", "pause": "#9467bd",
                  "cut": "#8c564b", "delay": "#e377c2", "lossy": "#bcbd22", "late": "#1f77b4"}


@dataclass
class Panel:
    """One plot: named lines over time (seconds from the start of the run)."""

    slug: str
    title: str
    unit: str
    lines: dict[str, tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]] = field(default_factory=dict)
    styles: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> matplotlib kwargs
    empty_text: str = "no data"

    @property
    def empty(self) -> bool:
        return not any(len(t) for t, _ in self.lines.values())


def _shade(ax: Axes, periods: Sequence[FaultPeriod], label: bool) -> None:
    for period in periods:
        colour = _FAULT_COLOURS.get(period.action, "#7f7f7f")
        ax.axvspan(period.start, period.end, color=colour, alpha=0.15, lw=0)
        ax.axvline(period.start, color=colour, lw=1, alpha=0.7)
        if label:
            ax.annotate(period.label, xy=(period.start, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(3, -12), textcoords="offset points", fontsize=8, color=colour)


def _draw(ax: Axes, panel: Panel, periods: Sequence[FaultPeriod], duration: float,
          label_faults: bool) -> None:
    for name, (t, v) in panel.lines.items():
        if len(t):
            ax.plot(t, v, lw=1.4, label=name, **panel.styles.get(name, {}))
    _shade(ax, periods, label_faults)
    ax.set_title(panel.title, loc="left", fontsize=10)
    ax.set_ylabel(panel.unit, fontsize=9)
    ax.set_xlim(0, max(duration, 1e-3))
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if panel.empty:
        ax.text(0.5, 0.5, panel.empty_text, transform=ax.transAxes, ha="center", va="center", color="#999")
    else:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def render_panel(panel: Panel, periods: Sequence[FaultPeriod], duration: float, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(11, 2.8), dpi=100)
    _draw(ax, panel, periods, duration, label_faults=True)
    ax.set_xlabel("seconds", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def render_overview(panels: Sequence[Panel], periods: Sequence[FaultPeriod], duration: float,
                    path: Path) -> Path:
    """All panels stacked on one shared time axis."""
    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 2.4 * len(panels)), dpi=100, sharex=True)
    axes = list(axes) if len(panels) > 1 else [axes]
    for i, (ax, panel) in enumerate(zip(axes, panels, strict=True)):
        _draw(ax, panel, periods, duration, label_faults=(i == 0))
    axes[-1].set_xlabel("seconds", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path

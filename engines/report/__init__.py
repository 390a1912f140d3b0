"""Run reports: fault periods, plots (PNG) and a self-contained HTML page."""

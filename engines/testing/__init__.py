"""Topology files as tests: run one, judge its expectations, keep its report."""

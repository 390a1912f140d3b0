"""Merge the nodes' trace files into one array on the run's clock, and find one message in it.

`merge(run_dir)` writes trace.npy (every node's records, sorted by time, with
the node's index) and trace-nodes.json; `load(run_dir)` reads them back, or
merges on the fly for a run whose end was never reached (a killed runner).
Range records (a client's batch of sends, a service's contiguous batch) stay
ranges: `records_of(msg)` finds the ones that cover a message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engines.nodes import tracefile as tf
from engines.trace.rundata import RunDirError, clock_zero_ns, node_dirs, origin_ns, read_json

DTYPE = np.dtype([("ts", "<i8"), ("msg", "<i8"), ("cause", "<i8"), ("kind", "u1"), ("flags", "u1"),
                  ("attempt", "<u2"), ("aux", "<i4")])
MERGED, NODES = "trace.npy", "trace-nodes.json"


@dataclass
class Trace:
    """Every traced record of a run: `rec` (DTYPE), `node` (index into `nodes`), sorted by time."""

    rec: np.ndarray
    node: np.ndarray
    nodes: list[str]
    t0_ns: int  # the run clock's zero (the clients' start) in time.monotonic_ns()
    modes: dict[str, str]
    dropped: dict[str, int]

    def records_of(self, msg: int) -> np.ndarray:
        """Indexes of the records about message `msg`, in time order (ranges included)."""
        r = self.rec
        exact = r["msg"] == msg
        ranged = ((r["flags"] & tf.F_RANGE) != 0) & (r["msg"] <= msg) & (msg < r["msg"] + r["aux"]) \
            & ((r["msg"] >> 32) == (msg >> 32))
        caused = r["cause"] == msg
        return np.flatnonzero(exact | ranged | caused)

    def seconds(self, ts: int) -> float:
        return (int(ts) - self.t0_ns) / 1e9


def _read_nodes(run_dir: Path) -> tuple[list[np.ndarray], list[str], dict[str, str], dict[str, int]]:
    parts, names, modes, dropped = [], [], {}, {}
    mode_names = {v: k for k, v in tf.MODES.items()}
    for node_dir in node_dirs(run_dir):
        path = node_dir / tf.FILE_NAME
        if not path.exists():
            continue
        try:
            data, mode, lost = tf.read_raw(path)
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{path}: {exc}") from None
        names.append(node_dir.name)
        modes[node_dir.name] = mode_names.get(mode, "?")
        dropped[node_dir.name] = lost
        parts.append(np.frombuffer(data, dtype=DTYPE))
    return parts, names, modes, dropped


def merge(run_dir: Path, write: bool = True) -> Trace:
    """All nodes' records on one clock; written to trace.npy unless `write` is False."""
    run_dir = Path(run_dir)
    parts, names, modes, dropped = _read_nodes(run_dir)
    t0 = clock_zero_ns(run_dir)
    rec = np.concatenate(parts) if parts else np.zeros(0, dtype=DTYPE)
    node = np.concatenate([np.full(len(p), i, dtype=np.int16) for i, p in enumerate(parts)]) \
        if parts else np.zeros(0, dtype=np.int16)
    order = np.argsort(rec["ts"], kind="stable")
    rec, node = rec[order], node[order]
    if t0 is None:  # a run from before clock.json: its first record is the zero
        t0 = int(rec["ts"][0]) if len(rec) else 0
    trace = Trace(rec, node, names, t0 + origin_ns(run_dir), modes, dropped)
    if write:
        with open(run_dir / MERGED, "wb") as fh:
            np.save(fh, rec)
            np.save(fh, node)
        (run_dir / NODES).write_text(json.dumps({"nodes": names, "t0_monotonic_ns": t0, "modes": modes,
                                                 "dropped": dropped}), encoding="utf-8")
    return trace


def load(run_dir: Path) -> Trace:
    """The merged trace of a run (merging now if the run never got to it)."""
    run_dir = Path(run_dir)
    merged = run_dir / MERGED
    if not merged.exists():
        return merge(run_dir, write=False)
    meta = read_json(run_dir / NODES, "the traced nodes")
    try:
        with open(merged, "rb") as fh:
            rec = np.load(fh, allow_pickle=False)
            node = np.load(fh, allow_pickle=False)
        if rec.dtype != DTYPE or len(rec) != len(node):
            raise ValueError("unexpected layout")
        return Trace(rec, node, list(meta["nodes"]), int(meta["t0_monotonic_ns"]) + origin_ns(run_dir),
                     dict(meta.get("modes", {})), dict(meta.get("dropped", {})))
    except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
        raise RunDirError(f"{merged}: the merged trace is truncated or corrupt ({exc}); "
                          f"delete it and it is merged again from the nodes' trace files") from None

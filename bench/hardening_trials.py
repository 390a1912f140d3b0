"""Repeat the hardening probes of issue #17 many times (the suite runs each once or twice).

    PYTHONPATH=. python bench/hardening_trials.py [--paused-kills N] [--xpub-noise N] [--forged N]

paused-kills: `labgui run` SIGKILLed while its managed RabbitMQ node is paused
  (needs RabbitMQ and root-free ports); counts trials that left any process.
xpub-noise: a pub/sub run whose publisher's XPUB port gets 64 KiB of random
  bytes 20 times as it opens; counts trials with any
  loss at on-time subscribers (there must be none: only the run's own
  subscribers count as joined).
forged: a run whose services get well-formed messages with IDs no client
  sent (sequence 10^8 and 4294967295); counts trials whose summary is
  missing, counts a forged ID as processed, or misses a hostile one.
Prints one line per probe: trials, failures, seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.hygiene import portreg  # noqa: E402
from engines.runtime import Supervisor  # noqa: E402
from engines.topology import topofile  # noqa: E402
from engines.transports.base import ZMQ_PUB  # noqa: E402

PUBSUB = """
version: 1
name: xpub-noise
nodes:
  - {name: news, kind: client, style: publish-subscribe, transport: zmq, rate: 2000, count: 4000}
  - {name: a, kind: service}
  - {name: b, kind: service}
links:
  - {from: news, to: a}
  - {from: news, to: b}
"""


def _spray(run_dir: Path, stop: threading.Event) -> None:
    spec = run_dir / "nodes" / "news" / "spec.json"
    while not stop.is_set() and not spec.exists():
        time.sleep(0.001)
    if stop.is_set():
        return
    address = json.loads(spec.read_text())["listen"][ZMQ_PUB].rpartition("//")[2]
    host, _, port = address.rpartition(":")
    rnd = random.Random()
    sent = 0
    while sent < 20 and not stop.is_set():  # as the port opens: 20 x 64 KiB, not a flood
        try:
            with socket.create_connection((host, int(port)), timeout=1) as conn:
                conn.sendall(rnd.randbytes(65536))
            sent += 1
        except OSError:
            time.sleep(0.005)


def xpub_noise(trials: int) -> int:
    failures = 0
    for _ in range(trials):
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = Path(tmp) / "run"
            stop = threading.Event()
            sprayer = threading.Thread(target=_spray, args=(run_dir, stop), daemon=True)
            sprayer.start()
            try:
                with Supervisor(topofile.loads(PUBSUB).topology, run_dir) as sup:
                    summary = sup.run()
            finally:
                stop.set()
                sprayer.join(5)
            lost = summary["nodes"]["a"]["lost"] + summary["nodes"]["b"]["lost"]
            failures += lost > 0
            print(f"  xpub-noise trial: lost {lost}", flush=True)
    return failures


def forged(trials: int) -> int:
    from tests.hardening import test_forged_ids as probe

    failures = 0
    for _ in range(trials):
        with tempfile.TemporaryDirectory() as tmp:
            answers: dict[str, list[bytes]] = {}
            done = threading.Event()
            started: list[threading.Thread] = []

            def on_tick(sup: Supervisor, started: list[threading.Thread] = started,
                        answers: dict[str, list[bytes]] = answers, done: threading.Event = done) -> None:
                if sup.started_at is not None and not started:
                    started.append(threading.Thread(target=probe._attack, args=(sup, answers, done), daemon=True))
                    started[0].start()

            with Supervisor(topofile.loads(probe.TOPOLOGY).topology, Path(tmp) / "run") as sup:
                summary: dict[str, Any] = sup.run(on_tick=on_tick)
            total = summary["total"]
            bad = total["processed"] != total["sent"] or total["hostile"] != 2 * len(probe.FORGED_SEQS)
            failures += bad
            print(f"  forged trial: sent {total['sent']} processed {total['processed']} "
                  f"hostile {total['hostile']}", flush=True)
    return failures


def paused_kills(trials: int) -> int:
    from tests.hardening.test_paused_broker_kill import kill_runner_while_paused

    failures = 0
    for _ in range(trials):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            os.environ[portreg.ENV_DIR] = str(root / "ports")
            env = {**os.environ, "PYTHONPATH": str(ROOT), "LAB_STATE_DIR": str(root / "state")}
            _, left = kill_runner_while_paused(root, env)
            failures += bool(left)
            print(f"  paused-kill trial: {len(left)} left behind", flush=True)
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paused-kills", type=int, default=0)
    parser.add_argument("--xpub-noise", type=int, default=3)
    parser.add_argument("--forged", type=int, default=3)
    args = parser.parse_args()
    failed = 0
    for name, probe, n in (("paused-kills", paused_kills, args.paused_kills),
                           ("xpub-noise", xpub_noise, args.xpub_noise), ("forged", forged, args.forged)):
        if n <= 0:
            continue
        began = time.monotonic()
        bad = probe(n)
        failed += bad
        print(f"{name}: {n} trials, {bad} failed, {time.monotonic() - began:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

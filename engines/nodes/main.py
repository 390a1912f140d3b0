"""Entry point of a node process: arm the lifeline, read the spec, run the client or service."""

from __future__ import annotations

import logging
import os
import sys
import threading

from engines.nodes import lifeline
from engines.nodes.spec import SpecError, load
from engines.nodes.telemetry import Telemetry
from engines.transports.base import EXIT_BAD_SPEC


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m engines.nodes SPEC.json (started by the lab's supervisor)",
              file=sys.stderr)
        return EXIT_BAD_SPEC
    try:
        spec = load(argv[0])
    except SpecError as exc:
        print(f"node: {exc}", file=sys.stderr)
        return EXIT_BAD_SPEC
    lifeline.arm(spec.parent_pid)
    stop = threading.Event()
    lifeline.on_stop(stop)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s.%(msecs)03d %(levelname)s %(name)s[%(process)d]: %(message)s",
                        datefmt="%H:%M:%S")
    log = logging.getLogger(spec.name)
    telemetry = Telemetry(spec.telemetry, spec.name, spec.telemetry_token)
    code = 1
    try:
        if spec.kind == "client":
            from engines.nodes.client import run
        else:
            from engines.nodes.service import run
        code = run(spec, stop, telemetry, log)
    except Exception:
        log.exception("node failed")
        code = 1
    finally:
        telemetry.event("exit", code=code)
        telemetry.close()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    # os._exit: server threads blocked on keep-alive sockets must not hold the exit.
    os._exit(code)

"""A client node: pace sequence numbers, let the transport driver send them, record everything."""

from __future__ import annotations

import logging
import threading

from engines import transports
from engines.nodes.pacer import Pacer
from engines.nodes.records import ClientRecorder
from engines.nodes.spec import NodeSpec, open_trace
from engines.nodes.telemetry import Telemetry
from engines.transports.base import (
    CLIENT,
    EXIT_GAVE_UP,
    EXIT_OK,
    ClientConfig,
    ClientContext,
    GiveUp,
)


def run(spec: NodeSpec, stop: threading.Event, telemetry: Telemetry, log: logging.Logger) -> int:
    config = ClientConfig.from_dict(spec.config)
    info = transports.driver(config.transport, config.style, CLIENT)
    recorder = ClientRecorder(spec.node_dir / "records.bin", spec.capacity,
                              responders=config.style == "publish-async-responses")
    trace = open_trace(spec, spec.capacity * 4 + 1024)
    if trace is not None:
        recorder.attach_trace(trace, spec.client_index)
    start = recorder.resume_point()
    limit = min(config.count or recorder.capacity, recorder.capacity)
    pacer = Pacer(config.rate, limit, stop, start=start, duration_s=config.duration_s)
    ctx = ClientContext(
        config=config, client_index=spec.client_index, peers=spec.peers, listen=spec.listen,
        pacer=pacer, recorder=recorder, stop=stop, log=log,
        payload=b"\xa5" * config.payload_bytes, expect_subscribers=spec.expect_subscribers,
        clients=spec.clients, run_token=spec.telemetry_token, event=telemetry.event,
    )
    telemetry.watch(lambda: {**recorder.snapshot(), "next_seq": pacer.next})
    telemetry.event("ready", resumed_at=start)
    if start:
        log.info("restarted: resuming at sequence %d (earlier ones were recorded by a previous life)",
                 start)
    code = EXIT_OK
    try:
        info.run(ctx)
        if stop.is_set():
            log.info("stopped after %d messages", pacer.next)
        else:
            log.info("done: %d messages", pacer.next)
            telemetry.event("done", sent=pacer.next)
    except GiveUp as exc:
        log.error("gave up: %s", exc)
        telemetry.event("gave-up", reason=str(exc))
        code = EXIT_GAVE_UP
    finally:
        final = {**recorder.snapshot(), "next_seq": pacer.next}
        telemetry.watch(lambda: final)
        recorder.close()
    return code

"""A service node: open its database, run one transport driver per inbound group, report ready."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from engines import transports
from engines.nodes.handler import Handler
from engines.nodes.instances import database_path, share
from engines.nodes.spec import NodeSpec, open_trace
from engines.nodes.stats import ServiceStats
from engines.nodes.store import Store
from engines.nodes.telemetry import Telemetry
from engines.transports.base import EXIT_OK, SERVICE, Inbound, ServiceConfig, ServiceContext


def run(spec: NodeSpec, stop: threading.Event, telemetry: Telemetry, log: logging.Logger) -> int:
    config = ServiceConfig.from_dict(spec.config)
    store = Store(database_path(spec.node_dir, config.store), spec.clients)
    if config.store:
        share(store.db, spec.name)
    stats = ServiceStats(len(spec.clients))
    handler = Handler(config, store, stats, spec.node_dir / "crashed", log)
    downstream = None
    if spec.hops:  # outgoing links: calls inside the handling, events after the work
        # imported here: its HTTP calls load http.client and ssl, which other services never need
        from engines.nodes.downstream import Downstream

        downstream = Downstream(spec.hops, spec.node_dir, spec.node_dir / "service.db", spec.clients,
                                stats, stop, log, telemetry.event)
        handler.downstream = downstream
        downstream.start()
    handler.trace = open_trace(spec, 1 << 22)
    groups: dict[str, tuple[Callable[..., None], list[Inbound]]] = {}
    for inbound in spec.inbound:
        info = transports.driver(inbound.transport, inbound.style, SERVICE)
        groups.setdefault(info.group, (info.run, []))[1].append(inbound)
    telemetry.watch(stats.snapshot)

    waiting = set(groups)
    lock = threading.Lock()
    late = config.join_after_ms > 0

    def ready_for(group: str) -> Callable[[], None]:
        def ready() -> None:
            with lock:
                waiting.discard(group)
                if not waiting and not late:
                    telemetry.event("ready")
        return ready

    if late or not groups:
        telemetry.event("ready", joining_in_ms=config.join_after_ms)
        if late:
            log.info("joining late: %d ms after the run's clock starts (or after this life's start "
                     "if later)", config.join_after_ms)
            if not _wait_to_join(spec, config.join_after_ms / 1000.0, stop):
                store.close()
                return EXIT_OK
            telemetry.event("joined")

    failed: list[BaseException] = []

    def guard(run_group: Callable[..., None], ctx: ServiceContext, inbound: list[Inbound]) -> None:
        try:
            run_group(ctx, inbound)
        except BaseException as exc:  # noqa: BLE001 - reported, then the node stops
            log.exception("transport driver failed")
            failed.append(exc)
            stop.set()

    threads = []
    for group, (run_group, group_inbound) in groups.items():
        ctx = ServiceContext(config=config, listen=spec.listen, inbound=group_inbound, handler=handler,
                             stats=stats, stop=stop, log=log, clients=spec.clients,
                             ready=ready_for(group), node_dir=spec.node_dir,
                             run_token=spec.telemetry_token, event=telemetry.event)
        thread = threading.Thread(target=guard, args=(run_group, ctx, group_inbound), name=group, daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.2)
    if downstream is not None:
        downstream.close()
    with handler._lock:  # no batch half way through when the store closes
        store.close()
        if handler.trace is not None:
            handler.trace.close()
            handler.trace = None
    log.info("stopped: %d deliveries handled in this life", handler.handled)
    return 1 if failed else EXIT_OK


def _wait_to_join(spec: NodeSpec, after_s: float, stop: threading.Event) -> bool:
    """Wait `after_s` from the later of this life's start and the run clock's zero; False if
    stopped first. Services start before the clients and the clock starts with the first
    client ready, which a loaded machine can delay by seconds: counted from its own start, a
    late subscriber would join before the first message and miss nothing."""
    from engines.transports.amqp_streams import read_origin  # json, re, datetime: late joiners only

    began = time.time()
    origin = read_origin(spec.node_dir)
    while origin is None:  # the first life: the clock has not started yet
        if stop.wait(0.05):
            return False
        origin = read_origin(spec.node_dir)
    return not stop.wait(max(0.0, max(began, origin) + after_s - time.time()))

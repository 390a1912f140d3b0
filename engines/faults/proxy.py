"""A TCP proxy per link that the lab controls, so links can fail without root.

The way Toxiproxy's toxics work: the downstream side (a client, a subscriber,
a consumer) connects to the proxy, which forwards bytes both ways to the real
listener. Faults change how bytes pass:

- `cut()`: the link is down: open connections are reset and new ones are reset
  as soon as they are accepted, until `heal()`.
- `set_latency(ms, jitter_ms)`: every chunk is held `ms ± jitter` before it is
  forwarded; order is kept, as on a real slow path.
- `set_loss(p)`: each chunk is lost with probability `p`, and since a TCP
  stream cannot skip bytes, its connection is reset (what a real lossy path
  ends in once retransmissions give up).
- `set_bandwidth(bytes_per_s)`: each direction is paced to that rate.

All proxies of a run share one asyncio loop in one thread (`ProxyHub`); the
control methods are thread-safe and return at once. A link with no fault in
its topology gets no proxy and pays nothing.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

_CHUNK = 64 * 1024


@dataclass
class Faults:
    """The faults in force on one link; read by the pumps on every chunk."""

    down: bool = False
    latency_s: float = 0.0
    jitter_s: float = 0.0
    loss: float = 0.0
    bandwidth: float = 0.0  # bytes per second per direction; 0 = unlimited


@dataclass
class ProxyStats:
    connections: int = 0
    resets: int = 0
    bytes_up: int = 0  # downstream -> upstream
    bytes_down: int = 0


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST rather than FIN, so the peer sees the link fail at once."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


class LinkProxy:
    """One link's proxy: listen on 127.0.0.1:port, forward to upstream."""

    def __init__(self, hub: ProxyHub, name: str, upstream: tuple[str, int],
                 listen: tuple[str, int] = ("127.0.0.1", 0)):
        self.hub = hub
        self.name = name
        self.upstream = upstream
        self._listen = listen
        self.faults = Faults()
        self.stats = ProxyStats()
        self._server: asyncio.AbstractServer | None = None
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._rng = random.Random()
        self.port = 0

    # -- control (any thread) -----------------------------------------------------
    @property
    def address(self) -> tuple[str, int]:
        return (self._listen[0], self.port)

    def cut(self) -> None:
        self.faults.down = True
        self.hub.call(self._reset_all)

    def heal(self) -> None:
        self.faults.down = False
        self.faults.loss = 0.0
        self.faults.latency_s = self.faults.jitter_s = 0.0
        self.faults.bandwidth = 0.0

    def set_latency(self, latency_ms: float, jitter_ms: float = 0.0) -> None:
        self.faults.latency_s = max(0.0, latency_ms) / 1000.0
        self.faults.jitter_s = max(0.0, jitter_ms) / 1000.0

    def set_loss(self, probability: float) -> None:
        self.faults.loss = min(1.0, max(0.0, probability))

    def set_bandwidth(self, bytes_per_s: float) -> None:
        self.faults.bandwidth = max(0.0, bytes_per_s)

    def reset_connections(self) -> None:
        self.hub.call(self._reset_all)

    # -- loop side ------------------------------------------------------------------
    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self._listen[0], self._listen[1],
                                                  reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self._reset_all()

    async def _reset_all(self) -> None:
        for down_writer, up_writer in list(self._pairs):
            _reset(down_writer)
            _reset(up_writer)
            self.stats.resets += 1
        self._pairs.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        if self.faults.down:
            self.stats.resets += 1
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            self.stats.resets += 1
            _reset(writer)  # upstream refuses: the downstream sees the failure too
            return
        for w in (writer, up_writer):
            sock = w.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pair = (writer, up_writer)
        self._pairs.add(pair)
        up = asyncio.create_task(self._pump(reader, up_writer, pair, upstream=True))
        down = asyncio.create_task(self._pump(up_reader, writer, pair, upstream=False))
        await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        for task in (up, down):
            task.cancel()
        if pair in self._pairs:
            self._pairs.discard(pair)
            for w in pair:
                w.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter], upstream: bool) -> None:
        """Copy one direction, applying the faults in force.

        Reading and writing are separate tasks joined by a queue, so a latency
        delays every chunk by the same amount instead of adding up along a burst.
        """
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        writer_task = asyncio.create_task(self._deliver(queue, writer, upstream))
        release_at = 0.0
        try:
            while True:
                data = await reader.read(_CHUNK)
                if not data:
                    await queue.put((0.0, b""))
                    await writer_task
                    return
                f = self.faults
                if f.down or (f.loss and self._rng.random() < f.loss):
                    self.stats.resets += 1
                    self._pairs.discard(pair)
                    for w in pair:
                        _reset(w)
                    return
                delay = f.latency_s
                if f.jitter_s:
                    delay = max(0.0, delay + self._rng.uniform(-f.jitter_s, f.jitter_s))
                # Keep order: a chunk never overtakes the one before it.
                release_at = max(release_at, time.monotonic() + delay)
                await queue.put((release_at, data))
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            return
        finally:
            writer_task.cancel()

    async def _deliver(self, queue: asyncio.Queue[tuple[float, bytes]],
                       writer: asyncio.StreamWriter, upstream: bool) -> None:
        try:
            while True:
                release_at, data = await queue.get()
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                wait = release_at - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if upstream:
                    self.stats.bytes_up += len(data)
                else:
                    self.stats.bytes_down += len(data)
                writer.write(data)
                await writer.drain()
                if self.faults.bandwidth:
                    await asyncio.sleep(len(data) / self.faults.bandwidth)
        except (ConnectionError, OSError):
            return


class ProxyHub:
    """Owns the asyncio loop thread that every link proxy of a run shares."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="link-proxies", daemon=True)
        self._thread.start()
        self.proxies: dict[str, LinkProxy] = {}

    def call(self, factory: Any) -> None:
        """Schedule a coroutine function on the loop without waiting (thread-safe)."""
        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(factory(), self._loop)

    def _run(self, coro: Coroutine[Any, Any, Any], timeout: float = 5.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def add(self, name: str, upstream: tuple[str, int], listen_port: int = 0) -> LinkProxy:
        """Start a proxy for link `name` in front of `upstream`; returns it listening."""
        proxy = LinkProxy(self, name, upstream, ("127.0.0.1", listen_port))
        self._run(proxy._start())
        self.proxies[name] = proxy
        return proxy

    def close(self) -> None:
        if not self._loop.is_running():
            return
        for proxy in self.proxies.values():
            try:
                self._run(proxy._close())
            except Exception:  # closing must never raise: the run is ending anyway
                pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> ProxyHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

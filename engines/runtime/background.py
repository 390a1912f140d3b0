"""A function run in a thread of its own, its outcome in a Future (a GUI must not block)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future


def in_background(fn: Callable[[], None], name: str) -> Future[None]:
    future: Future[None] = Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        else:
            future.set_result(None)

    threading.Thread(target=work, name=f"supervisor-{name}", daemon=True).start()
    return future

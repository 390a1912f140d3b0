"""An external broker given by URL: the lab uses it but cannot kill or restart it."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

from engines.brokers.handle import BrokerError, BrokerState
from engines.brokers.managed import amqp_ready


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if " " in url:
        return " ".join(redact(u) for u in url.split())
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class ExternalBroker:
    """A broker the lab does not own: start() only checks that it answers."""

    managed = False

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url  # a cluster's members: URLs separated by spaces
        self._state = BrokerState.STOPPED

    @property
    def state(self) -> BrokerState:
        return self._state

    def start(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            each = min(5.0, max(0.5, deadline - time.monotonic()))
            if any(amqp_ready(url, timeout=each) for url in self.url.split()):  # a cluster: any member
                self._state = BrokerState.RUNNING
                return
            if time.monotonic() >= deadline:
                raise BrokerError(
                    f"broker '{self.name}' is external ({redact(self.url)}) and did not accept an "
                    f"AMQP connection within {timeout:.0f} s"
                )
            time.sleep(0.5)

    def _decline(self, action: str) -> BrokerError:
        return BrokerError(
            f"broker '{self.name}' is external ({redact(self.url)}); the lab cannot {action} it"
        )

    def kill(self) -> None:
        raise self._decline("kill")

    def stop(self, timeout: float = 30, run_ended: bool = False) -> None:
        raise self._decline("stop")

    def restart(self, timeout: float = 60) -> None:
        raise self._decline("restart")

    def pause(self) -> None:
        raise self._decline("pause")

    def resume(self) -> None:
        raise self._decline("resume")

    def close(self) -> None:
        self._state = BrokerState.STOPPED

    def pids(self) -> list[int]:
        return []

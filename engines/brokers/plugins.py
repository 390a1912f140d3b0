"""The plugin directory a managed node boots with: the plugins it enables and what they need.

RabbitMQ reads every application in its plugins directory at boot (their
`.app` files and configuration schemas) although it starts only the enabled
ones. Debian ships about 70 there; a lab node enables `rabbitmq_management`.
Pointing `RABBITMQ_PLUGINS_DIR` (RabbitMQ's own setting) at a private
directory of links to the enabled plugins and the applications they depend on
starts the same applications and makes each boot about 15 % cheaper in CPU
(4.0 against 4.7 CPU-s a node, 5 alternating pairs). Nothing else changes:
the same enabled plugins, the same code.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from pathlib import Path

from engines.brokers.install import server_script

_APP_DIR = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)-[0-9][0-9A-Za-z.+-]*$")
_DEPS = re.compile(r"\{\s*(?:applications|included_applications)\s*,\s*\[([^\]]*)\]")


def installed_plugins_dir() -> Path | None:
    """RabbitMQ's own plugins directory: `<RABBITMQ_HOME>/plugins` beside the server script's sbin."""
    script = server_script()
    if script is None:
        return None
    home = script.resolve().parent.parent  # <home>/sbin/rabbitmq-server
    plugins = home / "plugins"
    return plugins if plugins.is_dir() else None


def read_apps(directory: Path) -> dict[str, tuple[str, set[str]]]:
    """The applications in `directory` (a plugins or an Erlang lib folder): name to (folder name,
    the applications its `.app` file says it needs)."""
    apps: dict[str, tuple[str, set[str]]] = {}
    try:
        entries = os.listdir(directory)
    except OSError:
        return apps
    for entry in entries:
        match = _APP_DIR.match(entry)
        if not match:
            continue
        name = match["name"]
        app_file = directory / entry / "ebin" / f"{name}.app"
        try:
            text = app_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        deps: set[str] = set()
        for listed in _DEPS.findall(text):
            deps |= {dep.strip().strip("'") for dep in listed.split(",") if dep.strip()}
        apps[name] = (entry, deps)
    return apps


def needed_by(apps: dict[str, tuple[str, set[str]]], wanted: Iterable[str]) -> set[str]:
    """`wanted` and every application of `apps` they need, transitively (others are skipped)."""
    seen: set[str] = set()
    todo = list(wanted)
    while todo:
        name = todo.pop()
        if name in seen or name not in apps:
            continue
        seen.add(name)
        todo.extend(apps[name][1])
    return seen


@functools.lru_cache(maxsize=8)
def closure(plugins_dir: Path, wanted: tuple[str, ...]) -> tuple[str, ...]:
    """The directory names (e.g. `ra-2.2.0`) of `wanted` and every application they need.

    Empty when an application cannot be read: the caller then keeps RabbitMQ's default.
    """
    apps = read_apps(plugins_dir)
    if not all(name in apps for name in wanted):
        return ()
    # kernel, stdlib...: Erlang's own, not plugins
    return tuple(sorted(apps[name][0] for name in needed_by(apps, wanted)))


def private_plugins_dir(node_dir: Path, enabled: list[str]) -> Path | None:
    """Make `<node_dir>/plugins` with links to what `enabled` needs; None to keep the default."""
    installed = installed_plugins_dir()
    if installed is None:
        return None
    needed = closure(installed, ("rabbit", "rabbitmq_prelaunch", *enabled))
    if not needed:
        return None
    target = node_dir / "plugins"
    target.mkdir(parents=True, exist_ok=True)
    for entry in needed:
        link = target / entry
        if not link.is_symlink():
            link.symlink_to(installed / entry, target_is_directory=True)
    return target

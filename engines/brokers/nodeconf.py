"""The private files and environment of one managed RabbitMQ node.

Everything lives under `<run_dir>/brokers/<name>/`: config, cookie, data, logs,
and a `state.json` that lets a crash cleanup find the beam pid and the epmd port
even when the lab that started them was SIGKILLed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engines.brokers.plugins import private_plugins_dir
from engines.brokers.preload import preload_flags
from engines.brokers.procs import free_ports
from engines.hygiene import RUN_MARK

STATE_FILE = "state.json"
NET_TICKTIME_S = 8


@dataclass
class NodeLayout:
    """Names, ports, credentials and paths of one managed node; fixed for its lifetime."""

    name: str
    directory: Path
    nodename: str
    amqp_port: int
    dist_port: int
    epmd_port: int
    user: str
    password: str
    mgmt_port: int | None = None  # management API (queue leaders, broker internals), loopback
    seed: str | None = None  # cluster members 2..N: the node name they join at first boot
    cookie: str | None = None  # cluster members share one Erlang cookie

    @property
    def url(self) -> str:
        return f"amqp://{self.user}:{self.password}@127.0.0.1:{self.amqp_port}/%2F"

    @property
    def home(self) -> Path:
        return self.directory / "home"

    @property
    def config_file(self) -> Path:
        return self.directory / "rabbitmq.conf"

    @property
    def console_log(self) -> Path:
        return self.directory / "console.log"

    @property
    def cookie_file(self) -> Path:
        return self.home / ".erlang.cookie"


def new_layout(name: str, run_dir: Path) -> NodeLayout:
    """A fresh node: unique node name, free loopback ports, credentials made for the run."""
    directory = broker_dir(name, run_dir)
    amqp, dist, epmd, mgmt = free_ports(4, holder=directory)  # held until the broker is closed
    suffix = secrets.token_hex(4)
    return NodeLayout(
        name=name,
        directory=directory,
        nodename=f"lab-{name}-{suffix}@localhost",
        amqp_port=amqp,
        dist_port=dist,
        epmd_port=epmd,
        user=f"lab-{secrets.token_hex(4)}",
        password=new_password(),
        mgmt_port=mgmt,  # the management API: ready, unacked, redelivered per queue (internals)
    )


def new_password() -> str:
    return secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


def broker_dir(name: str, run_dir: Path) -> Path:
    """A single node's directory; for a cluster, what holds its ports in the port registry (its
    members live in `<name>.<i>/`)."""
    return Path(run_dir).resolve() / "brokers" / name


def member_layouts(name: str, size: int, run_dir: Path) -> list[NodeLayout]:
    """The members of one cluster: one epmd port, cookie, user; own names, ports, dirs.

    Member i lives in `brokers/<name>.<i>/` (the crash cleanup finds it like a
    single node); members 2..N name member 1 as the seed they join.
    """
    ports = free_ports(3 * size + 1, holder=broker_dir(name, run_dir))  # held until the cluster is closed
    epmd = ports.pop()
    user, password = f"lab-{secrets.token_hex(4)}", new_password()
    cookie = secrets.token_hex(20).upper()
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", name)
    suffix = secrets.token_hex(3)
    layouts: list[NodeLayout] = []
    for i in range(1, size + 1):
        amqp, dist, mgmt = ports[3 * (i - 1): 3 * i]
        layouts.append(NodeLayout(
            name=f"{name}/{i}", directory=Path(run_dir).resolve() / "brokers" / f"{name}.{i}",
            nodename=f"lab-{safe}-{i}-{suffix}@localhost", amqp_port=amqp, dist_port=dist,
            epmd_port=epmd, user=user, password=password, mgmt_port=mgmt,
            seed=layouts[0].nodename if layouts else None, cookie=cookie,
        ))
    return layouts


def write_files(layout: NodeLayout) -> None:
    """Create the node's directory, config, cookie (0600), plugin and env files."""
    d = layout.directory
    for sub in ("home", "mnesia", "log"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(layout.home, 0o700)
    if not layout.cookie_file.exists():
        fd = os.open(layout.cookie_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(layout.cookie or secrets.token_hex(20).upper())
    os.chmod(layout.cookie_file, 0o600)
    lines = [
        f"default_user = {layout.user}",
        f"default_pass = {layout.password}",
        "loopback_users = none",
        f"listeners.tcp.default = 127.0.0.1:{layout.amqp_port}",
        "log.console = false",
        "log.file.level = info",
    ]
    enabled: list[str] = []
    if layout.mgmt_port is not None:
        enabled.append("rabbitmq_management")
        lines += [f"management.tcp.port = {layout.mgmt_port}", "management.tcp.ip = 127.0.0.1",
                  "collect_statistics_interval = 1000",
                  # the API's per-queue counts come from samples kept at this granularity (s);
                  # RabbitMQ's default 5 would make ready/unacked 5 s stale
                  "management.sample_retention_policies.global.minute = 1",
                  "management.sample_retention_policies.basic.minute = 1",
                  "management.sample_retention_policies.detailed.10 = 1"]
    if layout.cookie is not None:  # a cluster member
        # A paused (SIGSTOPped) member is seen as down after about net_ticktime (default 60 s:
        # the followers of a quorum queue would wait that long to elect a leader); the
        # minority side of a partition pauses itself until it can rejoin the majority.
        lines += [f"net_ticktime = {NET_TICKTIME_S}", "cluster_partition_handling = pause_minority"]
    if layout.seed is not None:
        lines += ["cluster_formation.peer_discovery_backend = classic_config",
                  f"cluster_formation.classic_config.nodes.1 = {layout.seed}"]
    layout.config_file.write_text("\n".join([*lines, ""]), encoding="utf-8")
    os.chmod(layout.config_file, 0o600)
    (d / "enabled_plugins").write_text(f"[{','.join(enabled)}].\n", encoding="utf-8")
    private_plugins_dir(d, enabled)  # what the node enables and needs, not all 70 shipped
    (d / "rabbitmq-env.conf").write_text("# the lab sets everything through the environment\n")
    save_state(layout, beam_pid=None)


def environment(layout: NodeLayout) -> dict[str, str]:
    """The process environment of the node: loopback only, private epmd, private HOME."""
    d = layout.directory
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
    env.update(
        HOME=str(layout.home),
        RABBITMQ_NODENAME=layout.nodename,
        RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
        RABBITMQ_NODE_PORT=str(layout.amqp_port),
        RABBITMQ_DIST_PORT=str(layout.dist_port),
        ERL_EPMD_ADDRESS="127.0.0.1",
        ERL_EPMD_PORT=str(layout.epmd_port),
        # -noinput here plus RABBITMQ_ALLOW_INPUT makes the script exec erl directly
        # (no shell proxy), so our child is beam.smp itself and keeps the
        # parent-death signal; without ALLOW_INPUT the script forks and waits.
        RABBITMQ_ALLOW_INPUT="1",
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} -noinput",
        RABBITMQ_MNESIA_BASE=str(d / "mnesia"),
        RABBITMQ_LOG_BASE=str(d / "log"),
        RABBITMQ_CONFIG_FILE=str(layout.config_file),
        RABBITMQ_ADVANCED_CONFIG_FILE=str(d / "advanced.config"),
        RABBITMQ_ENABLED_PLUGINS_FILE=str(d / "enabled_plugins"),
        RABBITMQ_FEATURE_FLAGS_FILE=str(d / "feature_flags"),
        RABBITMQ_CONF_ENV_FILE=str(d / "rabbitmq-env.conf"),
        RABBITMQ_PID_FILE=str(d / "beam.pid"),
    )
    if (d / "plugins").is_dir():  # engines.brokers.plugins: the enabled ones and their needs
        env["RABBITMQ_PLUGINS_DIR"] = str(d / "plugins")
        flags = preload_flags(d / "plugins")  # engines.brokers.preload: its code in one batch
        if flags is not None:
            env["ERL_AFLAGS"] = flags
    env[RUN_MARK] = str(d.resolve().parents[1])  # <run>/brokers/<name>: beam's helpers inherit it

    return env


def save_state(layout: NodeLayout, beam_pid: int | None) -> None:
    state = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(layout).items()}
    state.pop("password", None)
    state.pop("cookie", None)
    state["beam_pid"] = beam_pid
    path = layout.directory / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
    tmp.replace(path)


def recorded_states(run_dir: Path) -> list[dict[str, Any]]:
    """The state files of every managed node of a run (for crash cleanup)."""
    states = []
    for path in sorted((Path(run_dir) / "brokers").glob(f"*/{STATE_FILE}")):
        try:
            states.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return states

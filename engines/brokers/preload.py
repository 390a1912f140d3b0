"""Load a managed node's code in one batch before RabbitMQ boots: the same modules, half the CPU.

RabbitMQ 3.10 finds its boot steps by reading the attributes of every module
of every loaded application, so each boot loads about 1,100 modules one at a
time; Erlang/OTP 25 copies its export table at each load, and that is most of
a boot (its log shows a gap of 3 to 6 s after '== Boot steps =='). Erlang's
`code:ensure_modules_loaded/1` loads the same modules in one batch (prepared in
parallel, committed once). The lab asks for it through `ERL_AFLAGS`, Erlang's
own variable for flags that come first, so it runs before `rabbit boot`.
Measured (3 alternating pairs): 5.5-8.2 to 3.3-3.5 CPU-s and 6.6-10.9 to
4.5-5.1 s to ready. Nothing else changes: the same code and configuration;
RabbitMQ still puts its plugins first in the code path, and a preload that
fails is caught, leaving the boot as it was. The VM RabbitMQ starts only to
make sure epmd runs inherits the variable and skips the preload (it loaded the
same 1,100 modules for nothing: about 2.9 CPU-s of every boot).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from engines.brokers.plugins import needed_by, read_apps

_UNQUOTABLE = set("'\"\\\n")  # a path erlexec's quoting or an Erlang string cannot carry as is
# RabbitMQ makes sure epmd runs by starting a throwaway VM named so (rabbit_nodes_common:ensure_epmd):
# it inherits the node's environment, and preloading there cost as much CPU as the boot saved
EPMD_STARTER = "epmd-starter-"


def erlang_lib_dir() -> Path | None:
    """Erlang's own applications (kernel, mnesia, ssl...): `<root>/lib` beside `<root>/bin/erl`."""
    erl = shutil.which("erl")
    if erl is None:
        return None
    lib = Path(erl).resolve().parent.parent / "lib"
    return lib if lib.is_dir() else None


def code_dirs(plugins_dir: Path) -> list[Path]:
    """The `ebin` folders of the node's code: every plugin folder (they are what it enables and
    needs) and the Erlang applications these need, transitively."""
    plugins = read_apps(plugins_dir)
    dirs = [plugins_dir / entry / "ebin" for entry, _deps in sorted(plugins.values())]
    lib = erlang_lib_dir()
    if lib is not None:
        erlang = read_apps(lib)
        wanted = {dep for _entry, deps in plugins.values() for dep in deps} - plugins.keys()
        dirs += [lib / erlang[name][0] / "ebin" for name in sorted(needed_by(erlang, wanted))]
    return [d for d in dirs if d.is_dir()]


def preload_flags(plugins_dir: Path) -> str | None:
    """The `ERL_AFLAGS` value that batch-loads the node's code; None to boot as RabbitMQ does."""
    dirs = code_dirs(plugins_dir)
    if not dirs or any(_UNQUOTABLE & set(str(d)) for d in dirs):
        return None
    listed = ",".join(f'"{d}"' for d in dirs)
    expr = (f"try case init:get_argument(sname) of {{ok, [[\"{EPMD_STARTER}\" ++ _]]}} -> ok; "
            f"_ -> Ds = [{listed}], code:add_pathsz(Ds), "
            'code:ensure_modules_loaded([list_to_atom(filename:basename(F, ".beam")) '
            '|| D <- Ds, F <- filelib:wildcard(D ++ "/*.beam")]) end '
            "catch _:_ -> ok end")
    return f"-eval '{expr}'"

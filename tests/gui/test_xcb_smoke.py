"""The real app on a real X display (Xvfb, Qt's xcb platform), as `make run` starts it.

Every other GUI test runs offscreen, so a missing xcb library would go unnoticed;
these start `python -m labgui` as a user does, on the default example, take a
screenshot of the screen, and quit it with Ctrl+Q typed through the X server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from tests.conftest import ROOT

pytestmark = pytest.mark.gui


def _qt_dir() -> Path:
    import PySide6

    return Path(PySide6.__file__).parent / "Qt"


def test_the_xcb_platform_plugin_finds_every_library_it_links() -> None:
    """`ldd` names each library the set-up forgot (Qt's own message names only one)."""
    if shutil.which("ldd") is None:
        pytest.skip("ldd is not installed: cannot list the xcb plugin's libraries")
    plugin = _qt_dir() / "plugins" / "platforms" / "libqxcb.so"
    assert plugin.exists(), f"PySide6 ships no xcb platform plugin at {plugin}"
    out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, check=True).stdout
    missing = sorted({line.split()[0] for line in out.splitlines() if "not found" in line})
    assert not missing, (f"{plugin.name} cannot load: {', '.join(missing)} missing; "
                         "scripts/setup-system.sh must install their packages")


@pytest.fixture
def display() -> Iterator[str]:
    """A private Xvfb display (the server picks a free number and tells it through -displayfd)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (scripts/setup-system.sh installs it as root): "
                    "the app cannot be started on a real X display here")
    read, write = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            proc.kill()
            err = proc.communicate(timeout=10)[1].decode(errors="replace")
            pytest.skip(f"Xvfb could not start a display here: {err.strip()[-300:]}")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _xdotool(display: str, *args: str) -> str:
    env = {**os.environ, "DISPLAY": display}
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=20).stdout


@pytest.mark.timeout(90)
def test_the_real_app_starts_on_xcb_shows_the_default_example_and_quits(display: str, tmp_path: Path) -> None:
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed (scripts/setup-system.sh installs it): cannot type Ctrl+Q")
    shot = tmp_path / "screen.png"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", LAB_STATE_DIR=str(tmp_path / "state"))
    app = subprocess.Popen([sys.executable, "-m", "labgui", "--screenshot", str(shot)], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not shot.exists() and app.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        if app.poll() is not None:
            out, err = app.communicate()
            pytest.fail(f"the app exited with {app.returncode} before showing its window:\n{err[-2000:]}")
        assert shot.exists(), "no screenshot within 60 s"
        time.sleep(0.3)  # the PNG is complete once written; let the event loop settle
        windows = _xdotool(display, "search", "--onlyvisible", "--name", "Topology Lab").split()
        assert windows, "no window titled 'Topology Lab' on the display"
        titles = [_xdotool(display, "getwindowname", w).strip() for w in windows]
        assert any("broker-failure-rabbitmq" in t for t in titles), titles
        _xdotool(display, "windowfocus", "--sync", windows[0], "key", "ctrl+q")
        out, err = app.communicate(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0, err[-2000:]
    assert "Could not load the Qt platform plugin" not in err
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1400, 900)
    # The window (menus, palette, canvas with its three nodes) covers the top left; the rest is
    # the bare root window. A blank or black screen has a handful of colours, the editor hundreds.
    colours = {image.pixel(x, y) for x in range(0, 1280, 7) for y in range(0, 800, 7)}
    assert len(colours) > 50, f"the screenshot shows almost nothing ({len(colours)} colours)"

#!/usr/bin/env bash
# Install the Debian packages the lab needs, where they are missing:
# python3-venv, the shared libraries Qt loads, and rabbitmq-server (the lab
# starts its own private RabbitMQ nodes; it never uses the system service).
# Without root or apt it installs nothing and says what to do instead.
set -u
want=(rabbitmq-server libegl1 libgl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3)
# Qt's xcb platform plugin (a real X display): every library `ldd` lists for
# PySide6's libqxcb.so and libQt6XcbQpa.so beyond the ones above. Qt's own error
# names only libxcb-cursor0, so the list is taken from ldd, not from that message.
want+=(libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
       libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0
       libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0)
# The smoke test of `make test` starts the real app on a virtual X display.
want+=(xvfb xdotool)
python3 -c 'import venv, ensurepip' 2>/dev/null || want+=(python3-venv)
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: missing system packages: ${missing[*]}" >&2
  echo "setup: install them with: sudo apt-get install -y ${missing[*]}" >&2
  echo "setup: brokerless topologies still run; RabbitMQ ones will be refused until then." >&2
  exit 0
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Debian's package starts a system RabbitMQ: tell invoke-rc.d not to, the lab runs its own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; trap 'rm -f "$policy"' EXIT; fi
apt-get update -qq >/dev/null || echo "setup: apt-get update failed; trying the install anyway" >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || { echo "setup: apt-get install ${missing[*]} failed; RabbitMQ topologies will be refused" >&2; exit 0; }
# Stop a system broker the package may have started anyway, and its epmd.
if command -v rabbitmqctl >/dev/null 2>&1 && pgrep -u rabbitmq beam.smp >/dev/null 2>&1; then
  service rabbitmq-server stop >/dev/null 2>&1 || true
fi
exit 0

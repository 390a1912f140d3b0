#!/usr/bin/env bash
# Install the Debian packages the lab needs, where they are missing:
# python3-venv, the shared libraries Qt loads, and rabbitmq-server (the lab
# starts its own private RabbitMQ nodes; it never uses the system service).
# Without root or apt it installs nothing and says what to do instead.
set -u
want=(rabbitmq-server libegl1 libgl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3)
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

#!/usr/bin/env bash
# The PKCS#11 KEK tests run against SoftHSM2 (a real PKCS#11 module) from Debian.
# Installs it when missing; a machine that has it is left alone.
set -euo pipefail
if [ -f /usr/lib/softhsm/libsofthsm2.so ] && command -v softhsm2-util >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "softhsm2 is missing: run 'apt-get install -y softhsm2' as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends softhsm2 >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y --no-install-recommends softhsm2 >/dev/null; }
test -f /usr/lib/softhsm/libsofthsm2.so

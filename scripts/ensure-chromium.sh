#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a downloaded browser build).
# Installs it when missing and we are root on a Debian-like system; otherwise says how.
set -euo pipefail
CHROMIUM="${SFE_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is missing: installing Debian's chromium package for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  if [ -x "$CHROMIUM" ]; then exit 0; fi
  echo "Installed Debian's chromium, but $CHROMIUM is still missing; set SFE_CHROMIUM to its path." >&2
  exit 1
fi
echo "The browser tests need Chromium at $CHROMIUM: run 'sudo apt-get install -y chromium' (Debian/Ubuntu), or set SFE_CHROMIUM to its path." >&2
exit 1

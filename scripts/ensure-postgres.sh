#!/usr/bin/env bash
# The PostgreSQL tests (vitest project api-pg) and `pnpm db:check` start a throwaway
# PostgreSQL server from Debian's binaries (never a downloaded build). Installs the
# package when missing and we are root on a Debian-like system; otherwise says how.
set -euo pipefail
if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then exit 0; fi
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL is missing: installing Debian's postgresql package for the database tests..."
  apt-get update -qq
  # The package's own cluster is not used: the tests run their own in a temp dir.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then exit 0; fi
  echo "Installed Debian's postgresql, but no initdb under /usr/lib/postgresql/*/bin; set PG_BIN to its directory." >&2
  exit 1
fi
echo "The database tests need PostgreSQL's server binaries (initdb, pg_ctl): run 'sudo apt-get install -y postgresql' (Debian/Ubuntu), or set PG_BIN to their directory." >&2
exit 1

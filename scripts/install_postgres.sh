#!/usr/bin/env bash
# Install PostgreSQL's server binaries (Debian's `postgresql`) when there is no initdb yet.
# Needs root. Starts no service: the tests run their own throwaway server (tests/postgres_server.py).
set -euo pipefail
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && exit 0
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d   # while installing, tell Debian's scripts not to start the cluster
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
echo "install_postgres: $(compgen -G '/usr/lib/postgresql/*/bin/initdb')"

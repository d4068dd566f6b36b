#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS server for the store tests and the API benchmark.
#
#   scripts/postgres_for_tests.sh start DIR [--install]   start a new cluster in DIR; print its URL
#   scripts/postgres_for_tests.sh stop DIR                stop it (DIR can then be removed)
#
# The server listens on a Unix socket in DIR only (no TCP port, so it cannot clash with another
# server on the machine), trusts local connections, and holds the database ewaste_test owned by
# the role ewaste (LOGIN CREATEROLE, not a superuser: like a store owner in production) with
# the PostGIS extension created by the superuser. --install first installs the Debian packages
# postgresql-15 and postgresql-15-postgis-3 when PostGIS is missing (needs root and apt).
# Run as root, the cluster belongs to the system user postgres (PostgreSQL refuses root).
set -euo pipefail
cmd="${1:?usage: $0 start|stop DIR [--install]}"
dir="${2:?usage: $0 start|stop DIR [--install]}"

have_postgis() { compgen -G "/usr/share/postgresql/*/extension/postgis.control" >/dev/null; }
bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_owner=()
if [[ "$(id -u)" == 0 ]]; then
    as_owner=(runuser -u postgres --)
fi

case "$cmd" in
start)
    if [[ "${3:-}" == "--install" ]] && ! have_postgis; then
        echo "installing postgresql-15 and postgresql-15-postgis-3" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            postgresql-15 postgresql-15-postgis-3 >&2
    fi
    bin="$(bindir)"
    if [[ -z "$bin" || ! -x "$bin/initdb" ]] || ! have_postgis; then
        echo "PostgreSQL with PostGIS is not installed" >&2
        exit 3
    fi
    mkdir -p "$dir"
    if [[ "$(id -u)" == 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
        chown postgres "$dir"
    fi
    chmod 700 "$dir"
    "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
        -o "-k $dir -c listen_addresses='' -c max_connections=200" start >&2
    "$bin/psql" -h "$dir" -U postgres -d postgres -v ON_ERROR_STOP=1 -q >&2 <<'SQL'
CREATE ROLE ewaste LOGIN CREATEROLE;
CREATE DATABASE ewaste_test OWNER ewaste;
\c ewaste_test
CREATE EXTENSION postgis;
SQL
    echo "postgresql://ewaste@/ewaste_test?host=$dir"
    ;;
stop)
    bin="$(bindir)"
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w -s stop >&2 || true
    fi
    ;;
*)
    echo "usage: $0 start|stop DIR [--install]" >&2
    exit 2
    ;;
esac

# shellcheck shell=bash
# A throwaway PostgreSQL cluster for the tests: sourced by scripts/test (and usable by hand).
#
#   source scripts/postgres.sh && pg_up     # sets STATEMACHINES_PG_URL; pg_down stops it
#
# When STATEMACHINES_PG_URL is already set (a developer's own server), nothing is started.
# Otherwise: finds PostgreSQL's server binaries (installing Debian's `postgresql` with apt-get
# when they are missing and we are root, or saying what to install), creates a cluster in a
# temporary folder owned by an unprivileged user, listens only on 127.0.0.1 on a free port,
# and leaves pg_down to the caller's exit trap, which stops it and removes the folder.

_pg_dir="" _pg_user="" _pg_bin=""

_pg_find_bin() {
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    dir=$(pg_config --bindir 2>/dev/null)
    if [ -x "$dir/initdb" ]; then _pg_bin=$dir; return 0; fi
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ]; then _pg_bin=$dir; return 0; fi
  done
  return 1
}

_pg_as() {  # run a command as the cluster's owner
  if [ "$(id -u)" = 0 ]; then runuser -u "$_pg_user" -- "$@"; else "$@"; fi
}

pg_up() {
  if [ -n "${STATEMACHINES_PG_URL:-}" ]; then
    echo "postgres: using the server at STATEMACHINES_PG_URL (nothing started)"
    return 0
  fi
  if ! _pg_find_bin; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "postgres: installing PostgreSQL with apt-get"
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 1
      _pg_find_bin || return 1
    else
      echo "postgres: PostgreSQL's server (initdb, pg_ctl) is missing and I cannot install it." >&2
      echo "          Install it ('sudo apt-get install postgresql' on Debian/Ubuntu), or point" >&2
      echo "          STATEMACHINES_PG_URL at a server you run (postgresql://user@host:port/db)." >&2
      return 1
    fi
  fi
  _pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/statemachines-pg.XXXXXX")
  if [ "$(id -u)" = 0 ]; then  # initdb refuses to run as root
    if id postgres >/dev/null 2>&1; then _pg_user=postgres; else _pg_user=nobody; fi
    chown "$_pg_user" "$_pg_dir"
  fi
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  _pg_as "$_pg_bin/initdb" -D "$_pg_dir/data" -U statemachines -A trust -E UTF8 --no-locale >"$_pg_dir/initdb.log" 2>&1 || {
    cat "$_pg_dir/initdb.log" >&2; return 1; }
  _pg_as "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -l "$_pg_dir/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $_pg_dir -c max_connections=200" >/dev/null || {
    cat "$_pg_dir/server.log" >&2; return 1; }
  _pg_as "$_pg_bin/createdb" -h 127.0.0.1 -p "$port" -U statemachines statemachines || return 1
  export STATEMACHINES_PG_URL="postgresql://statemachines@127.0.0.1:$port/statemachines"
  export STATEMACHINES_PG_BIN="$_pg_bin" STATEMACHINES_PG_DATA="$_pg_dir/data"
  echo "postgres: a throwaway cluster on 127.0.0.1:$port ($("$_pg_bin/postgres" --version))"
}

pg_down() {
  if [ -n "$_pg_dir" ] && [ -d "$_pg_dir" ]; then
    _pg_as "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$_pg_dir"
    _pg_dir=""
  fi
}

#!/bin/bash
# The upstream postgres image's start-up, for what chiso's deployments use:
# on an empty $PGDATA, initdb with POSTGRES_USER as superuser (password
# POSTGRES_PASSWORD, scram-sha-256 over TCP), create POSTGRES_DB, run
# /docker-entrypoint-initdb.d/*.sql and *.sh against a server on the Unix
# socket only (so TCP health checks stay red until the real server runs),
# then exec the real server. Started as root, it hands over to `postgres`.
set -Eeuo pipefail

if [ "${1:-postgres}" != postgres ]; then exec "$@"; fi

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 0700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
# Started as a non-root user (runAsUser), PGDATA may be a subdirectory of a
# volume the user can write to but does not own; initdb wants it 0700.
mkdir -p "$PGDATA"
chmod 0700 "$PGDATA"

# The socket directory: the image's, unless a read-only root file system
# (with a volume the user cannot write over it) leaves only /tmp.
sockets=/var/run/postgresql
[ -w "$sockets" ] || sockets=/tmp

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "error: database is uninitialized and POSTGRES_PASSWORD is not set" >&2
    exit 1
  fi
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  rm -f "$pwfile"
  # Every address may connect with a password (the container network decides who can reach it).
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"

  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=$sockets" start
  psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc --host "$sockets")
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >/dev/null
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) echo "initdb.d: running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" >/dev/null ;;
      *.sh) echo "initdb.d: sourcing $f"; . "$f" ;;
      *) [ -e "$f" ] && echo "initdb.d: ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up."
fi

exec postgres -c listen_addresses='*' -c unix_socket_directories=$sockets "${@:2}"

#!/usr/bin/env bash
# Faults: while reports flow through the gateway (chiso-load submit: each
# with its own Idempotency-Key, retried with the same key until
# acknowledged, every acknowledgement logged), SIGKILL each service in turn
# and start it again, then crash and restart PostgreSQL, then kill -9 a
# whole `chiso up` and start it on the same data folder. After each phase
# `chiso-load verify` reads everything acknowledged so far back through the
# API: each report stored exactly once with the id, version and values
# acknowledged, no report nobody was told about, and each province's
# aggregate equal to the sums recomputed from the raw values.
#
# The four services run as separate processes on a throw-away PostgreSQL
# server of this script's own (initdb in a temporary folder, a random port),
# so restarting it disturbs nobody. Debug binaries; about 3 minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# LOAD_BIN_DIR: binaries already built (debug or release) instead of a build here.
if [ -n "${LOAD_BIN_DIR:-}" ]; then
  BIN="$LOAD_BIN_DIR"
else
  cargo build --locked -q -p chiso -p chiso-load -p chiso-registry -p chiso-submission \
    -p chiso-aggregation -p chiso-gateway
  target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  BIN="$target_dir/debug"
fi
LOAD="$BIN/chiso-load"

root="$(mktemp -d /tmp/chiso-faults.XXXXXX)"
chmod 755 "$root"
WORK="$root/stack"
mkdir -p "$WORK"
# shellcheck source=tests/load/lib.sh
. tests/load/lib.sh

pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
pg_home="$root/pg"
pg_data="$pg_home/data"
pg_port=$(($(free_block) + 19))
up_pid=""
submitter=""

pg() { runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_data" "$@"; }
pg_start() {
  pg -o "-p $pg_port -k $pg_home -c listen_addresses=127.0.0.1" -l "$pg_home/log" -w start >/dev/null
}

cleanup() {
  local status=$?
  if [ "$status" -ne 0 ] || [ "${failures:-0}" -gt 0 ]; then
    kept="/tmp/chiso-faults-logs.$$"
    mkdir -p "$kept"
    cp -r "$WORK/logs" "$pg_home/log" "$root"/*.log "$root"/*.out "$root"/*.err "$kept/" 2>/dev/null || true
    echo "logs kept in $kept"
  fi
  [ -n "$submitter" ] && kill "$submitter" 2>/dev/null || true
  [ -n "$up_pid" ] && kill -KILL "$up_pid" 2>/dev/null || true
  stack_stop_all 2>/dev/null || true
  [ -d "$pg_data" ] && pg -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap cleanup EXIT

mkdir -p "$pg_home"
chown postgres "$pg_home"
runuser -u postgres -- "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 >/dev/null
pg_start
psql "postgres://postgres@127.0.0.1:$pg_port/postgres" -qc "CREATE DATABASE chiso" >/dev/null

stack_init "postgres://postgres@127.0.0.1:$pg_port/chiso"
stack_start_all
echo "four services on PostgreSQL :$pg_port, gateway $GATEWAY"

failures=0
group=$((100 + RANDOM % 800))

# submit_during ACTION LOG TARGET...: starts the submitter (200 reports at
# 20/s), runs ACTION two seconds into its submissions, and waits for it:
# every report must end acknowledged.
submit_during() {
  local action="$1" log="$2"
  shift 2
  group=$((group + 1))
  rm -f "$root/ready"
  "$LOAD" submit "$@" --first-group "$group" --provinces 51 --agencies 200 --rate 20 \
    --concurrency 8 --give-up-secs 120 --log "$log" --ready-file "$root/ready" \
    >"$root/submit.out" 2>"$root/submit.err" &
  submitter=$!
  for _ in $(seq 1 600); do
    [ -f "$root/ready" ] && break
    kill -0 "$submitter" 2>/dev/null || break
    sleep 0.1
  done
  [ -f "$root/ready" ] || { echo "FAIL: the submitter never started"; cat "$root/submit.err"; exit 1; }
  sleep 2
  $action
  if wait "$submitter"; then
    tail -1 "$root/submit.out"
  else
    echo "FAIL: reports were not acknowledged"; tail -20 "$root/submit.err"; failures=$((failures + 1))
  fi
  submitter=""
}

verify() {
  local phase="$1" log="$2"
  shift 2
  if "$LOAD" verify "$@" --log "$log" --wait-secs 90 >"$root/verify.out" 2>&1; then
    echo "ok: $phase: $(tail -1 "$root/verify.out")"
  else
    echo "FAIL: $phase:"; grep -E 'MISMATCH|Error' "$root/verify.out" | head -30
    failures=$((failures + 1))
  fi
}

kill_and_restart() {
  echo "SIGKILL chiso-$victim, started again 3 s later"
  service_kill "$victim"
  sleep 3
  service_start "$victim"
}

restart_postgres() {
  echo "PostgreSQL stopped (immediate: as a crash), started again 3 s later"
  pg -m immediate stop >/dev/null
  sleep 3
  pg_start
}

target=(--gateway "$GATEWAY" --admin-secret-file "$WORK/admin-secret")
for victim in registry submission aggregation gateway; do
  submit_during kill_and_restart "$root/acks.log" "${target[@]}"
  verify "chiso-$victim killed" "$root/acks.log" "${target[@]}"
done
submit_during restart_postgres "$root/acks.log" "${target[@]}"
verify "PostgreSQL restarted" "$root/acks.log" "${target[@]}"
stack_stop_all

# The whole stack in one process, on SQLite: kill -9 and start again.
up_data="$root/up"
up_base="$(free_block)"
up_gateway="127.0.0.1:$((up_base + 5))"
up_start() {
  "$BIN/chiso" up --no-demo --data-dir "$up_data" --gateway-addr "$up_gateway" \
    --metrics-addr "127.0.0.1:$((up_base + 6))" --grpc-port "$up_base" >>"$root/up.log" 2>&1 &
  up_pid=$!
  for _ in $(seq 1 240); do
    "$BIN/chiso" probe http "http://$up_gateway/readyz" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  echo "FAIL: chiso up did not become ready"; tail -20 "$root/up.log"; exit 1
}
kill_up_and_restart() {
  echo "SIGKILL chiso up, started again on the same data folder 3 s later"
  kill -KILL "$up_pid"
  wait "$up_pid" 2>/dev/null || true
  sleep 3
  up_start
}
up_start
target=(--gateway "http://$up_gateway" --admin-secret-file "$up_data/admin-secret")
submit_during kill_up_and_restart "$root/acks-up.log" "${target[@]}"
verify "chiso up killed" "$root/acks-up.log" "${target[@]}"

if [ "$failures" -gt 0 ]; then
  echo "faults: $failures failed"
  exit 1
fi
echo "faults: 6 phases passed, 0 failed"

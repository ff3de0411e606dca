#!/usr/bin/env bash
# Compares the request rate of two `chiso` binaries (for example one built with
# the release profile and one with the dist profile, or before and after a
# change) on the same machine in the same run: each serves `chiso up` with the
# demo data in turn, and wrk drives the gateway's bare /healthz and a REST
# aggregate (gateway -> gRPC -> aggregation -> database) against it.
# Runs alternate A B A B so a drift of the machine hits both alike.
#
#   tests/benches/compare_binaries.sh OLD_BINARY NEW_BINARY [SECONDS]
#
# Prints one Markdown row per binary, round and path (requests/s).
set -euo pipefail

old="$1"
new="$2"
seconds="${3:-10}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
pid=

field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

serve() { # binary name
  local data="$work/$2"
  rm -rf "$data"
  "$1" up --data-dir "$data" --gateway-addr 127.0.0.1:18080 --grpc-port 18051 \
    >"$work/$2.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    curl -fs http://127.0.0.1:18080/readyz >/dev/null 2>&1 && break
    sleep 0.5
  done
  # Wait until the demo is loaded: the aggregate below has agencies reporting.
  token=$(curl -s http://127.0.0.1:18080/api/v1/auth/token -H 'content-type: application/json' \
    -d "{\"client_id\":\"admin\",\"client_secret\":\"$(cat "$data/admin-secret")\"}" | field access_token)
  for _ in $(seq 1 120); do
    n=$(curl -s "$url" -H "authorization: Bearer $token" | field agencies_reporting 2>/dev/null || echo 0)
    [ "${n:-0}" -gt 0 ] && return 0
    sleep 0.5
  done
  echo "no demo data from $1" >&2
  exit 1
}

rate() { # path [header]
  wrk -t1 -c16 -d"${seconds}s" ${2:+-H "$2"} "http://127.0.0.1:18080$1" \
    | awk '/Requests\/sec/ {print $2}'
}

url="http://127.0.0.1:18080/api/v1/aggregates?indicator=computer_equipment_rate&area=44&period=2024"
echo "| binary | round | /healthz req/s | aggregate req/s |"
echo "|---|---|---|---|"
for round in 1 2; do
  for name in old new; do
    bin="$old"; [ "$name" = new ] && bin="$new"
    serve "$bin" "$name"
    health=$(rate /healthz)
    aggregate=$(rate "/api/v1/aggregates?indicator=computer_equipment_rate&area=44&period=2024" \
      "authorization: Bearer $token")
    echo "| $name | $round | $health | $aggregate |"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done

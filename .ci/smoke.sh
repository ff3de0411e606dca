#!/usr/bin/env bash
# Starts `chiso up` on a fresh data folder, exporting traces to a stand-in
# OTLP collector, runs the README's curl walk-through against it and checks
# the documented answer, then lets a Python gRPC client that knows nothing
# but reflection list and call the back services. Finally stops the stack
# with SIGTERM, expects exit 0, and checks one trace spans gateway → gRPC
# service → database.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

data="$(mktemp -d)"
log="$data/chiso.log"
base=$((20000 + RANDOM % 20000))
gateway="127.0.0.1:$((base + 10))"
otlp_port=$((base + 20))

tools="${CHISO_TOOLS_DIR:-$HOME/.cache/chiso-tools}/clients-venv"
if [ ! -x "$tools/bin/python" ] || ! cmp -s tests/clients/requirements.txt "$tools/requirements.txt"; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check -r tests/clients/requirements.txt
  cp tests/clients/requirements.txt "$tools/requirements.txt"
fi
"$tools/bin/python" tests/clients/otlp_collector.py "$otlp_port" "$data/collector.ready" &
collector=$!
for _ in $(seq 1 50); do [ -f "$data/collector.ready" ] && break; sleep 0.2; done

cargo build --locked -p chiso -q
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$otlp_port" "$target_dir/debug/chiso" up --data-dir "$data" --gateway-addr "$gateway" --grpc-port "$base" >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" "$collector" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

for _ in $(seq 1 60); do
  curl -fsS "http://$gateway/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://$gateway/readyz" || { echo "stack did not become ready"; cat "$log"; exit 1; }
echo

CHISO="http://$gateway" ADMIN_SECRET="$(cat "$data/admin-secret")" bash docs/walkthrough.sh | tee "$data/walkthrough.out"
grep -q '"value":76.0' "$data/walkthrough.out" || { echo "FAIL: the walk-through did not give 76.0"; exit 1; }
echo "walk-through gave the documented answer"

"$tools/bin/python" tests/clients/check.py \
  "127.0.0.1:$base" "127.0.0.1:$((base + 1))" "127.0.0.1:$((base + 2))" "$(cat "$data/admin-secret")"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
if [ "$status" -ne 0 ]; then
  echo "FAIL: chiso up exited $status after SIGTERM"; tail -20 "$log"; exit 1
fi
echo "chiso up stopped cleanly on SIGTERM"

kill -TERM "$collector"
if ! wait "$collector"; then
  echo "FAIL: traces did not cross from the gateway to the services and the database"; exit 1
fi
echo "smoke: 4 passed, 0 failed"

#!/usr/bin/env bash
# Starts `chiso up` on a fresh data folder, runs the README's curl
# walk-through against it and checks the documented answer, then lets a
# Python gRPC client that knows nothing but reflection list and call the
# back services. Finally stops the stack with SIGTERM and expects exit 0.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

data="$(mktemp -d)"
log="$data/chiso.log"
base=$((20000 + RANDOM % 20000))
gateway="127.0.0.1:$((base + 10))"
cargo build --locked -p chiso -q
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
"$target_dir/debug/chiso" up --data-dir "$data" --gateway-addr "$gateway" --grpc-port "$base" >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; rm -rf "$data"; }
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

tools="${CHISO_TOOLS_DIR:-$HOME/.cache/chiso-tools}/reflection-venv"
if [ ! -x "$tools/bin/python" ] || ! cmp -s tests/reflection/requirements.txt "$tools/requirements.txt"; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check -r tests/reflection/requirements.txt
  cp tests/reflection/requirements.txt "$tools/requirements.txt"
fi
"$tools/bin/python" tests/reflection/check.py \
  "127.0.0.1:$base" "127.0.0.1:$((base + 1))" "127.0.0.1:$((base + 2))" "$(cat "$data/admin-secret")"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
if [ "$status" -ne 0 ]; then
  echo "FAIL: chiso up exited $status after SIGTERM"; tail -20 "$log"; exit 1
fi
echo "chiso up stopped cleanly on SIGTERM"
echo "smoke: 3 passed, 0 failed"

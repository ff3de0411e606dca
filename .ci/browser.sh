#!/usr/bin/env bash
# The web app in a real browser (issue 12): installs Debian's Chromium if it
# is missing, playwright-core from tests/browser/package-lock.json into a
# cache folder, builds the debug `chiso`, starts `chiso up` on a fresh data
# folder on random ports, runs tests/browser/web.test.mjs (node's test
# runner) against it, and stops it. Screenshots are kept in
# ${CHISO_SCREENSHOTS:-target/browser-screenshots}, printed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v chromium >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver fonts-dejavu-core >/dev/null
fi
if ! command -v node >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

# playwright-core only (it downloads no browser), pinned by the lock file,
# installed once per lock file into a cache outside the work tree.
tools="${CHISO_TOOLS_DIR:-$HOME/.cache/chiso-tools}/browser-node"
if [ ! -d "$tools/node_modules/playwright-core" ] || ! cmp -s tests/browser/package-lock.json "$tools/package-lock.json"; then
  rm -rf "$tools"
  mkdir -p "$tools"
  cp tests/browser/package.json tests/browser/package-lock.json "$tools/"
  (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error)
fi
# ES modules resolve packages from the importing file's folders only.
rm -rf tests/browser/node_modules
ln -s "$tools/node_modules" tests/browser/node_modules

data="$(mktemp -d)"
log="$data/chiso.log"
base=$((20000 + RANDOM % 20000))
gateway="127.0.0.1:$((base + 10))"
cargo build --locked -p chiso -q
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
shots="${CHISO_SCREENSHOTS:-$target_dir/browser-screenshots}"
rm -rf "$shots"
mkdir -p "$shots"
"$target_dir/debug/chiso" up --data-dir "$data" --gateway-addr "$gateway" --grpc-port "$base" \
  --metrics-addr "127.0.0.1:$((base + 11))" >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 60); do
  curl -fsS "http://$gateway/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://$gateway/readyz" >/dev/null || { echo "stack did not become ready"; cat "$log"; exit 1; }
url="http://$gateway"
admin="$(curl -fsS "$url/api/v1/auth/token" -d grant_type=client_credentials \
  --data-urlencode client_id=admin --data-urlencode "client_secret=$(cat "$data/admin-secret")" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
# The demo loads after /readyz: wait for Quảng Bình's plan figures.
for _ in $(seq 1 120); do
  curl -fsS "$url/api/v1/agencies/000.00.00.H51" -H "Authorization: Bearer $admin" >/dev/null 2>&1 && break
  sleep 0.5
done

status=0
CHISO_URL="$url" CHISO_ADMIN_SECRET="$(cat "$data/admin-secret")" CHISO_SCREENSHOTS="$shots" \
  node --test --test-concurrency=1 --test-reporter=spec tests/browser/web.test.mjs || status=$?
echo "browser screenshots: $shots"
ls "$shots"
if [ "$status" -ne 0 ]; then
  echo "FAIL: the browser suite failed; the stack's log ends:"; tail -30 "$log"
fi
exit "$status"

#!/usr/bin/env bash
# The OpenAPI contract against a running stack (issue 11): starts `chiso up`
# on a fresh data folder, logs in as each role, and runs schemathesis with
# every check against /openapi.json, one role after another. Fails on any
# 5xx and any contract failure: an undocumented status or content type, a
# body that does not match its schema, a schema-valid request refused, a
# schema-violating one accepted. tests/contract/schemathesis.toml says what
# the document cannot (each exception with its reason); hooks.py, the rules
# the generator follows.
#
# Usage: bash .ci/contract.sh [examples per operation, default 20]
#   CONTRACT_MAX_TIME=SECONDS  bounds each role's run (.ci/run sets it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
examples="${1:-20}"

tools="${CHISO_TOOLS_DIR:-$HOME/.cache/chiso-tools}/contract-venv"
if [ ! -x "$tools/bin/st" ] || ! cmp -s tests/contract/requirements.txt "$tools/requirements.txt"; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check -r tests/contract/requirements.txt
  cp tests/contract/requirements.txt "$tools/requirements.txt"
fi

data="$(mktemp -d)"
log="$data/chiso.log"
base=$((20000 + RANDOM % 20000))
gateway="127.0.0.1:$((base + 10))"
cargo build --locked -p chiso -q
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
# The fuzzer's wrong logins all come from this address: without a higher
# allowance the login limit would refuse the next role's own login.
CHISO_GATEWAY__LIMITS__LOGIN_PER_ADDRESS__BURST=1000000 \
CHISO_GATEWAY__LIMITS__LOGIN_PER_ADDRESS__PER_HOUR=1000000 \
  "$target_dir/debug/chiso" up --data-dir "$data" --gateway-addr "$gateway" --grpc-port "$base" \
  --metrics-addr "127.0.0.1:$((base + 11))" >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 60); do
  curl -fsS "http://$gateway/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done

url="http://$gateway"
token() { # client_id secret -> access token
  curl -fsS "$url/api/v1/auth/token" -d grant_type=client_credentials \
    --data-urlencode "client_id=$1" --data-urlencode "client_secret=$2" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
admin="$(token admin "$(cat "$data/admin-secret")")"
# The demo data loads after the stack is ready: wait for province 51.
for _ in $(seq 1 120); do
  curl -fsS "$url/api/v1/agencies/000.00.00.H51" -H "Authorization: Bearer $admin" >/dev/null 2>&1 && break
  sleep 0.5
done
issue() { # path body -> "client_id secret"
  curl -fsS "$url$1" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d "$2" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["client_id"], d["client_secret"])'
}
declare -A credentials=([admin]="admin $(cat "$data/admin-secret")")
credentials[province_officer]="$(issue /api/v1/officers '{"province_code": "51"}')"
credentials[viewer]="$(issue /api/v1/viewers '{"province_code": "51"}')"
credentials[integrator]="$(issue /api/v1/integrators '{"granted_province_codes": ["51"]}')"
agency="$(curl -fsS "$url/api/v1/agencies?province=51&kind=department&page_size=1" -H "Authorization: Bearer $admin" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["code"])')"
credentials[agency_reporter]="$(issue "/api/v1/agencies/$agency/credentials" '{}')"

bound=()
[ -n "${CONTRACT_MAX_TIME:-}" ] && bound=(--max-time "$CONTRACT_MAX_TIME")
export CHISO_CONTRACT_DIR="$PWD/tests/contract" CHISO_CONTRACT_CACHE="$tools/cache"
failed=0
# Those who can change others' access (an officer reorganises its province,
# an admin anything) go last, so no run tests with a login another undid.
for role in viewer integrator agency_reporter province_officer admin; do
  echo "==> schemathesis as $role"
  # shellcheck disable=SC2086 # "client_id secret"
  bearer="$(token ${credentials[$role]})"
  if ! "$tools/bin/st" --config-file tests/contract/schemathesis.toml --no-color \
      run "$url/openapi.json" --checks all --max-examples "$examples" "${bound[@]}" \
      -H "Authorization: Bearer $bearer" -H "Accept-Language: en"; then
    failed=$((failed + 1))
  fi
  # A run that lost its own login tested nothing after that: say so.
  if ! curl -fsS "$url/api/v1/forms" -H "Authorization: Bearer $bearer" >/dev/null; then
    echo "contract: the $role run ended without a working login; its results are void"
    failed=$((failed + 1))
  fi
done
[ "$failed" -eq 0 ] || { echo "contract: $failed failures across the 5 roles"; exit 1; }
echo "contract: 5 roles passed"

#!/usr/bin/env bash
# The OpenAPI contract against a running stack (issue 11): starts `chiso up`
# on a fresh data folder, logs in as each role, and runs schemathesis with
# every check against /openapi.json for a bounded time per role. Fails on
# any 5xx and any contract failure (an undocumented status, a body that does
# not match its schema, a valid request refused, an invalid one accepted).
#
# Usage: bash .ci/contract.sh [examples per operation, default 20]
# Not yet part of .ci/run: every status is documented now (no ST103), but
# fields lack their constraints (lengths, patterns, enums), so schemathesis
# still finds schema-valid requests refused (ST202) and schema-violating
# ones accepted (ST201): 39-57 per role at 5 examples, no 5xx.
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
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
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
declare -A tokens=([admin]="$admin")
read -r id secret < <(issue /api/v1/officers '{"province_code": "51"}'); tokens[province_officer]="$(token "$id" "$secret")"
read -r id secret < <(issue /api/v1/viewers '{"province_code": "51"}'); tokens[viewer]="$(token "$id" "$secret")"
read -r id secret < <(issue /api/v1/integrators '{"granted_province_codes": ["51"]}'); tokens[integrator]="$(token "$id" "$secret")"
agency="$(curl -fsS "$url/api/v1/agencies?province=51&kind=department&page_size=1" -H "Authorization: Bearer $admin" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["code"])')"
read -r id secret < <(issue "/api/v1/agencies/$agency/credentials" '{}'); tokens[agency_reporter]="$(token "$id" "$secret")"

failed=0
for role in admin province_officer viewer agency_reporter integrator; do
  echo "==> schemathesis as $role"
  if ! "$tools/bin/st" run "$url/openapi.json" --checks all --max-examples "$examples" \
      -H "Authorization: Bearer ${tokens[$role]}" -H "Accept-Language: en" --no-color; then
    failed=$((failed + 1))
  fi
done
[ "$failed" -eq 0 ] || { echo "contract: $failed of 5 roles found failures"; exit 1; }
echo "contract: 5 roles passed"

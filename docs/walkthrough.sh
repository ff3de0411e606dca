#!/usr/bin/env bash
# The README's walk-through: an admin registers Quảng Ngãi (51) and two
# agencies, each agency submits its 2018 counts, and the province's
# computer-equipment rate comes back as sum over sum. CI runs this script.
set -euo pipefail
CHISO="${CHISO:-http://127.0.0.1:8080}"
ADMIN_SECRET="${ADMIN_SECRET:-$(cat data/admin-secret)}"
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
show() { echo "\$ $*" | sed "s/$ADMIN_SECRET/\$ADMIN_SECRET/"; }
json=(-H 'content-type: application/json')

show "POST /api/v1/auth/token (admin)"
ADMIN=$(curl -fsS "$CHISO/api/v1/auth/token" "${json[@]}" \
  -d "{\"client_id\":\"admin\",\"client_secret\":\"$ADMIN_SECRET\"}" | field access_token)
auth=(-H "authorization: Bearer $ADMIN")

show "POST /api/v1/agencies (province 51 and two agencies)"
curl -fsS "$CHISO/api/v1/agencies" "${auth[@]}" "${json[@]}" -d '{"code":"000.00.00.H51","admin_unit_code":"51","name":"Tỉnh Quảng Ngãi","kind":"provincial_committee"}'; echo
curl -fsS "$CHISO/api/v1/agencies" "${auth[@]}" "${json[@]}" -d '{"code":"000.00.15.H51","name":"Sở Thông tin và Truyền thông","kind":"department","parent_code":"000.00.00.H51"}'; echo
curl -fsS "$CHISO/api/v1/agencies" "${auth[@]}" "${json[@]}" -d '{"code":"000.00.24.H51","admin_unit_code":"524","name":"UBND huyện Bình Sơn","kind":"district_committee","parent_code":"000.00.00.H51"}'; echo

report() { # agency code, officials, officials with a computer
  local creds id secret
  creds=$(curl -fsS -X POST "$CHISO/api/v1/agencies/$1/credentials" "${auth[@]}")
  id=$(echo "$creds" | field client_id)
  secret=$(echo "$creds" | field client_secret)
  AGENCY_TOKEN=$(curl -fsS "$CHISO/api/v1/auth/token" "${json[@]}" \
    -d "{\"client_id\":\"$id\",\"client_secret\":\"$secret\"}" | field access_token)
  curl -fsS "$CHISO/api/v1/reports" -H "authorization: Bearer $AGENCY_TOKEN" "${json[@]}" \
    -d "{\"period\":\"2018\",\"values\":[{\"data_element\":\"officials\",\"value\":$2},{\"data_element\":\"officials_with_computer\",\"value\":$3}]}"
  echo
}
show "POST /api/v1/reports (each agency with its own credentials)"
report 000.00.15.H51 120 114
report 000.00.24.H51 380 266

sleep 1 # aggregation follows the change feed asynchronously
show "GET /api/v1/aggregates?indicator=computer_equipment_rate&area=51&period=2018"
curl -fsS "$CHISO/api/v1/aggregates?indicator=computer_equipment_rate&area=51&period=2018" "${auth[@]}"; echo
show "a bad report: unknown data element and a negative count"
curl -sS "$CHISO/api/v1/reports" -H "authorization: Bearer $AGENCY_TOKEN" "${json[@]}" \
  -d '{"period":"2018","values":[{"data_element":"servers","value":-1}]}'; echo

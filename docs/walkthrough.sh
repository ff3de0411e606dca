#!/usr/bin/env bash
# The README's walk-through: an admin registers Bình Định (52) and two
# agencies, each agency submits this quarter's quick report (documents sent,
# and sent electronically), and the province's share of documents sent
# electronically comes back as sum over sum. CI runs this script.
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

show "POST /api/v1/agencies (province 52 and two agencies)"
curl -fsS "$CHISO/api/v1/agencies" "${auth[@]}" "${json[@]}" -d '{"code":"000.00.00.H52","admin_unit_code":"52","name":"Tỉnh Bình Định","kind":"provincial_committee"}'; echo
curl -fsS "$CHISO/api/v1/agencies" "${auth[@]}" "${json[@]}" -d '{"code":"000.00.15.H52","name":"Sở Thông tin và Truyền thông","kind":"department","parent_code":"000.00.00.H52"}'; echo
curl -fsS "$CHISO/api/v1/agencies" "${auth[@]}" "${json[@]}" -d '{"code":"000.00.47.H52","admin_unit_code":"547","name":"UBND huyện Tuy Phước","kind":"district_committee","parent_code":"000.00.00.H52"}'; echo

# This quarter, by the calendar in Vietnam: always open for entry.
QUARTER=$(TZ=Asia/Ho_Chi_Minh date +%Y)Q$(( ($(TZ=Asia/Ho_Chi_Minh date +%-m) - 1) / 3 + 1 ))

show "GET /api/v1/forms/it_fast_quarterly (what the quarterly report asks for)"
curl -fsS "$CHISO/api/v1/forms/it_fast_quarterly" "${auth[@]}" | head -c 400; echo " ..."

report() { # agency code, documents sent, of which sent electronically
  local creds id secret
  creds=$(curl -fsS -X POST "$CHISO/api/v1/agencies/$1/credentials" "${auth[@]}")
  id=$(echo "$creds" | field client_id)
  secret=$(echo "$creds" | field client_secret)
  AGENCY_TOKEN=$(curl -fsS "$CHISO/api/v1/auth/token" "${json[@]}" \
    -d "{\"client_id\":\"$id\",\"client_secret\":\"$secret\"}" | field access_token)
  curl -fsS "$CHISO/api/v1/reports" -H "authorization: Bearer $AGENCY_TOKEN" "${json[@]}" \
    -d "{\"form\":\"it_fast_quarterly\",\"period\":\"$QUARTER\",\"values\":[
         {\"data_element\":\"documents_sent\",\"value\":\"$2\"},
         {\"data_element\":\"documents_sent_electronic\",\"value\":\"$3\"},
         {\"data_element\":\"documents_signed_digitally\",\"value\":\"0\"},
         {\"data_element\":\"documents_to_higher_levels\",\"value\":\"0\"},
         {\"data_element\":\"documents_to_higher_levels_electronic\",\"value\":\"0\"},
         {\"data_element\":\"online_meetings\",\"value\":\"2\"}]}"
  echo
}
show "POST /api/v1/reports (each agency with its own credentials, for $QUARTER)"
report 000.00.15.H52 120 114
report 000.00.47.H52 380 266

show "GET /api/v1/aggregates?indicator=electronic_document_rate&area=52&period=$QUARTER"
# Aggregation follows the change feed asynchronously: ask until both reports count.
for _ in $(seq 1 50); do
  answer=$(curl -fsS "$CHISO/api/v1/aggregates?indicator=electronic_document_rate&area=52&period=$QUARTER" "${auth[@]}")
  case "$answer" in *'"agencies_reporting":2'*) break ;; esac
  sleep 0.2
done
echo "$answer"
show "a bad report: unknown data element and a negative count"
curl -sS "$CHISO/api/v1/reports" -H "authorization: Bearer $AGENCY_TOKEN" "${json[@]}" \
  -d "{\"form\":\"it_fast_quarterly\",\"period\":\"$QUARTER\",\"values\":[{\"data_element\":\"serverz\",\"value\":\"1\"},{\"data_element\":\"documents_sent\",\"value\":\"-1\"}]}"; echo

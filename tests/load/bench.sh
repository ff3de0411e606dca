#!/usr/bin/env bash
# A whole load measurement, reproducibly (docs/BENCHMARKS.md, "Load, soak,
# memory and catch-up"): release binaries built once; then for SQLite and
# for PostgreSQL (a fresh database on 127.0.0.1:5432, or $BENCH_PG_URL's
# server) the four services started as separate processes, and in the same
# run:
#   - baselines: wrk on the gateway's /healthz; pgbench with the rows of a
#     40-value submission (one report row and 40 value rows per
#     transaction), plain and behind one shared feed-head row;
#   - each service's resident memory idle;
#   - the highest rate of mixed traffic held for 60 s without errors
#     (chiso-load run --find-max);
#   - a soak of 10 minutes at 70 % of that rate: zero errors, resident
#     memory growth under 10 %, p99 per minute; memory under load;
#   - catch-up: the aggregation service stopped while every department of a
#     province submits (a deadline day), then started: time until it has
#     applied the whole feed, next to the time the submissions took.
# Prints the Markdown for docs/BENCHMARKS.md and exits non-zero when a soak
# condition fails.
#
#   bash tests/load/bench.sh            # about 45 minutes
#   bash tests/load/bench.sh --quick    # a few minutes: the script's smoke test
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

quick=0
backends=(sqlite postgres)
soak_override=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --sqlite-only) backends=(sqlite) ;;
    --postgres-only) backends=(postgres) ;;
    # A shorter soak than the issue's 10 minutes, e.g. on a busy machine.
    --soak) soak_override="$2"; shift ;;
    *) echo "unknown option $1 (--quick, --sqlite-only, --postgres-only, --soak DURATION)"; exit 2 ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then
  probe=5s hold=10s soak=30s window=10s deadline_reports=300 wrk_secs=3 pgbench_secs=3
else
  probe=15s hold=60s soak=600s window=60s deadline_reports=5000 wrk_secs=10 pgbench_secs=10
fi
soak="${soak_override:-$soak}"
# The first find-max step: low enough for a debug build on a busy machine.
start_rate="${BENCH_START_RATE:-10}"
pg_url="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
command -v pgbench >/dev/null || { echo "pgbench missing (apt-get install postgresql-client)"; exit 1; }

# LOAD_BIN_DIR: release binaries already built instead of a build here.
if [ -n "${LOAD_BIN_DIR:-}" ]; then
  BIN="$LOAD_BIN_DIR"
else
  echo "building release binaries" >&2
  cargo build --release --locked -q -p chiso -p chiso-load -p chiso-registry \
    -p chiso-submission -p chiso-aggregation -p chiso-gateway
  target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  BIN="$target_dir/release"
fi
LOAD="$BIN/chiso-load"

root="$(mktemp -d /tmp/chiso-bench.XXXXXX)"
created_dbs=()
cleanup() {
  for s in gateway aggregation submission registry; do
    for w in "$root"/*/; do
      [ -f "$w/pids/$s" ] && kill -TERM "$(cat "$w/pids/$s")" 2>/dev/null || true
    done
  done
  sleep 1
  for db in "${created_dbs[@]}"; do
    psql "$pg_url" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

# shellcheck source=tests/load/lib.sh
. tests/load/lib.sh

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
db_url() { echo "${pg_url%/*}/$1"; }

# pgbench in a scratch database: the rows one 40-value submission writes.
pgbench_rates() {
  local db="chiso_bench_pg_$$"
  created_dbs+=("$db")
  psql "$pg_url" -qc "CREATE DATABASE \"$db\"" >/dev/null
  psql "$(db_url "$db")" -q >/dev/null <<'SQL'
CREATE TABLE reports (id uuid PRIMARY KEY, form text, period text, agency text, province text, version int, status text, submitted_at timestamptz);
CREATE TABLE report_values (report_id uuid, version int, data_element text, province text, value bigint, PRIMARY KEY (report_id, version, data_element));
CREATE TABLE feed_head (id int PRIMARY KEY, last_seq bigint);
INSERT INTO feed_head VALUES (1, 0);
SQL
  local insert="WITH r AS (INSERT INTO reports VALUES (gen_random_uuid(), 'it_application_yearly', '2026', 'x' || random(), '51', 1, 'submitted', now()) RETURNING id) INSERT INTO report_values SELECT r.id, 1, 'element_' || g, '51', g * 7 FROM r, generate_series(1, 40) g;"
  printf 'BEGIN;\n%s\nCOMMIT;\n' "$insert" >"$root/plain.sql"
  printf 'BEGIN;\nUPDATE feed_head SET last_seq = last_seq + 1 WHERE id = 1;\n%s\nCOMMIT;\n' "$insert" >"$root/locked.sql"
  local plain locked
  plain="$(pgbench -n -c 8 -j 2 -T "${pgbench_secs}" -f "$root/plain.sql" "$(db_url "$db")" 2>/dev/null | awk '/^tps = / { print $3 }')"
  locked="$(pgbench -n -c 8 -j 2 -T "${pgbench_secs}" -f "$root/locked.sql" "$(db_url "$db")" 2>/dev/null | awk '/^tps = / { print $3 }')"
  psql "$pg_url" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null
  echo "$plain $locked"
}

commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs' || echo '+changes')"
machine="$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(psql "$pg_url" -Atc 'SHOW server_version' 2>/dev/null | sed 's/^/PostgreSQL /')"
report="$root/report.md"
{
  echo "### $(date -u +%Y-%m-%d), commit $commit$([ "$quick" = 1 ] && echo ' (--quick: short phases, not figures to keep)')"
  echo
  echo "Machine: $machine; load average at the start $(cut -d' ' -f1-3 /proc/loadavg)."
} >"$report"
status=0
group=$((100 + RANDOM % 800))

for backend in "${backends[@]}"; do
  WORK="$root/$backend"
  mkdir -p "$WORK"
  if [ "$backend" = postgres ]; then
    db="chiso_load_$$_$RANDOM"
    created_dbs+=("$db")
    psql "$pg_url" -qc "CREATE DATABASE \"$db\"" >/dev/null
    stack_init "$(db_url "$db")"
  else
    stack_init sqlite
  fi
  echo "[$backend] starting the four services" >&2
  stack_start_all
  target=(--gateway "$GATEWAY" --admin-secret-file "$WORK/admin-secret" --grpc-aggregation "$AGGREGATION_ADDR")
  watch=()
  for s in "${SERVICES[@]}"; do watch+=(--watch "$s=$(service_pid "$s")"); done
  sleep 3
  declare -A idle=()
  for s in "${SERVICES[@]}"; do idle[$s]="$(rss_kib "$s")"; done

  echo "[$backend] baseline: wrk on /healthz" >&2
  healthz="$(wrk -t1 -c16 -d"${wrk_secs}s" "$GATEWAY/healthz" | awk '/^Requests\/sec:/ { print $2 }')"
  pg_plain="" pg_locked=""
  if [ "$backend" = postgres ]; then
    echo "[$backend] baseline: pgbench" >&2
    read -r pg_plain pg_locked < <(pgbench_rates)
  fi

  echo "[$backend] highest rate held (find-max)" >&2
  group=$((group + 1))
  if ! "$LOAD" run "${target[@]}" --first-group "$group" --find-max --rate "$start_rate" --probe "$probe" \
      --duration "$hold" --window "$hold" --json >"$WORK/findmax.json" 2>"$WORK/findmax.log"; then
    echo "find-max failed:"; tail -20 "$WORK/findmax.log"; exit 1
  fi
  held="$(json "$WORK/findmax.json" "d['held_rate_per_s']")"
  soak_rate="$(awk -v r="$held" 'BEGIN { printf "%.1f", r * 0.7 }')"

  echo "[$backend] soak at $soak_rate/s for $soak" >&2
  group=$((group + 1))
  "$LOAD" run "${target[@]}" --first-group "$group" --rate "$soak_rate" --duration "$soak" \
    --window "$window" "${watch[@]}" --json >"$WORK/soak.json" 2>"$WORK/soak.log" || true

  echo "[$backend] catch-up: aggregation down for a deadline day of $deadline_reports reports" >&2
  service_stop aggregation
  group=$((group + 1))
  "$LOAD" submit "${target[@]}" --first-group "$group" --provinces 60 --agencies "$deadline_reports" \
    --concurrency 32 --log "$WORK/deadline.log" >"$WORK/deadline.out" 2>"$WORK/deadline.err" ||
    { echo "deadline submissions failed:"; tail "$WORK/deadline.err"; exit 1; }
  submit_secs="$(awk '/reports acknowledged in/ { print $5 }' "$WORK/deadline.out")"
  head_seq="$(metric submission feed_head_seq 'feed="submission.changes"')"
  start="$(now)"
  service_start aggregation
  while :; do
    applied="$(metric aggregation feed_applied_seq 'feed="submission.changes"')"
    if [ -n "$applied" ] && awk -v a="$applied" -v h="$head_seq" 'BEGIN { exit !(a >= h) }'; then break; fi
    if awk -v s="$start" -v n="$(now)" 'BEGIN { exit !(n - s > 600) }'; then
      echo "FAIL: aggregation did not catch up in 10 minutes (applied $applied of $head_seq)"; status=1; break
    fi
    sleep 0.1
  done
  catchup_secs="$(awk -v s="$start" -v n="$(now)" 'BEGIN { printf "%.2f", n - s }')"
  "$LOAD" verify "${target[@]}" --log "$WORK/deadline.log" >"$WORK/verify.out" 2>&1 ||
    { echo "FAIL: catch-up verification:"; tail "$WORK/verify.out"; status=1; }

  # Soak verdicts: zero errors, memory growth under 10 % from the first
  # window to the last, p99 per window.
  soak_errors="$(json "$WORK/soak.json" "d['total']['errors']")"
  [ "$soak_errors" = 0 ] || { echo "FAIL: the soak had $soak_errors errors"; status=1; }
  growth_rows="$(python3 - "$WORK/soak.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
w = [x for x in d["windows"] if x["rss_kib"]]
first, last = w[0]["rss_kib"], w[-1]["rss_kib"]
peak = {s: max(x["rss_kib"].get(s, 0) for x in w) for s in first}
bad = 0
for s in first:
    g = (last[s] - first[s]) / first[s] * 100
    bad |= g >= 10
    print(f"{s} {first[s]} {last[s]} {peak[s]} {g:.1f}")
sys.exit(bad)
PY
  )" || { echo "FAIL: resident memory grew 10 % or more during the soak"; status=1; }

  name="$([ "$backend" = postgres ] && echo PostgreSQL || echo SQLite)"
  {
    echo
    echo "#### $name"
    echo
    echo "| measure | rate | ratio to /healthz |"
    echo "|---|---|---|"
    echo "| baseline: wrk on the gateway's /healthz (1 thread, 16 connections, ${wrk_secs} s) | ${healthz}/s | 1 |"
    if [ -n "$pg_plain" ]; then
      echo "| baseline: pgbench, 1 report row + 40 value rows per transaction, 8 clients | ${pg_plain}/s | $(awk -v a="$pg_plain" -v b="$healthz" 'BEGIN { printf "%.3f", a / b }') |"
      echo "| pgbench, the same after updating one shared feed-head row | ${pg_locked}/s | $(awk -v a="$pg_locked" -v b="$healthz" 'BEGIN { printf "%.3f", a / b }') |"
    fi
    echo "| **mixed traffic held $hold without errors** (reads 70, submit 20, dhis2 5, grpc 5) | **${held}/s** | $(awk -v a="$held" -v b="$healthz" 'BEGIN { printf "%.4f", a / b }') |"
    python3 - "$WORK/findmax.json" "$healthz" "${pg_plain:-0}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); healthz = float(sys.argv[2]); pg = float(sys.argv[3])
for k in d["hold"]["kinds"]:
    extra = f"; {k['throughput_per_s'] / pg:.3f} of pgbench" if k["kind"] == "submit" and pg else ""
    print(f"| of which `{k['kind']}`: p50 {k['p50_ms']} ms, p99 {k['p99_ms']} ms, p99.9 {k['p999_ms']} ms | {k['throughput_per_s']}/s | {k['throughput_per_s'] / healthz:.4f}{extra} |")
print()
print("Steps: " + ", ".join(f"{p['rate']:.0f}/s {'held' if p['held'] else 'not held'} (p99 {p['p99_ms']:.0f} ms, {p['errors']} errors)" for p in d["probes"]))
PY
    echo
    echo "Soak at ${soak_rate}/s (70 %) for $soak: $soak_errors errors."
    echo
    python3 - "$WORK/soak.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("| window | requests | errors | p99 | " + " | ".join(f"{s} RSS" for s in ["registry", "submission", "aggregation", "gateway"]) + " |")
print("|---|---|---|---|---|---|---|---|")
for w in d["windows"]:
    rss = " | ".join(f"{w['rss_kib'].get(s, 0) / 1024:.1f} MiB" for s in ["registry", "submission", "aggregation", "gateway"])
    print(f"| {w['window'] + 1} | {w['requests']} | {w['errors']} | {w['p99_ms']} ms | {rss} |")
PY
    echo
    echo "| service | idle | first soak window | last soak window | peak under load | growth |"
    echo "|---|---|---|---|---|---|"
    while read -r s first last peak growth; do
      echo "| $s | $(mib "${idle[$s]}") MiB | $(mib "$first") MiB | $(mib "$last") MiB | $(mib "$peak") MiB | ${growth} % |"
    done <<<"$growth_rows"
    echo
    echo "Catch-up: $deadline_reports quarterly reports (one per department of a province) submitted with the aggregation service stopped in ${submit_secs} s (32 in flight: the baseline); started again, it applied the whole feed (feed_applied_seq = feed_head_seq $head_seq) in **${catchup_secs} s** ($(awk -v a="$catchup_secs" -v b="$submit_secs" 'BEGIN { printf "%.2f", a / b }') of the submission time); $(tail -1 "$WORK/verify.out")."
  } >>"$report"
  stack_stop_all
  unset idle
done

echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)." >>"$report"
cat "$report"
exit "$status"

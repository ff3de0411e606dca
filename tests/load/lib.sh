# Sourced by tests/load/bench.sh and .ci/faults.sh: the four chiso services
# as separate processes (as deploy/compose.yaml runs them, without
# containers), so each can be killed, restarted and measured on its own.
#
# Needs: $BIN (folder with chiso, chiso-registry, chiso-submission,
# chiso-aggregation, chiso-gateway), $WORK (a scratch folder).
# stack_init DB  — DB is `sqlite` or a PostgreSQL URL of an empty database
#                  (each service takes a schema of its own there).
# stack_start_all, service_start NAME, service_kill NAME, service_stop NAME,
# service_pid NAME, stack_stop_all, metric NAME METRIC LABEL.

SERVICES=(registry submission aggregation gateway)

# A random block of 20 free ports in 20000-59999 (the machine is shared).
free_block() {
  local base used
  used="$(ss -Htln | awk '{ n = split($4, a, ":"); print a[n] }')"
  while :; do
    base=$((20000 + RANDOM % 2000 * 20))
    if ! grep -qxE "$(seq -s '|' "$base" $((base + 19)))" <<<"$used"; then
      echo "$base"
      return
    fi
  done
}

stack_init() {
  local db="$1"
  local base
  base="$(free_block)"
  mkdir -p "$WORK/keys" "$WORK/env" "$WORK/logs" "$WORK/pids"
  "$BIN/chiso" keygen --out "$WORK/keys" >/dev/null
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/admin-secret"
  local aggregation_secret submission_secret
  aggregation_secret="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  submission_secret="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  REGISTRY_ADDR="127.0.0.1:$base"
  SUBMISSION_ADDR="127.0.0.1:$((base + 1))"
  AGGREGATION_ADDR="127.0.0.1:$((base + 2))"
  GATEWAY_ADDR="127.0.0.1:$((base + 3))"
  GATEWAY="http://$GATEWAY_ADDR"
  declare -gA METRICS=(
    [registry]="127.0.0.1:$((base + 4))"
    [submission]="127.0.0.1:$((base + 5))"
    [aggregation]="127.0.0.1:$((base + 6))"
    [gateway]="127.0.0.1:$((base + 7))"
  )
  database() {
    if [ "$db" = sqlite ]; then
      echo "CHISO_DATABASE__URL=sqlite://$WORK/$1.db?mode=rwc"
    else
      echo "CHISO_DATABASE__URL=$db"
      echo "CHISO_DATABASE__SCHEMA=$1"
    fi
  }
  local common="RUST_LOG=warn
CHISO_AUTH__JWT_PUBLIC_KEY_FILE=$WORK/keys/jwt-public.pem"
  {
    echo "$common"; database registry
    echo "CHISO_GRPC__ADDR=$REGISTRY_ADDR"
    echo "CHISO_METRICS__ADDR=${METRICS[registry]}"
    echo "CHISO_AUTH__JWT_PRIVATE_KEY_FILE=$WORK/keys/jwt-private.pem"
    echo "CHISO_BOOTSTRAP_ADMIN__CLIENT_ID=admin"
    echo "CHISO_BOOTSTRAP_ADMIN__SECRET=$(cat "$WORK/admin-secret")"
    echo "CHISO_SERVICE_ACCOUNTS__AGGREGATION=$aggregation_secret"
    echo "CHISO_SERVICE_ACCOUNTS__SUBMISSION=$submission_secret"
    echo 'CHISO_TRUSTED_PROXIES=["127.0.0.1"]'
  } >"$WORK/env/registry"
  {
    echo "$common"; database submission
    echo "CHISO_GRPC__ADDR=$SUBMISSION_ADDR"
    echo "CHISO_METRICS__ADDR=${METRICS[submission]}"
    echo "CHISO_REGISTRY_URL=http://$REGISTRY_ADDR"
    echo "CHISO_SERVICE_ACCOUNT__CLIENT_ID=submission"
    echo "CHISO_SERVICE_ACCOUNT__SECRET=$submission_secret"
    echo 'CHISO_TRUSTED_PROXIES=["127.0.0.1"]'
  } >"$WORK/env/submission"
  {
    echo "$common"; database aggregation
    echo "CHISO_GRPC__ADDR=$AGGREGATION_ADDR"
    echo "CHISO_METRICS__ADDR=${METRICS[aggregation]}"
    echo "CHISO_REGISTRY_URL=http://$REGISTRY_ADDR"
    echo "CHISO_SUBMISSION_URL=http://$SUBMISSION_ADDR"
    echo "CHISO_SERVICE_ACCOUNT__CLIENT_ID=aggregation"
    echo "CHISO_SERVICE_ACCOUNT__SECRET=$aggregation_secret"
  } >"$WORK/env/aggregation"
  {
    echo "$common"
    echo "CHISO_HTTP__ADDR=$GATEWAY_ADDR"
    echo "CHISO_METRICS__ADDR=${METRICS[gateway]}"
    echo "CHISO_REGISTRY_URL=http://$REGISTRY_ADDR"
    echo "CHISO_SUBMISSION_URL=http://$SUBMISSION_ADDR"
    echo "CHISO_AGGREGATION_URL=http://$AGGREGATION_ADDR"
  } >"$WORK/env/gateway"
}

service_addr() {
  case "$1" in
    registry) echo "$REGISTRY_ADDR" ;;
    submission) echo "$SUBMISSION_ADDR" ;;
    aggregation) echo "$AGGREGATION_ADDR" ;;
    gateway) echo "$GATEWAY_ADDR" ;;
  esac
}

# Starts NAME and waits until it answers its health check.
service_start() {
  local name="$1"
  # Only its own settings: a CHISO_* variable of the caller's would be an
  # unknown setting the service refuses.
  local settings
  mapfile -t settings <"$WORK/env/$name"
  env -i PATH="$PATH" HOME="$HOME" "${settings[@]}" "$BIN/chiso-$name" >>"$WORK/logs/$name.log" 2>&1 &
  echo $! >"$WORK/pids/$name"
  local probe
  if [ "$name" = gateway ]; then
    probe=(http "$GATEWAY/readyz")
  else
    probe=(grpc "$(service_addr "$name")")
  fi
  for _ in $(seq 1 240); do
    if "$BIN/chiso" probe "${probe[@]}" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$(cat "$WORK/pids/$name")" 2>/dev/null; then
      echo "FAIL: chiso-$name exited on start"; grep -v "^  " "$WORK/logs/$name.log" | tail -20; return 1
    fi
    sleep 0.25
  done
  echo "FAIL: chiso-$name did not become healthy"; grep -v "^  " "$WORK/logs/$name.log" | tail -20; return 1
}

service_pid() { cat "$WORK/pids/$1"; }

service_kill() {
  local pid
  pid="$(service_pid "$1")"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

service_stop() {
  local pid
  pid="$(service_pid "$1")"
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stack_start_all() {
  local s
  for s in "${SERVICES[@]}"; do service_start "$s"; done
}

stack_stop_all() {
  local s
  for s in gateway aggregation submission registry; do
    [ -f "$WORK/pids/$s" ] && service_stop "$s"
  done
  return 0
}

# The value of gauge METRIC with a label LABEL (e.g. feed="submission.changes")
# on NAME's /metrics; empty when not (yet) there.
metric() {
  curl -fsS "http://${METRICS[$1]}/metrics" 2>/dev/null |
    awk -v m="$2" -v l="$3" 'index($0, m "{") == 1 && index($0, l) > 0 { print $NF; exit }'
}

# VmRSS of NAME in KiB.
rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$(service_pid "$1")/status"
}

# Seconds since the epoch, with fractions.
now() { date +%s.%N; }

#!/usr/bin/env bash
# The deployment as users run it, in containers (issue 14; docs/DEPLOYMENT.md):
#   1. installs podman, runc, mmdebstrap and podman-compose (idempotent);
#   2. builds the base images locally (deploy/images/build.sh: no registry
#      can be reached here) and the chiso image from the real deploy/Dockerfile
#      (--build-arg PROFILE=release: the `dist` profile's thin LTO would cost
#      two thirds more), and reports its size;
#   3. starts deploy/compose.yaml with PostgreSQL, waits for every health check,
#      checks the containers run as uid 65532 on a read-only root file system,
#      runs the README walk-through and the gRPC reflection client;
#   4. crashes the submission container (SIGKILL) while reports are submitted,
#      checks that it is restarted and that every acknowledged report is kept,
#      exactly once (deploy/test/survive.py);
#   5. tears it all down (`down -v`), also on failure; prints each phase's time.
# CHISO_CONTAINERS_KEEP=1 leaves the stack running for a look.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TERM_COLOR=never

# shellcheck source=deploy/test/podman.sh
source deploy/test/podman.sh
project="chiso-ci-$$"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

setup_tools
build_images

# --- compose ----------------------------------------------------------------
secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }
base=$((20000 + RANDOM % 30000))
sed -e "s|^CHISO_DB_PASSWORD=.*|CHISO_DB_PASSWORD=$(secret)|" \
    -e "s|^CHISO_ADMIN_SECRET=.*|CHISO_ADMIN_SECRET=$(secret)|" \
    -e "s|^CHISO_AGGREGATION_SECRET=.*|CHISO_AGGREGATION_SECRET=$(secret)|" \
    -e "s|^CHISO_SUBMISSION_SECRET=.*|CHISO_SUBMISSION_SECRET=$(secret)|" \
    -e "s|^CHISO_IMAGE=.*|CHISO_IMAGE=$image|" \
    -e "s|^CHISO_HTTP_PORT=.*|CHISO_HTTP_PORT=$base|" \
    -e "s|^CHISO_POSTGRES_IMAGE=.*|CHISO_POSTGRES_IMAGE=$CHISO_POSTGRES_IMAGE|" \
    -e "s|^CHISO_BUILDER_IMAGE=.*|CHISO_BUILDER_IMAGE=$BUILDER_IMAGE|" \
    -e "s|^CHISO_RUNTIME_IMAGE=.*|CHISO_RUNTIME_IMAGE=$RUNTIME_IMAGE|" \
    deploy/.env.example >"$work/env"
# Test-only override: the back services' gRPC ports published on loopback
# for the reflection client (compose.yaml publishes none of them), and the
# gateway on loopback only. Literal ports: podman-compose 1.6 does not
# interpolate variables under `!override`.
cat >"$work/compose.test.yaml" <<EOF
services:
  registry:
    ports: ["127.0.0.1:$((base + 1)):50051"]
  submission:
    ports: ["127.0.0.1:$((base + 2)):50052"]
  aggregation:
    ports: ["127.0.0.1:$((base + 3)):50053"]
  gateway:
    ports: !override ["127.0.0.1:$base:8080"]
EOF
grep -q "^CHISO_ADMIN_SECRET=." "$work/env" || fail "deploy/.env.example has no CHISO_ADMIN_SECRET= line to fill"
admin_secret="$(sed -n 's/^CHISO_ADMIN_SECRET=//p' "$work/env")"
gateway="http://127.0.0.1:$base"
compose=("$compose_bin" --project-name "$project" --env-file "$work/env"
         -f deploy/compose.yaml -f "$work/compose.test.yaml")

teardown() {
  local status=$?
  if [[ $status -ne 0 ]]; then
    echo "--- logs of the failed run (last 30 lines per container)"
    for c in $(podman ps -a --filter "label=io.podman.compose.project=$project" --format '{{.Names}}'); do
      echo "--- $c"; podman logs --tail 30 "$c" 2>&1 || true
    done
  fi
  if [[ "${CHISO_CONTAINERS_KEEP:-}" == 1 ]]; then
    echo "kept: ${compose[*]} down -v"
  else
    "${compose[@]}" down -v -t 5 >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit $status
}
trap teardown EXIT

say "compose up ($project, gateway on $gateway)"
# podman-compose 1.6 on podman 4.3 sometimes fails to start a container
# ("depends on container ... not found in input list") after creating it:
# the health checks below decide, starting what was left unstarted.
if ! "${compose[@]}" up -d --no-build >"$work/up.log" 2>&1; then
  grep -vE '^(WARNING|time=)' "$work/up.log" | tail -5
  echo "compose up reported an error; the health checks decide"
fi
podman ps -a --filter "label=io.podman.compose.project=$project" -q | grep -q . || fail "compose up created no containers"
phase "compose up"

# podman runs health checks from systemd timers, and this machine has no
# systemd: run each container's own compose health check here instead, until
# all pass (what `depends_on: service_healthy` waits for under Docker).
container() { podman ps -a --filter "label=io.podman.compose.project=$project" \
  --filter "label=io.podman.compose.service=$1" --format '{{.Names}}' | head -n 1; }
wait_healthy() {
  local deadline=$((SECONDS + ${2:-180})) c state exited_polls=0
  c="$(container "$1")"
  [[ -n "$c" ]] || fail "no container for service $1"
  until podman healthcheck run "$c" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { podman logs --tail 40 "$c"; fail "$1 not healthy after ${2:-180} s"; }
    sleep 2
    # podman 4.3 sometimes leaves a container that exits during start-up
    # (e.g. its database pool timing out on a loaded machine) exited, where
    # restart: unless-stopped should have started it again; do what the
    # policy says, and say so. (The crash test below checks that a running
    # service is restarted by podman itself.)
    state="$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$c")"
    [[ "$state" == exited* || "$state" == stopped* || "$state" == created* || "$state" == configured* ]] && exited_polls=$((exited_polls + 1)) || exited_polls=0
    if ((exited_polls >= 3)); then # still exited 6 s later: no restart is coming
      exited_polls=0
      echo "$1 is ${state%% *} (exit code ${state##* }) and podman did not (re)start it; starting it"
      podman logs --tail 3 "$c" 2>&1 | sed 's/^/    /'
      podman start "$c" >/dev/null
    fi
  done
  echo "healthy: $1 ($c)"
}
for svc in postgres registry submission aggregation gateway; do wait_healthy "$svc"; done
[[ "$(podman inspect --format '{{.State.ExitCode}} {{.State.Status}}' "$(container keygen)")" == "0 exited" ]] \
  || fail "keygen did not exit 0"
phase "health checks"

say "hardening: uid 65532, read-only root file system"
for svc in registry submission aggregation gateway; do
  c="$(container "$svc")"
  pid="$(podman inspect --format '{{.State.Pid}}' "$c")"
  uid="$(ps -o uid= -p "$pid" | tr -d ' ')"
  [[ "$uid" == 65532 ]] || fail "$svc runs as uid $uid"
  [[ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$c")" == true ]] || fail "$svc root file system is writable"
  echo "$svc: process uid $uid, read-only root file system"
done
# No shell in the image, so chiso itself tries to write: into a directory the
# non-root user owns (it would succeed on a writable root) and into /tmp (a tmpfs).
c="$(container gateway)"
if out="$(podman exec "$c" chiso keygen --out /var/lib/chiso/data/probe 2>&1)"; then
  fail "writing under / succeeded inside the gateway container"
fi
grep -qi 'read-only' <<<"$out" || fail "writing under / failed, but not for a read-only file system: $out"
podman exec "$c" chiso keygen --out /tmp/probe >/dev/null || fail "/tmp (tmpfs) is not writable"
echo "gateway: writing /var/lib/chiso/data fails ($(tr '\n' ' ' <<<"$out" | cut -c1-80)), /tmp works"
phase "hardening checks"

# --- walk-through and reflection -----------------------------------------------------
say "README walk-through against the containers"
CHISO="$gateway" ADMIN_SECRET="$admin_secret" bash docs/walkthrough.sh | tee "$work/walkthrough.out"
grep -q '"value":76.0' "$work/walkthrough.out" || fail "the walk-through did not give 76.0"
echo "walk-through gave the documented answer"
"$clients/bin/python" tests/clients/check.py \
  "127.0.0.1:$((base + 1))" "127.0.0.1:$((base + 2))" "127.0.0.1:$((base + 3))" "$admin_secret" \
  electronic_document_rate 52 "$(TZ=Asia/Ho_Chi_Minh date +%Y)Q$(( ($(TZ=Asia/Ho_Chi_Minh date +%-m) - 1) / 3 + 1 ))"
phase "walk-through + reflection"

# --- crash and restart ------------------------------------------------------------
say "crash: SIGKILL to the submission container's process while reports arrive"
sub="$(container submission)"
restarts_before="$(podman inspect --format '{{.RestartCount}}' "$sub")"
# The process is killed, not `podman kill`ed: podman counts `podman kill` as
# a user's stop (no restart, like `podman stop`); a crash or the OOM killer
# looks like this, and restart: unless-stopped brings the container back.
"$clients/bin/python" deploy/test/survive.py "$gateway" "$admin_secret" \
  "kill -KILL \$(podman inspect --format '{{.State.Pid}}' $sub)"
restarts_after="$(podman inspect --format '{{.RestartCount}}' "$sub")"
((restarts_after > restarts_before)) || fail "submission was not restarted (restart count $restarts_after)"
[[ "$(podman inspect --format '{{.State.Status}}' "$sub")" == running ]] || fail "submission is not running"
wait_healthy submission 60
echo "submission restarted ($restarts_before -> $restarts_after restarts) and healthy"
phase "crash + restart + read back"

say "teardown"
trap - EXIT
teardown_status=0
if [[ "${CHISO_CONTAINERS_KEEP:-}" != 1 ]]; then
  "${compose[@]}" down -v -t 5 >/dev/null 2>&1 || teardown_status=$?
  left="$(podman ps -a --filter "label=io.podman.compose.project=$project" -q | wc -l)"
  [[ $teardown_status -eq 0 && $left -eq 0 ]] || fail "compose down left $left containers (exit $teardown_status)"
fi
rm -rf "$work"
phase "compose down -v"

echo
echo "containers: phase timings"
printf '  %s\n' "${timings[@]}"
echo "containers: 5 passed, 0 failed"

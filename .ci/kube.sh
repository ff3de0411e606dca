#!/usr/bin/env bash
# The Kubernetes manifests, run (issue 14; docs/DEPLOYMENT.md): renders
# deploy/k8s/overlays/podman-test with `kubectl kustomize` (the base with a
# plain PostgreSQL Deployment in place of the CloudNativePG Cluster), creates
# the Secrets it needs with generated values, starts it with `podman kube
# play`, runs every container's readinessProbe from the rendering until all
# pass, runs the README walk-through against the gateway, and tears it all
# down (`podman kube down`), also on failure. Uses the images .ci/containers.sh
# builds (rebuilt here if missing; cached otherwise).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=deploy/test/podman.sh
source deploy/test/podman.sh
work="$(mktemp -d)"
net="chiso-kube-$$"
secrets=(chiso-db-owner chiso-db chiso-service-accounts)
# podman keeps a volume per ConfigMap mounted as one after `kube down`.
volumes=(chiso-jwt chiso-db-initdb)
trap 'rm -rf "$work"' EXIT

setup_tools
build_images

say "render deploy/k8s/overlays/podman-test"
port=$((20000 + RANDOM % 30000))
kubectl kustomize deploy/k8s/overlays/podman-test >"$work/rendered.yaml"
# The overlay names localhost/chiso:ci and host port 38080; this run's own:
sed -e "s|image: localhost/chiso:ci|image: $image|" \
    -e "s|image: localhost/chiso-base/postgres:15|image: $CHISO_POSTGRES_IMAGE|" \
    -e "s|hostPort: 38080|hostPort: $port|" "$work/rendered.yaml" >"$work/chiso.yaml"
grep -q "hostPort: $port" "$work/chiso.yaml" || fail "the overlay has no hostPort 38080 to replace"
# (PyYAML comes with podman-compose.) What the kubelet would probe, one line per container: pod/container, then the command.
"$tools/compose-venv/bin/python" - "$work/chiso.yaml" >"$work/probes" <<'EOF'
import shlex, sys, yaml
for obj in yaml.safe_load_all(open(sys.argv[1])):
    if not obj or obj["kind"] != "Deployment":
        continue
    for c in obj["spec"]["template"]["spec"]["containers"]:
        probe = c["readinessProbe"]  # every container must have one
        ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        port = lambda p: ports[p] if isinstance(p, str) else p
        if "grpc" in probe:
            cmd = ["chiso", "probe", "grpc", f"127.0.0.1:{port(probe['grpc']['port'])}"]
        elif "httpGet" in probe:
            cmd = ["chiso", "probe", "http", f"http://127.0.0.1:{port(probe['httpGet']['port'])}{probe['httpGet']['path']}"]
        else:
            cmd = probe["exec"]["command"]
        # podman names a Deployment's pods <name>-pod-<n> and their containers <pod>-<container>.
        print(f"{obj['metadata']['name']}-pod-0-{c['name']}", shlex.join(cmd))
EOF
cat "$work/probes"
phase "render"

say "secrets, JWT keys and a network"
secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }
db_password="$(secret)"
admin_secret="$(secret)"
# podman 4.3 reads a secretKeyRef from a podman secret holding a JSON object
# of base64 values (the Secret kind's `data`).
podman_secret() { # name, then key=value...
  local name="$1"; shift
  podman secret rm "$name" >/dev/null 2>&1 || true
  python3 -c 'import base64, json, sys
print(json.dumps({k: base64.b64encode(v.encode()).decode() for k, v in (a.split("=", 1) for a in sys.argv[1:])}))' "$@" \
    | podman secret create "$name" - >/dev/null
}
db_url() { echo "postgres://chiso:$db_password@chiso-db-pod-0:5432/chiso?sslmode=disable"; }
podman_secret chiso-db-owner username=chiso "password=$db_password"
podman_secret chiso-db "registry-url=$(db_url)" "submission-url=$(db_url)" "aggregation-url=$(db_url)"
podman_secret chiso-service-accounts "bootstrap-admin-secret=$admin_secret" \
  "aggregation-secret=$(secret)" "submission-secret=$(secret)"
mkdir -p "$work/jwt" && chmod 0777 "$work/jwt"
podman run --rm --network=none -v "$work/jwt:/out" "$image" chiso keygen --out /out >/dev/null
"$tools/compose-venv/bin/python" - "$work/jwt" >"$work/jwt.yaml" <<'EOF'
import sys, yaml
from pathlib import Path
keys = {p: (Path(sys.argv[1]) / p).read_text() for p in ("jwt-private.pem", "jwt-public.pem")}
print(yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "chiso-jwt"}, "data": keys}))
EOF
podman network create "$net" >/dev/null

teardown() {
  local status=$?
  if [[ $status -ne 0 ]]; then
    echo "--- logs of the failed run (last 30 lines per container)"
    while read -r ctr _; do echo "--- $ctr"; podman logs --tail 30 "$ctr" 2>&1 || true; done <"$work/probes"
  fi
  podman kube down "$work/chiso.yaml" >/dev/null 2>&1 || true
  podman secret rm "${secrets[@]}" >/dev/null 2>&1 || true
  podman volume rm -f "${volumes[@]}" >/dev/null 2>&1 || true
  podman network rm -f "$net" >/dev/null 2>&1 || true
  rm -rf "$work"
  exit $status
}
trap teardown EXIT
phase "secrets"

say "podman kube play (gateway on 127.0.0.1:$port)"
podman kube play --network "$net" --configmap "$work/jwt.yaml" "$work/chiso.yaml"
phase "kube play"

say "readiness probes"
deadline=$((SECONDS + 240))
while read -r ctr cmd; do
  until eval "podman exec $ctr $cmd" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { podman logs --tail 40 "$ctr"; fail "$ctr not ready: $cmd"; }
    sleep 1
  done
  echo "ready: $ctr ($cmd)"
done <"$work/probes"
# As in the Deployments: non-root on a read-only root file system.
while read -r ctr _; do
  [[ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$ctr")" == true ]] || fail "$ctr root file system is writable"
  uid="$(ps -o uid= -p "$(podman inspect --format '{{.State.Pid}}' "$ctr")" | tr -d ' ')"
  [[ "$uid" != 0 ]] || fail "$ctr runs as root"
done <"$work/probes"
echo "every container: non-root (runAsUser), read-only root file system"
phase "readiness"

say "README walk-through against the gateway pod"
CHISO="http://127.0.0.1:$port" ADMIN_SECRET="$admin_secret" bash docs/walkthrough.sh | tee "$work/walkthrough.out"
grep -q '"value":76.0' "$work/walkthrough.out" || fail "the walk-through did not give 76.0"
echo "walk-through gave the documented answer"
phase "walk-through"

say "podman kube down"
trap - EXIT
podman kube down "$work/chiso.yaml" >/dev/null
left="$(podman pod ps --filter "name=^chiso-" -q | wc -l)"
[[ "$left" -eq 0 ]] || fail "podman kube down left $left pods"
podman secret rm "${secrets[@]}" >/dev/null
podman volume rm "${volumes[@]}" >/dev/null
podman network rm -f "$net" >/dev/null
rm -rf "$work"
phase "kube down"

echo
echo "kube: phase timings"
printf '  %s\n' "${timings[@]}"
echo "kube: 3 passed, 0 failed"

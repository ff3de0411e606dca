#!/usr/bin/env bash
# Validate the deployment files without a cluster: render k8s/base and each
# k8s/overlays/* with `kubectl kustomize`; check every object against the
# Kubernetes schemas ($CHISO_K8S_VERSIONS) in strict mode with kubernetes-validate
# (the CloudNativePG Cluster, a CRD, only gets a warning); then chiso's own rules
# (tools/chiso_rules.py) on the renderings and compose.yaml, after their
# self-test. Python tools: the pinned tools/requirements.txt, in a reused venv.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${CHISO_TOOLS_DIR:-$HOME/.cache/chiso-tools}/deploy-venv"
die() { echo "validate.sh: error: $*" >&2; exit 1; }

if ! command -v kubectl >/dev/null; then
  echo "==> kubectl not found: installing Debian's kubernetes-client"
  sudo=$([[ $EUID -eq 0 ]] || echo sudo)
  $sudo apt-get update -qq && $sudo apt-get install -y -qq kubernetes-client >/dev/null \
    || die "could not install kubernetes-client; install kubectl >= 1.24"
fi
# kubectl reports its kustomize from 1.24 (v4.5) on; Debian bookworm's kubectl
# 1.20 has kustomize v2, which rejects the overlays' `patches` and `replicas`.
kustomize="$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v//p')"
[[ "${kustomize%%.*}" =~ ^[0-9]+$ && "${kustomize%%.*}" -ge 4 ]] \
  || die "$(command -v kubectl) has no kustomize v4 or newer (Debian bookworm's kubernetes-client 1.20 is too old for the overlays); install kubectl >= 1.24: https://kubernetes.io/docs/tasks/tools/"

if ! cmp -s "$here/tools/requirements.txt" "$venv/requirements.txt"; then
  echo "==> installing $here/tools/requirements.txt into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/tools/requirements.txt"
  cp "$here/tools/requirements.txt" "$venv/requirements.txt"
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
status=0
for dir in "$here"/k8s/base "$here"/k8s/overlays/*/; do
  name="$(basename "$dir")"
  kubectl kustomize "$dir" >"$out/$name.yaml" || die "kubectl kustomize $dir failed"
  for version in ${CHISO_K8S_VERSIONS:-1.30.0 1.37.0}; do
    "$venv/bin/kubernetes-validate" --strict --quiet -k "$version" "$out/$name.yaml" \
      && echo "ok    k8s/$name: Kubernetes $version schemas (strict)" || status=1
  done
done

rules=("$venv/bin/python" "$here/tools/chiso_rules.py" --compose "$here/compose.yaml" "$out"/*.yaml)
"${rules[@]}" --self-test || status=1
"${rules[@]}" && echo "ok    chiso rules: $(basename -s .yaml "$out"/*.yaml | tr '\n' ' ')compose" || status=1
[[ $status -eq 0 ]] && echo "validate: all checks passed" || echo "validate: FAILED"
exit $status

#!/usr/bin/env bash
# Validate the deployment files without Docker, kubectl or a cluster:
#   - deploy/k8s/base and every deploy/k8s/overlays/*: rendered (kustomize or
#     kubectl when installed, else deploy/tools/kustomize_lite.py), each object
#     checked against the Kubernetes JSON schemas bundled in the
#     kubernetes-validate wheel (strict), the CloudNativePG Cluster checked by
#     hand, then cross-references (selectors, ports, Secret/ConfigMap keys,
#     HPAs, PDBs, hardening, the single aggregation replica);
#   - deploy/compose.yaml: services, depends_on, volumes, variables, and the
#     Compose specification when the compose-spec wheel is available.
#
# Tools come from PyPI into a private virtualenv, created on first run and
# reused afterwards (no network needed once installed):
#   ${CHISO_TOOLS_DIR:-$HOME/.cache/chiso-tools}/venv
#
# Environment:
#   CHISO_TOOLS_DIR        where the venv lives (default ~/.cache/chiso-tools)
#   CHISO_K8S_VERSIONS     Kubernetes versions to validate against
#                          (default "1.30 latest"; latest = newest bundled)
#   CHISO_KUSTOMIZE        auto | lite | kustomize | kubectl (default auto)
#   CHISO_VALIDATE_STRICT  1 = a missing optional validator is an error
#   PYTHON                 interpreter used to create the venv (default python3)
#
# Exit status: 0 when everything passes, non-zero otherwise.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
tools_dir="${CHISO_TOOLS_DIR:-$HOME/.cache/chiso-tools}"
venv="$tools_dir/venv"
requirements="$here/tools/requirements.txt"
optional="$here/tools/requirements-optional.txt"
python="${PYTHON:-python3}"

die() { echo "validate.sh: error: $*" >&2; exit 1; }

command -v "$python" >/dev/null 2>&1 \
  || die "$python not found; install Python 3.9+ (Debian: apt-get install python3 python3-venv)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
  || die "Python 3.9+ required, found $("$python" -V 2>&1)"
"$python" -c 'import venv, ensurepip' 2>/dev/null \
  || die "the Python venv module is missing (Debian: apt-get install python3-venv)"

mkdir -p "$tools_dir"
# Serialise concurrent runs on the same tools directory.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$tools_dir/.lock"
  flock 9
fi

# Reinstall only when the requirement files or the interpreter change.
fingerprint="$(cat "$requirements" "$optional" <("$python" -c 'import sys; print(sys.version)') \
  | sha256sum | cut -d' ' -f1)"
stamp="$venv/.chiso-fingerprint"
if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$fingerprint" ]]; then
  echo "==> installing validators into $venv (first run or requirements changed)"
  rm -rf "$venv"
  "$python" -m venv "$venv" || die "could not create a virtualenv at $venv"
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
  "$venv/bin/python" -m pip install --quiet -r "$requirements" \
    || die "pip could not install $(basename "$requirements") (is PyPI reachable?)"
  if ! "$venv/bin/python" -m pip install --quiet --only-binary=:all: -r "$optional" \
      2>"$tools_dir/pip-optional.log"; then
    echo "WARN  optional validators from $(basename "$optional") not installed" \
      "(no wheel for this platform/Python?); see $tools_dir/pip-optional.log"
  fi
  echo "$fingerprint" >"$stamp"
fi

compose_spec=auto
[[ "${CHISO_VALIDATE_STRICT:-0}" == 1 ]] && compose_spec=required

exec "$venv/bin/python" "$here/tools/validate_deploy.py" \
  --root "$root" \
  --k8s-version "${CHISO_K8S_VERSIONS:-1.30 latest}" \
  --renderer "${CHISO_KUSTOMIZE:-auto}" \
  --compose-spec "$compose_spec"

# Shared by .ci/containers.sh and .ci/kube.sh (sourced, from the repository
# root): installs the container tools this machine needs and builds the
# images. Sets $clients (the reflection client's venv), $compose_bin,
# BUILDER_IMAGE, RUNTIME_IMAGE, CHISO_POSTGRES_IMAGE, and $image (the chiso
# image, built from deploy/Dockerfile with PROFILE=$profile).

tools="${CHISO_TOOLS_DIR:-$HOME/.cache/chiso-tools}"
image="${CHISO_CI_IMAGE:-localhost/chiso:ci}"
profile="${CHISO_CI_PROFILE:-release}"
timings=()
phase_start=$SECONDS
phase() { # name of the phase that just ended
  timings+=("$(printf '%-34s %4d s' "$1" $((SECONDS - phase_start)))")
  phase_start=$SECONDS
}
say() { printf '\n--> %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

setup_tools() {
  say "tools: podman, runc, mmdebstrap, podman-compose"
  local sudo missing=() pkg conf want compose_version=1.6.0
  sudo=$([[ $EUID -eq 0 ]] || echo sudo)
  # Root needs none of the rootless helpers (uidmap, slirp4netns, fuse-overlayfs).
  for pkg in podman runc mmdebstrap netavark aardvark-dns catatonit; do
    dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    echo "installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # runc as the runtime, cgroupfs (no systemd here), and the limits this
  # machine needs for the containers' processes and files.
  conf=/etc/containers/containers.conf.d/50-chiso.conf
  want='[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"'
  if [[ "$(cat "$conf" 2>/dev/null)" != "$want" ]]; then
    $sudo mkdir -p "$(dirname "$conf")"
    echo "$want" | $sudo tee "$conf" >/dev/null
  fi
  if [[ "$(cat "$tools/compose-venv/version" 2>/dev/null)" != "$compose_version" ]]; then
    rm -rf "$tools/compose-venv"
    python3 -m venv "$tools/compose-venv"
    "$tools/compose-venv/bin/pip" install -q --disable-pip-version-check "podman-compose==$compose_version"
    echo "$compose_version" >"$tools/compose-venv/version"
  fi
  compose_bin="$tools/compose-venv/bin/podman-compose"
  clients="$tools/clients-venv" # the same venv as .ci/smoke.sh's
  if [ ! -x "$clients/bin/python" ] || ! cmp -s tests/clients/requirements.txt "$clients/requirements.txt"; then
    python3 -m venv "$clients"
    "$clients/bin/pip" install -q --disable-pip-version-check -r tests/clients/requirements.txt
    cp tests/clients/requirements.txt "$clients/requirements.txt"
  fi
  podman --version
  phase "tools"
}

build_images() {
  say "base images (deploy/images/build.sh)"
  local bases size base_size
  bases="$(bash deploy/images/build.sh)" || fail "deploy/images/build.sh failed"
  echo "$bases"
  eval "$bases"
  export BUILDER_IMAGE RUNTIME_IMAGE CHISO_POSTGRES_IMAGE
  phase "base images"

  say "chiso image from deploy/Dockerfile (PROFILE=$profile)"
  # --network=host: cargo downloads crates in the build (cached after the first).
  podman build --network=host -f deploy/Dockerfile \
    --build-arg "BUILDER_IMAGE=$BUILDER_IMAGE" --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE" \
    --build-arg "PROFILE=$profile" -t "$image" . 2>&1 | grep -vE '^\s+(Compiling|Downloaded) ' \
    || fail "podman build failed"
  podman image exists "$image" || fail "podman build made no $image"
  size=$(podman image inspect --format '{{.Size}}' "$image")
  base_size=$(podman image inspect --format '{{.Size}}' "$RUNTIME_IMAGE")
  printf 'image %s: %d MB (%d MB of it the runtime base %s)\n' \
    "$image" $((size / 1000000)) $((base_size / 1000000)) "$RUNTIME_IMAGE"
  [[ "$(podman image inspect --format '{{.Config.User}}' "$image")" == 65532:65532 ]] \
    || fail "the image does not run as 65532:65532"
  phase "chiso image ($profile)"
}

#!/usr/bin/env bash
# Builds, without any container registry, the base images deploy/Dockerfile
# and deploy/compose.yaml name upstream, and tags them under localhost/chiso-base/:
#
#   debian:bookworm      Debian bookworm (minbase) with this machine's CA bundle,
#                        the base of the PostgreSQL image
#   rust:1.95-bookworm   the builder: gcc, libc6-dev, pkg-config and THIS
#                        machine's Rust toolchain (rustc --print sysroot),
#                        since no toolchain can be downloaded here
#   cc-debian12:nonroot  the runtime: glibc, libgcc and the CA bundle, user
#                        nonroot (65532), no shell, no package manager; the
#                        same contents as gcr.io/distroless/cc-debian12:nonroot
#   postgres:15          deploy/images/postgres/Containerfile: Debian's
#                        PostgreSQL 15 with an entrypoint that reads what the
#                        postgres:16 image reads (POSTGRES_USER/PASSWORD/DB,
#                        /docker-entrypoint-initdb.d)
#
# Root file systems come from Debian's archive through mmdebstrap (podman,
# mmdebstrap and runc must be installed: .ci/containers.sh installs them).
# Each image carries a label with a hash of what it was made from (its recipe
# below, the CA bundle, the toolchain, the Containerfile); an image whose
# label matches is kept, so a second run costs a few seconds.
#
# usage: bash deploy/images/build.sh        (prints the four image names)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${CHISO_BASE_PREFIX:-localhost/chiso-base}"
suite=bookworm
ca_bundle="${CHISO_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
log() { printf 'images: %s\n' "$*" >&2; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }

for tool in podman mmdebstrap rustc cargo sha256sum; do
  command -v "$tool" >/dev/null || die "$tool not found (bash .ci/containers.sh installs podman and mmdebstrap)"
done
[[ -r "$ca_bundle" ]] || die "no CA bundle at $ca_bundle (set CHISO_CA_BUNDLE)"

sysroot="$(rustc --print sysroot)"
rust_version="$("$sysroot/bin/rustc" -V | awk '{print $2}')"        # e.g. 1.95.0
rust_minor="${rust_version%.*}"                                     # e.g. 1.95

# What every root file system shares: Debian's suite, the slimming options, the CA bundle.
slim=(--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*')
# The machine's CA bundle replaces Debian's, so HTTPS (crates.io, apt over
# https) works inside builds behind whatever this machine trusts.
ca_hook="cp '$ca_bundle' \"\$1/etc/ssl/certs/ca-certificates.crt\""
shared_key="$(printf '%s\n' "$suite" "${slim[@]}" "$ca_hook" | cat - "$ca_bundle" | sha256sum | cut -c1-12)"

label_of() { podman image inspect --format '{{index .Labels "org.chiso.base-key"}}' "$1" 2>/dev/null || true; }
stale=() # replaced images, removed at the end
# ensure IMAGE KEY RECIPE: runs the function RECIPE (with the label key as $1)
# unless IMAGE's label is KEY already.
ensure() {
  local image="$1" key="$2" recipe="$3"
  if [[ "$(label_of "$image")" == "$key" ]]; then
    log "$image is up to date"
    return
  fi
  stale+=("$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)")
  "$recipe" "$key"
}
recipe_key() { declare -f "$1" | sha256sum | cut -c1-12; }

work="$(mktemp -d "${TMPDIR:-/var/tmp}/chiso-images.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --- debian ---------------------------------------------------------------
debian="$prefix/debian:$suite"
make_debian() {
  log "building $debian (mmdebstrap minbase)"
  mmdebstrap --quiet --mode=root --variant=minbase --include=ca-certificates "${slim[@]}" \
    --customize-hook="$ca_hook" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$suite" - \
    | podman import --quiet --change 'CMD ["bash"]' --change "LABEL org.chiso.base-key=$1" - "$debian" >/dev/null
}
ensure "$debian" "debian-$shared_key-$(recipe_key make_debian)" make_debian

# --- builder ---------------------------------------------------------------
builder="$prefix/rust:$rust_minor-$suite"
# The same layout as the upstream rust image: the toolchain under
# RUSTUP_HOME, cargo and rustc on PATH through /usr/local/cargo/bin (plain
# links here, no rustup: there is nothing to download a toolchain from).
toolchain="/usr/local/rustup/toolchains/$rust_version-x86_64-unknown-linux-gnu"
make_builder() {
  log "building $builder (mmdebstrap + the Rust $rust_version toolchain at $sysroot)"
  local parts
  parts="bin/cargo bin/rustc bin/rustdoc lib/rustlib/x86_64-unknown-linux-gnu lib/rustlib/etc $(cd "$sysroot" && echo lib/*.so*)"
  mmdebstrap --quiet --mode=root --variant=minbase \
    --include=ca-certificates,gcc,libc6-dev,pkg-config,make "${slim[@]}" \
    --customize-hook="$ca_hook" \
    --customize-hook="mkdir -p \"\$1$toolchain\" \"\$1/usr/local/cargo/bin\" && tar -C '$sysroot' -c $parts | tar -C \"\$1$toolchain\" -x && for b in cargo rustc rustdoc; do ln -s $toolchain/bin/\$b \"\$1/usr/local/cargo/bin/\$b\"; done" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$suite" - \
    | podman import --quiet \
    --change 'ENV RUSTUP_HOME=/usr/local/rustup' --change 'ENV CARGO_HOME=/usr/local/cargo' \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV RUST_VERSION=$rust_version" --change 'CMD ["bash"]' \
    --change "LABEL org.chiso.base-key=$1" - "$builder" >/dev/null
}
# rustup's manifest names the exact toolchain build, components included.
toolchain_key="$(cat "$sysroot/lib/rustlib/multirust-channel-manifest.toml" 2>/dev/null | sha256sum | cut -c1-8)"
ensure "$builder" "builder-$shared_key-$(recipe_key make_builder)-$rust_version-$toolchain_key" make_builder

# --- runtime ---------------------------------------------------------------
runtime="$prefix/cc-debian12:nonroot"
make_runtime() {
  log "building $runtime (libc6 + libgcc-s1, extracted; no shell)"
  # `extract` unpacks the packages without running any maintainer script, so
  # nothing but their files lands: no dpkg, no apt, no /bin/sh. mmdebstrap
  # runs no customize hook for this variant: the root is finished here.
  local root="$work/runtime"
  mmdebstrap --quiet --mode=root --variant=extract --include=libc6,libgcc-s1 "$suite" "$root"
  rm -rf "$root"/etc/apt "$root"/etc/dpkg "$root"/var/lib/apt "$root"/var/cache/apt "$root"/var/lib/dpkg \
    "$root"/var/log/* "$root"/usr/share/doc "$root"/usr/share/lintian "$root"/usr/lib/x86_64-linux-gnu/gconv
  mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/home/nonroot"
  chmod 1777 "$root/tmp"
  cp "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  chown 65532:65532 "$root/home/nonroot"
  for sh in bin/sh bin/bash bin/dash usr/bin/sh usr/bin/bash usr/bin/dash; do
    [[ ! -e "$root/$sh" ]] || die "the runtime root file system has a shell ($sh)"
  done
  [[ -s "$root/etc/ssl/certs/ca-certificates.crt" && -s "$root/etc/passwd" ]] || die "the runtime root file system is incomplete"
  tar -C "$root" -c . | podman import --quiet --change 'USER 65532:65532' --change 'WORKDIR /home/nonroot' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change "LABEL org.chiso.base-key=$1" - "$runtime" >/dev/null
  rm -rf "$root"
}
ensure "$runtime" "runtime-$shared_key-$(recipe_key make_runtime)" make_runtime

# --- postgres --------------------------------------------------------------
postgres="$prefix/postgres:15"
make_postgres() {
  log "building $postgres (deploy/images/postgres/Containerfile on $debian)"
  podman build --quiet --network=host --build-arg "BASE_IMAGE=$debian" \
    --label "org.chiso.base-key=$1" -t "$postgres" "$here/postgres" >/dev/null
}
# On top of debian: rebuilt when it is.
ensure "$postgres" "postgres-$(cat "$here/postgres/"* | sha256sum | cut -c1-12)-$(label_of "$debian")" make_postgres

# Replaced images, unless something still uses them (a build running now).
for id in "${stale[@]}"; do
  [[ -n "$id" ]] && podman rmi "$id" >/dev/null 2>&1 || true
done

printf 'BUILDER_IMAGE=%s\nRUNTIME_IMAGE=%s\nCHISO_POSTGRES_IMAGE=%s\n' "$builder" "$runtime" "$postgres"

#!/usr/bin/env bash
# Fuzzes chiso's parsers of outside input (issue 14, docs/FUZZING.md): builds
# every cargo-fuzz target in fuzz/ with the nightly toolchain, runs each for
# a bounded time from its committed seed corpus, and fails on any crash,
# panic, failed property, timeout or memory blow-up. Prints each target's
# executions. New inputs found go to a scratch folder, not to the committed
# corpus; a crashing input is kept there and its path printed.
#
# Usage: bash .ci/fuzz.sh [target ...]        (default: every target)
#   FUZZ_SECONDS=N     seconds per target (default 20)
#   FUZZ_RSS_MB=N      memory limit per target, MB (default 2048)
#   FUZZ_SANITIZER=S   none (default) or address: the workspace forbids
#                      unsafe code, so the targets hunt panics and failed
#                      properties; `address` also checks dependencies'
#                      unsafe code, at twice the build and run time.
#   FUZZ_WORK=DIR      scratch folder (default: a fresh temporary one)
#   FUZZ_TARGET_DIR=DIR  the build (default: ~/.cache/chiso-tools/fuzz-target)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz"
seconds="${FUZZ_SECONDS:-20}"
rss_mb="${FUZZ_RSS_MB:-2048}"
sanitizer="${FUZZ_SANITIZER:-none}"
work="${FUZZ_WORK:-$(mktemp -d -t chiso-fuzz.XXXXXX)}"
# The instrumented build lives outside the work tree, so a fresh clone on the
# same machine (as CI makes) reuses it instead of rebuilding every dependency.
target_dir="${FUZZ_TARGET_DIR:-${CHISO_TOOLS_DIR:-$HOME/.cache/chiso-tools}/fuzz-target}"

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

mkdir -p "$work"
started=$(date +%s)
# `cargo fuzz build` builds one target or all of them.
build_args=()
if [ "${#targets[@]}" -eq 1 ]; then build_args=("${targets[0]}"); fi
if ! cargo +nightly fuzz build --target-dir "$target_dir" --sanitizer "$sanitizer" "${build_args[@]}" >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log" >&2
  echo "fuzz: build failed" >&2
  exit 1
fi
echo "fuzz: built in $(( $(date +%s) - started )) s"

failed=()
printf '%-16s %12s %10s %8s\n' target executions exec/s corpus
for target in "${targets[@]}"; do
  mkdir -p "$work/corpus/$target" "$work/artifacts/$target"
  log="$work/$target.log"
  if cargo +nightly fuzz run --target-dir "$target_dir" --sanitizer "$sanitizer" "$target" \
      "$work/corpus/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout=10 \
      -artifact_prefix="$work/artifacts/$target/" -print_final_stats=1 \
      >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$target")
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  units=$(find "$work/corpus/$target" "corpus/$target" -type f | wc -l)
  printf '%-16s %12s %10s %8s %s\n' "$target" "${execs:-?}" "${rate:-?}" "$units" "$status"
done

total=$(( $(date +%s) - started ))
if [ "${#failed[@]}" -gt 0 ]; then
  for target in "${failed[@]}"; do
    echo "fuzz: $target failed; its log ($work/$target.log) ends:" >&2
    grep -v '^#' "$work/$target.log" | tail -n 30 >&2
    find "$work/artifacts/$target" -type f -printf 'fuzz: input kept at %p\n' >&2
  done
  exit 1
fi
echo "fuzz: ${#targets[@]} targets clean, ${seconds} s each, ${total} s in all"

#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/*_fuzz.cpp) as libFuzzer binaries with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in FUZZ_BUILD_DIR (default build-fuzz/), then runs each for FUZZ_SECONDS (default 20) starting
# from its committed corpus. The corpus is only read: new inputs go to a temporary directory.
# Fails when any target crashes, leaks, times out or breaks an invariant; the input that did it
# is left in build-fuzz/artifacts/<name>/ (docs/fuzzing.md says how to keep it as a regression).
# Usage: scripts/fuzz.sh [name ...]   (FUZZ_SECONDS, FUZZ_BUILD_DIR, JOBS from the environment)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-20}"
build="${FUZZ_BUILD_DIR:-build-fuzz}"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
# A build directory already configured with VLLM_MEM_FUZZ=ON (`make sanitize`'s build-asan) is used
# as it is; any other is configured for the fuzz targets alone.
if ! grep -q '^VLLM_MEM_FUZZ:BOOL=ON$' "$build/CMakeCache.txt" 2>/dev/null; then
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVLLM_MEM_FUZZ=ON -DVLLM_MEM_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" -j "$jobs" --target vllm_mem_fuzzers

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for src in fuzz/*_fuzz.cpp; do
    n="$(basename "$src" .cpp)"
    names+=("${n%_fuzz}")
  done
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()
for name in "${names[@]}"; do
  src="fuzz/${name}_fuzz.cpp"
  # Per-target libFuzzer flags from the source's "// fuzz-options:" line.
  opts="$(sed -n 's|^// fuzz-options:||p' "$src" | head -n1)"
  [ -n "$opts" ] || opts="-max_len=8192 -dict=fuzz/json.dict"
  dirs=("fuzz/corpus/$name")
  [ -d "fuzz/regressions/$name" ] && dirs+=("fuzz/regressions/$name")
  mkdir -p "$work/$name" "$build/artifacts/$name"
  echo "== fuzz $name for ${seconds}s ($opts)"
  # shellcheck disable=SC2086  # opts is a list of flags
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/${name}_fuzz" $opts -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$name/" \
    "$work/$name" "${dirs[@]}" >"$work/$name.log" 2>&1; then
    tail -n 60 "$work/$name.log"
    failed+=("$name")
  else
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done)' "$work/$name.log" || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
echo "fuzzing passed: ${names[*]}"

#!/usr/bin/env bash
# bench/run.sh — what `make bench` runs: builds vllm-mem and the microbenchmarks in Release, then
# bench/loadtest.py runs the core microbenchmarks (Google Benchmark), measures the server's
# start-up, and load-tests POST /estimate-gpu-memory with wrk next to nginx serving a static file
# of the same size on this machine, and writes bench/results.md.
#
# Settings (environment): BENCH_BUILD_DIR (default build-release), BENCH_DURATION seconds per wrk
# run (default 10), BENCH_ROUNDS alternating rounds per setting (default 3), BENCH_PORT first of
# three ports to use (default: free ones), JOBS build parallelism (default: nproc).
# Benchmarks are not tests: nothing here fails on a slow figure; results.md says which targets
# hold. It exits non-zero only when something could not run (a build error, a server that does
# not start, wrong answers under load).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${BENCH_BUILD_DIR:-build-release}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DVLLM_MEM_BUILD_TESTS=OFF \
  -DVLLM_MEM_BUILD_BENCH=ON >/dev/null
cmake --build "$build_dir" -j "$jobs" --target vllm-mem vllm_mem_bench

exec python3 bench/loadtest.py --build-dir "$build_dir" --out bench/results.md \
  --duration "${BENCH_DURATION:-10}" --rounds "${BENCH_ROUNDS:-3}" --port "${BENCH_PORT:-0}"

#!/usr/bin/env bash
# answer.sh BINARY OUT_DIR — posts every case of this directory (NN-name.json: {"route", "body"})
# to `BINARY serve` on loopback and writes OUT_DIR/NN-name.out: the HTTP status on the first
# line, the response body after it.
#
# The committed .out files are the planner's answers before its search was made faster
# (generated with that binary: `answer.sh /tmp/vllm-mem-before tests/golden/planner`); the test
# PlannerGolden (tests/http/planner_golden_test.cpp) checks that the router still gives them byte
# for byte. To compare two binaries directly:
#   answer.sh old-binary /tmp/a && answer.sh new-binary /tmp/b && diff -r /tmp/a /tmp/b
set -euo pipefail
binary=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
log=$(mktemp)
"$binary" serve --host 127.0.0.1 --port 0 --threads 1 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
port=""
for _ in $(seq 100); do
  port=$(grep -oE '127\.0\.0\.1:[0-9]+' "$log" | head -1 | cut -d: -f2 || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "answer.sh: the server did not report its port:" >&2; cat "$log" >&2; exit 1; }
for case in "$here"/*.json; do
  name=$(basename "$case" .json)
  route=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["route"])' "$case")
  python3 -c 'import json,sys; sys.stdout.write(json.dumps(json.load(open(sys.argv[1]))["body"]))' \
    "$case" >"$out/$name.body"
  body=$(mktemp)
  status=$(curl -s -o "$body" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$out/$name.body" "http://127.0.0.1:$port$route")
  { echo "$status"; cat "$body"; } >"$out/$name.out"
  rm -f "$body" "$out/$name.body"
done

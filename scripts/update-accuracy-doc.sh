#!/usr/bin/env bash
# Regenerates the results table of docs/accuracy.md from `vllm-mem validate --markdown`.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-../shared/ground-truth/vllm-startup-cases.dev.json}"
table=$(build/vllm-mem validate "$cases" --markdown || true)
python3 - "$table" <<'PY'
import re, sys
doc = open("docs/accuracy.md").read()
begin, end = "<!-- BEGIN GENERATED: scripts/update-accuracy-doc.sh -->", "<!-- END GENERATED -->"
pre, rest = doc.split(begin)
_, post = rest.split(end)
open("docs/accuracy.md", "w").write(pre + begin + "\n" + sys.argv[1].strip() + "\n" + end + post)
PY

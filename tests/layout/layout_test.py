#!/usr/bin/env python3
"""The house rules of docs/architecture.md, checked on the source tree.

1. The physics and the search never see the wire format: no header or source under model/, vllm/,
   estimate/ or plan/ (include/vllm_mem/<dir>/ and src/<dir>/) includes a JSON library.
2. Each folder includes only the folders below it (the table in docs/architecture.md).
3. No source file is over 1,200 lines and no function over 200 lines.
Exit 0 when every rule holds; otherwise each violation is printed and the exit code is 1.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parents[2])
JSON_FREE = ["model", "vllm", "estimate", "plan"]
# What each core folder may include (besides itself and util, which every folder may use).
ALLOWED = {
    "util": set(),
    "model": set(),
    "ingest": {"model"},
    "vllm": {"model"},
    "estimate": {"model", "ingest", "vllm"},
    "plan": {"model", "ingest", "vllm", "estimate"},
    "api": {"model", "ingest", "vllm", "estimate", "plan"},
}
MAX_FILE_LINES = 1200
MAX_FUNCTION_LINES = 200

problems = []


def core_files(folder):
    for base in (ROOT / "include" / "vllm_mem" / folder, ROOT / "src" / folder):
        if base.is_dir():
            yield from sorted(p for p in base.rglob("*") if p.suffix in (".hpp", ".cpp"))


def strip_code(text):
    """The text with comments, string and character literals blanked (line breaks kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def long_functions(path):
    """(name, first line, lines) of each function body longer than the limit."""
    code = strip_code(path.read_text())
    stack, header_start, found = [], 0, []
    line = 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c in ";":
            header_start = i + 1
        elif c == "{":
            header = code[header_start:i]
            if re.search(r"\bnamespace\b", header):
                kind = "namespace"
            elif re.search(r"\b(struct|class|enum|union)\b[^()]*$", header):
                kind = "type"
            elif all(k in ("namespace", "type") for k, _, _ in stack) and "(" in header:
                kind = "function"
            else:
                kind = "block"
            name = header.strip().split("(")[0].split()[-1] if kind == "function" else ""
            stack.append((kind, line, name))
            header_start = i + 1
        elif c == "}":
            if stack:
                kind, start, name = stack.pop()
                if kind == "function" and line - start - 1 > MAX_FUNCTION_LINES:
                    found.append((name, start, line - start - 1))
            header_start = i + 1
    return found


for folder in JSON_FREE:
    for p in core_files(folder):
        if re.search(r"#include\s*[<\"]nlohmann/", p.read_text()):
            problems.append(f"{p.relative_to(ROOT)}: includes a JSON library ({folder}/ is JSON-free)")

for folder, allowed in ALLOWED.items():
    for p in core_files(folder):
        for m in re.finditer(r'#include\s*"vllm_mem/([a-z_]+)/', p.read_text()):
            used = m.group(1)
            if used not in allowed | {folder, "util"}:
                problems.append(f"{p.relative_to(ROOT)}: {folder}/ may not include {used}/")

for p in sorted((ROOT / "src").rglob("*.cpp")) + sorted((ROOT / "src").rglob("*.hpp")):
    lines = p.read_text().count("\n")
    if lines > MAX_FILE_LINES:
        problems.append(f"{p.relative_to(ROOT)}: {lines} lines (at most {MAX_FILE_LINES})")
    for name, start, n in long_functions(p):
        problems.append(f"{p.relative_to(ROOT)}:{start}: {name} is {n} lines (at most {MAX_FUNCTION_LINES})")

for problem in problems:
    print(problem)
print(f"{0 if problems else 1} passed, {1 if problems else 0} failed")
sys.exit(1 if problems else 0)

#!/usr/bin/env bash
# Compare depwatch with cargo-audit on the same Cargo.lock and the same RustSec snapshot:
# same vulnerability ids, packages and versions, same unmaintained / unsound / notice warnings.
#
# Needs cargo-audit (`cargo install cargo-audit --locked`) and python3. Not part of the test
# suite: the test `tests/it/scan_rust.rs` checks depwatch against the recorded result in
# tests/expectations/cargo-audit-uv-Cargo.lock.txt, made by this script's cargo-audit command.
#
# Usage: bench/compare-cargo-audit.sh [LOCKFILE] (default ../shared/corpus/manifests/uv/Cargo.lock)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
lock=$(realpath "${1:-../shared/corpus/manifests/uv/Cargo.lock}")
db=$(realpath ../shared/corpus/advisories/rustsec)
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# cargo-audit reads the Cargo.lock of the current directory (or --file).
(cd "$(dirname "$lock")" && cargo audit --db "$db" --no-fetch --stale --no-yanked --json --file "$lock" 2>/dev/null || true) > "$tmp/audit.json"
"$root/target/release/depwatch" scan "$lock" --source "rustsec-dir:$db" --format json > "$tmp/depwatch.json" || true

python3 - "$tmp/audit.json" "$tmp/depwatch.json" <<'PY'
import json, sys
audit = json.load(open(sys.argv[1]))
ours = json.load(open(sys.argv[2]))
a = set()
for v in audit["vulnerabilities"]["list"]:
    a.add(("vulnerability", v["advisory"]["id"], v["package"]["name"], v["package"]["version"]))
for kind, ws in audit["warnings"].items():
    for w in ws:
        if w.get("advisory"):
            a.add((kind, w["advisory"]["id"], w["package"]["name"], w["package"]["version"]))
d = set()
for f in ours["findings"]:
    d.add(("vulnerability", f["id"], f["package"]["name"], f["package"]["version"]))
for w in ours["warnings"]:
    d.add((w["kind"], w["id"], w["package"]["name"], w["package"]["version"]))
for row in sorted(a | d):
    mark = "both " if row in a and row in d else ("audit" if row in a else "ours ")
    print(mark, *row)
if a != d:
    print(f"DIFFERENT: only cargo-audit {sorted(a - d)}, only depwatch {sorted(d - a)}")
    sys.exit(1)
print(f"same results: {len(a)} rows")
PY

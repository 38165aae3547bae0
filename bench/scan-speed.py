#!/usr/bin/env python3
"""Whole-process timing of `depwatch scan` next to cargo-audit, in one run.

Medians of N runs (default 15) of wall time, and peak RSS from `/usr/bin/time -f %M`.
Cases:
  1. uv/Cargo.lock against the RustSec snapshot: depwatch vs `cargo audit --no-fetch --no-yanked`
     (cargo-audit's yanked check reads the crates.io index, which depwatch does not do yet).
  2. home-assistant/requirements.txt (~1,000 pins) against the whole PyPA folder.
  3. The store (issue 4): a full import of the corpus into a fresh store, then scans answered
     from the synced store (uv/Cargo.lock next to cargo-audit, home-assistant), and the store's
     size on disk.
Usage: python3 bench/scan-speed.py [RUNS]     (builds the release binary first)
"""
import os, shutil, statistics, subprocess, sys, time

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 15
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
shared = os.path.realpath(os.path.join(root, "..", "shared"))
rustsec = os.path.join(shared, "corpus/advisories/rustsec")
pypa = os.path.join(shared, "corpus/advisories/pypa/vulns")
uvdir = os.path.join(shared, "corpus/manifests/uv")
ha = os.path.join(shared, "corpus/manifests/home-assistant/requirements.txt")
subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=root, check=True)
dw = os.path.join(root, "target/release/depwatch")


def measure_once(cmd, cwd):
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, cwd=cwd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ms = (time.perf_counter() - t0) * 1000
    last = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "0"
    return ms, (int(last) if last.isdigit() else 0) / 1024


def measure(cmd, cwd):
    times, peaks = [], []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, cwd=cwd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - t0)
        last = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "0"
        peaks.append(int(last) if last.isdigit() else 0)
    return statistics.median(times) * 1000, max(peaks) / 1024


cases = [
    ("depwatch scan uv/Cargo.lock (rustsec-dir)",
     [dw, "scan", "Cargo.lock", "--source", f"rustsec-dir:{rustsec}", "--format", "json"], uvdir),
]
if shutil.which("cargo-audit"):
    cases.append(("cargo audit --no-fetch --no-yanked uv/Cargo.lock",
                  ["cargo", "audit", "--db", rustsec, "--no-fetch", "--stale", "--no-yanked", "--json"], uvdir))
else:
    print("(cargo-audit not installed: `cargo install cargo-audit --locked` to compare)")
cases.append(("depwatch scan home-assistant/requirements.txt (PyPA osv-dir)",
              [dw, "scan", ha, "--source", f"osv-dir:{pypa}", "--format", "json"], root))

import tempfile
tmp = tempfile.mkdtemp(prefix="depwatch-bench-")
store = os.path.join(tmp, "store.sqlite3")
sync = [dw, "sync", "--store", store, "--source", f"rustsec-dir:{rustsec}", "--source", f"osv-dir:{pypa}"]


class FreshImport(list):
    """The import command, run on a store deleted before each run."""


cases.append(("depwatch sync: full import of the corpus (fresh store)", FreshImport(sync), root))
cases.append(("depwatch scan uv/Cargo.lock (from the store)",
              [dw, "scan", "Cargo.lock", "--store", store, "--format", "json"], uvdir))
if shutil.which("cargo-audit"):
    cases.append(("cargo audit uv/Cargo.lock (default run, yanked check; index unreachable here)",
                  ["cargo", "audit", "--db", rustsec, "--no-fetch", "--stale", "--json"], uvdir))
cases.append(("depwatch scan home-assistant/requirements.txt (from the store)",
              [dw, "scan", ha, "--store", store, "--format", "json"], root))

print(f"{'case':78} {'median ms':>10} {'peak MB':>8}   ({RUNS} runs, {os.cpu_count()} cores)")
for name, cmd, cwd in cases:
    if isinstance(cmd, FreshImport):
        times, peaks = [], []
        for _ in range(RUNS):
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(store + suffix):
                    os.remove(store + suffix)
            ms, mb = measure_once(list(cmd), cwd)
            times.append(ms)
            peaks.append(mb)
        ms, mb = statistics.median(times), max(peaks)
    else:
        if not os.path.exists(store):
            subprocess.run(sync, stdout=subprocess.DEVNULL, check=True)
        ms, mb = measure(cmd, cwd)
    print(f"{name:78} {ms:10.1f} {mb:8.1f}")
# The targets are ratios: measure those pairs interleaved (A, B, A, B, ...) so that drift of a
# shared machine hits both sides alike.
if shutil.which("cargo-audit"):
    pairs = [
        ("store scan vs cargo audit --no-fetch --no-yanked (target >= 4x)",
         [dw, "scan", "Cargo.lock", "--store", store, "--format", "json"],
         ["cargo", "audit", "--db", rustsec, "--no-fetch", "--stale", "--no-yanked", "--json"]),
        ("store scan vs cargo audit default run (target >= 20x)",
         [dw, "scan", "Cargo.lock", "--store", store, "--format", "json"],
         ["cargo", "audit", "--db", rustsec, "--no-fetch", "--stale", "--json"]),
    ]
    for name, a, b in pairs:
        ta, tb = [], []
        # Timed without the /usr/bin/time wrapper, whose fork and exec would add the same
        # milliseconds to both sides and shrink the ratio.
        for _ in range(RUNS):
            for cmd, t in ((a, ta), (b, tb)):
                t0 = time.perf_counter()
                subprocess.run(cmd, cwd=uvdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                t.append((time.perf_counter() - t0) * 1000)
        ma, mb = statistics.median(ta), statistics.median(tb)
        print(f"{name:78} {ma:6.1f} vs {mb:6.1f} ms = {mb / ma:.2f}x")
size = sum(os.path.getsize(store + s) for s in ("", "-wal") if os.path.exists(store + s))
print(f"store size on disk after the import: {size / 1e6:.1f} MB ({store})")
shutil.rmtree(tmp)

#!/usr/bin/env python3
"""Whole-process timing of `depwatch scan` next to cargo-audit, in one run.

Medians of N runs (default 15) of wall time, and peak RSS from `/usr/bin/time -f %M`.
Cases:
  1. uv/Cargo.lock against the RustSec snapshot: depwatch vs `cargo audit --no-fetch --no-yanked`.
  2. home-assistant/requirements.txt (~1,000 pins) against the whole PyPA folder.
  3. The store (issue 4): a full import of the corpus into a fresh store, then scans answered
     from the synced store (uv/Cargo.lock next to cargo-audit, home-assistant), and the store's
     size on disk. The store also holds the yanked flags of uv's crates, synced from a loopback
     sparse index (the crates.io index is unreachable here), so the store scan does the same
     work as cargo-audit's default run with its yanked check.
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


def serve_sparse_index(lockfile, root_dir):
    """A loopback crates.io sparse index for the crates.io packages of `lockfile`: one file per
    crate at its sparse path, a JSON line per locked version. Two versions are marked yanked
    (h2 0.4.15 and the first windows-sys), so the scan has yanked warnings to report."""
    import http.server, json, re, threading
    text = open(lockfile).read()
    versions = {}
    for block in text.split("[[package]]")[1:]:
        name = re.search(r'^name = "([^"]+)"', block, re.M)
        vers = re.search(r'^version = "([^"]+)"', block, re.M)
        if name and vers and 'source = "registry+' in block:
            versions.setdefault(name.group(1), []).append(vers.group(1))
    yanked = {("h2", "0.4.15")}
    if "windows-sys" in versions:
        yanked.add(("windows-sys", versions["windows-sys"][0]))
    for name, vs in versions.items():
        n = name.lower()
        prefix = {1: "1", 2: "2", 3: f"3/{n[0]}"}.get(len(n), f"{n[:2]}/{n[2:4]}")
        d = os.path.join(root_dir, prefix)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, n), "w") as f:
            for v in vs:
                f.write(json.dumps({"name": name, "vers": v, "deps": [], "cksum": "0" * 64,
                                    "features": {}, "yanked": (name, v) in yanked}) + "\n")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=root_dir, **kw)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}", len(versions), len(yanked)


class FreshImport(list):
    """The import command, run on a store deleted before each run."""


cases.append(("depwatch sync: full import of the corpus (fresh store)", FreshImport(sync), root))


def sync_store():
    """The full import, then the yanked flags of uv's locked crates from a loopback index."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(store + suffix):
            os.remove(store + suffix)
    subprocess.run(sync, stdout=subprocess.DEVNULL, check=True)
    srv, url, crates, yanked = serve_sparse_index(os.path.join(uvdir, "Cargo.lock"),
                                                  os.path.join(tmp, "index"))
    cfg = os.path.join(tmp, "depwatch.toml")
    with open(cfg, "w") as f:
        f.write("".join(f"[feeds.{n}]\nenabled = false\n"
                        for n in ("osv-pypi", "osv-crates", "ghsa", "rustsec", "osv-api")))
        f.write(f'[feeds.crates-index]\nbase-url = "{url}"\n')
    out = subprocess.run([dw, "sync", "--store", store, "--config", cfg, "--yanked-for",
                          os.path.join(uvdir, "Cargo.lock")], capture_output=True, text=True)
    srv.shutdown()
    if out.returncode != 0:
        sys.exit(f"yanked sync failed: {out.stdout}{out.stderr}")
    scan = subprocess.run([dw, "scan", "Cargo.lock", "--store", store, "--format", "json"],
                          cwd=uvdir, capture_output=True, text=True)
    import json
    warned = sum(1 for w in json.loads(scan.stdout)["warnings"] if w["kind"] == "yanked")
    print(f"(store: corpus imported, yanked flags of {crates} crates cached from a loopback "
          f"sparse index; the scan reports {warned} of {yanked} yanked versions)")
    if warned != yanked:
        sys.exit("the store scan does not report the yanked versions: the timing would be wrong")

cases.append(("depwatch scan uv/Cargo.lock (from the store, with yanked flags)",
              [dw, "scan", "Cargo.lock", "--store", store, "--format", "json"], uvdir))
if shutil.which("cargo-audit"):
    cases.append(("cargo audit uv/Cargo.lock (default run, yanked check; index unreachable here)",
                  ["cargo", "audit", "--db", rustsec, "--no-fetch", "--stale", "--json"], uvdir))
cases.append(("depwatch scan home-assistant/requirements.txt (from the store)",
              [dw, "scan", ha, "--store", store, "--format", "json"], root))

print(f"{'case':78} {'median ms':>10} {'peak MB':>8}   ({RUNS} runs, {os.cpu_count()} cores)")
synced = False
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
        synced = False
    else:
        if "--store" in cmd and not synced:
            sync_store()
            synced = True
        ms, mb = measure(cmd, cwd)
    print(f"{name:78} {ms:10.1f} {mb:8.1f}")
# The targets are ratios: measure those pairs interleaved (A, B, A, B, ...) so that drift of a
# shared machine hits both sides alike.
if shutil.which("cargo-audit"):
    pairs = [
        ("store scan vs cargo audit --no-fetch --no-yanked (target >= 4x)",
         [dw, "scan", "Cargo.lock", "--store", store, "--format", "json"],
         ["cargo", "audit", "--db", rustsec, "--no-fetch", "--stale", "--no-yanked", "--json"]),
        ("store scan (yanked flags) vs cargo audit default run (target >= 20x)",
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
# The home-assistant target is absolute: time it without the /usr/bin/time wrapper too.
t = []
for _ in range(RUNS):
    t0 = time.perf_counter()
    subprocess.run([dw, "scan", ha, "--store", store, "--format", "json"], cwd=root,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t.append((time.perf_counter() - t0) * 1000)
print(f"{'home-assistant from the store, no wrapper (target < 20 ms)':78} {statistics.median(t):6.1f} ms")
size = sum(os.path.getsize(store + s) for s in ("", "-wal") if os.path.exists(store + s))
print(f"store size on disk after the import: {size / 1e6:.1f} MB ({store})")
shutil.rmtree(tmp)

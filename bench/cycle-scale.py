#!/usr/bin/env python3
"""Issue 15: whole-process timing of `depwatch run` cycles on 1,000 projects, SQLite and
PostgreSQL in the same run.

Generates 1,000 projects (a config and checkouts in a temp dir) from the corpus manifests
(../shared/corpus/manifests/*, each project a copy of one of them, round robin), imports the
corpus advisories (RustSec, PyPA, GitHub's OSV records) plus a small local osv-dir feed, then
times, as medians of N runs of the whole process (`run --no-sync --no-deliver`):
  1. the first cycle (once: every project new) and a full rescan (`run --full`);
  2. an unchanged cycle (every project skipped, deadlines evaluated);
  3. a cycle after one advisory changed for one package (`requests`): the local feed's record
     is rewritten, synced (`sync --source osv-dir:FEED`, timed apart), then the cycle runs.
On PostgreSQL also the corpus import (`depwatch sync` into an empty database).
PostgreSQL: $DEPWATCH_TEST_POSTGRES_URL (`postgres://user:pw@host:port`, a database
`depwatch_bench` is created), else a throwaway cluster made as tests/support/pg_cluster.rs
does (Debian's /usr/lib/postgresql/N/bin or PATH; as root through `runuser -u postgres`).
Usage: python3 bench/cycle-scale.py [RUNS]      (builds the release binary first;
$DEPWATCH_BENCH_BIN times another binary, $DEPWATCH_BENCH_PROJECTS another project count)
"""
import glob, json, os, shutil, socket, statistics, subprocess, sys, tempfile, time

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
PROJECTS = 1000
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
shared = os.path.realpath(os.path.join(root, "..", "shared"))
# $DEPWATCH_BENCH_BIN: time another binary (e.g. target/debug/depwatch) without building.
dw = os.environ.get("DEPWATCH_BENCH_BIN")
if not dw:
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=root, check=True)
    dw = os.path.join(root, "target/release/depwatch")
PROJECTS = int(os.environ.get("DEPWATCH_BENCH_PROJECTS", PROJECTS))
tmp = tempfile.mkdtemp(prefix="depwatch-cycle-scale-")
corpus = [
    d for d in sorted(glob.glob(os.path.join(shared, "corpus/manifests/*")))
    if os.path.isdir(d)
]
SOURCES = [
    "rustsec-dir:" + os.path.join(shared, "corpus/advisories/rustsec"),
    "osv-dir:" + os.path.join(shared, "corpus/advisories/pypa/vulns"),
    "osv-dir:" + os.path.join(shared, "feeds-reference/ghsa-osv"),
]
feed = os.path.join(tmp, "feed")
os.makedirs(feed)


def bench_record(generation):
    """The local feed's one record, on `requests`; each generation a new `modified`/fix."""
    fixed = "2.32.%d" % (4 + generation % 2)
    rec = {
        "id": "GHSA-bnch-0000-0001", "modified": "2026-12-01T00:%02d:%02dZ" % divmod(generation, 60),
        "summary": "depwatch benchmark record", "database_specific": {"severity": "HIGH"},
        "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
                      "ranges": [{"type": "ECOSYSTEM",
                                  "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
    }
    with open(os.path.join(feed, "GHSA-bnch-0000-0001.json"), "w") as f:
        json.dump(rec, f)


bench_record(0)
SOURCES.append("osv-dir:" + feed)

# 1,000 projects, each a copy of one corpus manifest folder.
lines = ["sources = [%s]\n" % ", ".join(json.dumps(s) for s in SOURCES)]
for i in range(PROJECTS):
    src = corpus[i % len(corpus)]
    dst = os.path.join(tmp, "projects", "p%04d" % i)
    shutil.copytree(src, dst)
    lines.append('[[project]]\nname = "p%04d"\npath = "%s"\n' % (i, dst))
config = os.path.join(tmp, "depwatch.toml")
with open(config, "w") as f:
    f.write("\n".join(lines))


def run(cmd, store, check=True):
    env = dict(os.environ, DEPWATCH_STORE=store, NO_COLOR="1")
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = (time.perf_counter() - t0) * 1000
    if check and p.returncode != 0:
        sys.exit("failed (%d): %s\n%s%s" % (p.returncode, " ".join(cmd), p.stdout[-2000:], p.stderr[-2000:]))
    return dt, p.stdout


def cycle(store, extra=()):
    out = os.path.join(tmp, "out")
    return run([dw, "run", "--config", config, "--no-sync", "--no-deliver", "--json", "--out", out] + list(extra), store)


def skipped(stdout):
    r = json.loads(stdout)
    return sum(1 for p in r["projects"] if p.get("skipped")), len(r["projects"])


def measure(store, label):
    res = {}
    sync_args = [dw, "sync"] + sum((["--source", s] for s in SOURCES), [])
    res["import"], _ = run(sync_args, store)
    res["first"], out = cycle(store)
    res["first_skipped"] = skipped(out)
    res["full"] = statistics.median(cycle(store, ["--full"])[0] for _ in range(RUNS))
    times, sk = [], None
    for _ in range(RUNS):
        dt, out = cycle(store)
        times.append(dt)
        sk = skipped(out)
    res["unchanged"], res["unchanged_skipped"] = statistics.median(times), sk
    times, syncs = [], []
    for g in range(1, RUNS + 1):
        bench_record(g)
        syncs.append(run([dw, "sync", "--source", "osv-dir:" + feed], store)[0])
        dt, out = cycle(store)
        times.append(dt)
        sk = skipped(out)
    res["changed"], res["changed_skipped"] = statistics.median(times), sk
    res["changed_sync"] = statistics.median(syncs)
    print("%s:" % label)
    print("  corpus import (sync)           %8.0f ms" % res["import"])
    print("  first cycle (once)             %8.0f ms  (%d of %d skipped)" % ((res["first"],) + res["first_skipped"]))
    print("  full rescan (--full)           %8.0f ms" % res["full"])
    print("  unchanged cycle                %8.0f ms  (%d of %d skipped)" % ((res["unchanged"],) + res["unchanged_skipped"]))
    print("  sync of the changed record     %8.0f ms" % res["changed_sync"])
    print("  cycle after one record changed %8.0f ms  (%d of %d skipped)" % ((res["changed"],) + res["changed_skipped"]))
    sys.stdout.flush()
    return res


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pg_bin():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]), reverse=True)
    for d in dirs:
        if os.path.isfile(os.path.join(d, "initdb")):
            return d
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


def start_cluster():
    """A throwaway cluster: returns (url, stop)."""
    bin_dir = pg_bin()
    if not bin_dir:
        return None, None
    as_pg = os.geteuid() == 0
    pre = ["runuser", "-u", "postgres", "--"] if as_pg else []
    d = tempfile.mkdtemp(prefix="depwatch-bench-pg-")
    pw = os.path.join(d, "pw")
    with open(pw, "w") as f:
        f.write("bench")
    if as_pg:
        subprocess.run(["chown", "-R", "postgres:postgres", d], check=True)
    data = os.path.join(d, "data")
    subprocess.run(pre + [os.path.join(bin_dir, "initdb"), "-D", data, "-U", "depwatch",
                          "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-instructions",
                          "--no-sync", "--pwfile=" + pw], check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    subprocess.run(pre + [os.path.join(bin_dir, "pg_ctl"), "-D", data, "-l", os.path.join(d, "log"),
                          "-w", "-t", "60", "-o",
                          "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                          "-c synchronous_commit=off -c full_page_writes=off" % (port, d), "start"],
                   check=True, stdout=subprocess.DEVNULL)

    def stop():
        subprocess.run(pre + [os.path.join(bin_dir, "pg_ctl"), "-D", data, "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(d, ignore_errors=True)

    return "postgres://depwatch:bench@127.0.0.1:%d" % port, stop


print("%d projects from %d corpus folders; medians of %d runs (whole process)" % (PROJECTS, len(corpus), RUNS))
try:
    measure(os.path.join(tmp, "store.sqlite3"), "SQLite")
    base, stop = os.environ.get("DEPWATCH_TEST_POSTGRES_URL"), None
    if not base:
        base, stop = start_cluster()
    if base:
        try:
            subprocess.run(["psql", base + "/postgres", "-qc", "DROP DATABASE IF EXISTS depwatch_bench"],
                           check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run(["psql", base + "/postgres", "-qc", "CREATE DATABASE depwatch_bench"], check=True)
            measure(base + "/depwatch_bench", "PostgreSQL")
        finally:
            if stop:
                stop()
    else:
        print("PostgreSQL: no server binaries and no $DEPWATCH_TEST_POSTGRES_URL: skipped")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

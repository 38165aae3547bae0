#!/usr/bin/env python3
"""Issue 15: whole-process timing of `depwatch run` cycles on 1,000 projects, SQLite and
PostgreSQL in the same run.

Generates 1,000 projects (a config and checkouts in a temp dir) from the corpus manifests
(../shared/corpus/manifests/*, each project a copy of one of them, round robin). The 8 corpus
folders alone would put every package in at least 125 projects, so each project also gets a
`bench/requirements.txt` pinning one package of the PyPA advisory corpus that no corpus manifest
names (round robin over RARE packages: each in a few projects, as a team's own dependency is).
Imports the corpus advisories (RustSec, PyPA, GitHub's OSV records) plus a small local osv-dir
feed of two benchmark records, then times, as medians of N runs (`run --no-sync --no-deliver
--timings`):
  1. the first cycle (once: every project new) and a full rescan (`run --full`);
  2. an unchanged cycle (every project skipped, deadlines evaluated);
  3. a cycle after one advisory changed for one package in a few projects (a rare package): the
     local feed's record on it is rewritten, synced (`sync --source osv-dir:FEED`, timed apart),
     then the cycle runs;
  4. the same for a popular package (`requests`, in 7 of the 8 corpus folders).
For 3 and 4: the whole process's wall time, and the re-match of the affected projects (the
summed time of the project steps the cycle rescanned, from `--timings`), with how many projects
contain the package and how many the cycle rescanned.
On PostgreSQL also the corpus import (`depwatch sync` into an empty database).
PostgreSQL: $DEPWATCH_TEST_POSTGRES_URL (`postgres://user:pw@host:port`, a database
`depwatch_bench` is created), else a throwaway cluster (bench/pgcluster.py, fsync off).
Usage: python3 bench/cycle-scale.py [RUNS]      (builds the release binary first;
$DEPWATCH_BENCH_BIN times another binary, $DEPWATCH_BENCH_PROJECTS another project count,
$DEPWATCH_BENCH_BACKENDS=sqlite or =postgres only one backend)
"""
import glob, json, os, re, resource, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402

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
RARE = 250
POPULAR = "requests"


def words_in(folder):
    """Every word of a folder's files, lower-cased (a package named there is in its projects)."""
    words = set()
    for path in glob.glob(os.path.join(folder, "**/*"), recursive=True):
        if os.path.isfile(path):
            with open(path, errors="replace") as f:
                words.update(w.lower() for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9._-]*", f.read()))
    return words


folder_words = {d: words_in(d) for d in corpus}
named = set().union(*folder_words.values())
rare = [
    p for p in sorted(os.listdir(os.path.join(shared, "corpus/advisories/pypa/vulns")))
    if re.fullmatch(r"[a-z0-9][a-z0-9-]*", p) and p not in named
][:RARE]


def bench_record(n, package, generation):
    """The local feed's record `n`, on `package`; each generation a new `modified`/fix."""
    fixed = "2.32.%d" % (4 + generation % 2)
    rid = "GHSA-bnch-0000-%04d" % n
    rec = {
        "id": rid, "modified": "2026-12-01T00:%02d:%02dZ" % divmod(generation, 60),
        "summary": "depwatch benchmark record", "database_specific": {"severity": "HIGH"},
        "affected": [{"package": {"ecosystem": "PyPI", "name": package},
                      "ranges": [{"type": "ECOSYSTEM",
                                  "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
    }
    with open(os.path.join(feed, rid + ".json"), "w") as f:
        json.dump(rec, f)


SOURCES.append("osv-dir:" + feed)

# 1,000 projects, each a copy of one corpus manifest folder plus one rare pinned package.
lines = ["sources = [%s]\n" % ", ".join(json.dumps(s) for s in SOURCES)]
holders = {}
for i in range(PROJECTS):
    src = corpus[i % len(corpus)]
    dst = os.path.join(tmp, "projects", "p%04d" % i)
    shutil.copytree(src, dst)
    own = rare[i % len(rare)]
    os.makedirs(os.path.join(dst, "bench"))
    with open(os.path.join(dst, "bench", "requirements.txt"), "w") as f:
        f.write("%s==1.0\n" % own)
    holders.setdefault(own, []).append(i)
    lines.append('[[project]]\nname = "p%04d"\npath = "%s"\n' % (i, dst))
config = os.path.join(tmp, "depwatch.toml")
with open(config, "w") as f:
    f.write("\n".join(lines))
# The rare package of the changed-advisory case: the first one's projects (printed).
RARE_PKG = rare[0]
rare_in = len(holders[RARE_PKG])
popular_in = sum(1 for i in range(PROJECTS) if POPULAR in folder_words[corpus[i % len(corpus)]])
bench_record(1, POPULAR, 0)
bench_record(2, RARE_PKG, 0)


def run(cmd, store, check=True, stderr=False):
    global CPU
    env = dict(os.environ, DEPWATCH_STORE=store, NO_COLOR="1")
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = (time.perf_counter() - t0) * 1000
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The process's own CPU time (user + system): steadier than wall time on a shared machine.
    CPU = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000
    if check and p.returncode != 0:
        sys.exit("failed (%d): %s\n%s%s" % (p.returncode, " ".join(cmd), p.stdout[-2000:], p.stderr[-2000:]))
    if stderr:
        return dt, p.stdout, p.stderr
    return dt, p.stdout


# A binary from before `run --timings` (to compare): whole-process times only.
HAS_TIMINGS = "--timings" in subprocess.run([dw, "run", "--help"], stdout=subprocess.PIPE, text=True).stdout
NO_TIMINGS = {"rescanned_ms": float("nan"), "rescanned": -1, "total_ms": float("nan")}


CPU = 0.0


def cycle(store, extra=()):
    """One cycle: (wall ms, its JSON report, its `--timings`)."""
    out = os.path.join(tmp, "out")
    dt, stdout, stderr = run([dw, "run", "--config", config, "--no-sync", "--no-deliver", "--json",
                              "--out", out] + (["--timings"] if HAS_TIMINGS else []) + list(extra),
                             store, stderr=True)
    report = json.loads(stdout)
    if not HAS_TIMINGS:
        return dt, report, dict(NO_TIMINGS, rescanned=sum(1 for p in report["projects"] if not p.get("skipped")))
    timings = [json.loads(l[len("timings: "):]) for l in stderr.splitlines() if l.startswith("timings: ")]
    if len(timings) != 1:
        sys.exit("no timings line in: %s" % stderr[-2000:])
    return dt, report, timings[0]


def skipped(report):
    return sum(1 for p in report["projects"] if p.get("skipped")), len(report["projects"])


def changed_case(store, res, key, n, package, runs):
    walls, cpus, rematch, syncs, rescanned = [], [], [], [], None
    for g in range(1, runs + 1):
        bench_record(n, package, g)
        syncs.append(run([dw, "sync", "--source", "osv-dir:" + feed], store)[0])
        dt, report, t = cycle(store)
        walls.append(dt)
        cpus.append(CPU)
        rematch.append(t["rescanned_ms"])
        rescanned = t["rescanned"]
    res[key] = statistics.median(walls)
    res[key + "_cpu"] = statistics.median(cpus)
    res[key + "_rematch"] = statistics.median(rematch)
    res[key + "_rescanned"] = rescanned
    res[key + "_sync"] = statistics.median(syncs)


def measure(store, label):
    res = {}
    sync_args = [dw, "sync"] + sum((["--source", s] for s in SOURCES), [])
    res["import"], _ = run(sync_args, store)
    res["first"], out, _ = cycle(store)
    res["first_skipped"] = skipped(out)
    full, cpus = [], []
    for _ in range(RUNS):
        full.append(cycle(store, ["--full"])[0])
        cpus.append(CPU)
    res["full"], res["full_cpu"] = statistics.median(full), statistics.median(cpus)
    times, inproc, sk, cpus = [], [], None, []
    for _ in range(RUNS):
        dt, out, t = cycle(store)
        cpus.append(CPU)
        times.append(dt)
        inproc.append(t["total_ms"])
        sk = skipped(out)
    res["unchanged"], res["unchanged_skipped"] = statistics.median(times), sk
    res["unchanged_inproc"] = statistics.median(inproc)
    res["unchanged_cpu"] = statistics.median(cpus)
    changed_case(store, res, "rare", 2, RARE_PKG, RUNS)
    # The popular case rescans most projects: fewer runs.
    changed_case(store, res, "popular", 1, POPULAR, min(RUNS, 3))
    print("%s:" % label)
    print("  corpus import (sync)           %8.0f ms" % res["import"])
    print("  first cycle (once)             %8.0f ms  (%d of %d skipped)" % ((res["first"],) + res["first_skipped"]))
    print("  full rescan (--full)           %8.0f ms  (CPU %.0f ms)" % (res["full"], res["full_cpu"]))
    print("  unchanged cycle                %8.0f ms  (%d of %d skipped; in-process %.0f ms; CPU %.0f ms)"
          % ((res["unchanged"],) + res["unchanged_skipped"] + (res["unchanged_inproc"], res["unchanged_cpu"])))
    for key, package, holders_n in (("rare", RARE_PKG, rare_in), ("popular", POPULAR, popular_in)):
        print("  one record changed on %s (in %d projects):" % (package, holders_n))
        print("    sync of the changed record   %8.0f ms" % res[key + "_sync"])
        print("    the cycle after it (whole)   %8.0f ms  (CPU %.0f ms)" % (res[key], res[key + "_cpu"]))
        print("    re-match of the affected     %8.1f ms  (%d projects rescanned)"
              % (res[key + "_rematch"], res[key + "_rescanned"]))
    sys.stdout.flush()
    return res


print("%d projects from %d corpus folders (+ one of %d rare PyPI packages each); medians of %d runs"
      % (PROJECTS, len(corpus), len(rare), RUNS))
backends = os.environ.get("DEPWATCH_BENCH_BACKENDS", "sqlite,postgres").split(",")
try:
    if "sqlite" in backends:
        measure(os.path.join(tmp, "store.sqlite3"), "SQLite")
    if "postgres" in backends:
        # fsync off: the same throwaway cluster the numbers in the README were measured on.
        with pgcluster.database("depwatch_bench") as url:
            if url:
                measure(url, "PostgreSQL")
            else:
                print("PostgreSQL: no server binaries and no $DEPWATCH_TEST_POSTGRES_URL: skipped")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

#!/usr/bin/env python3
"""Sync of the full EPSS file (313,089 rows, gzipped) into a fresh store, timed as a whole
process: `depwatch sync --source epss:FILE` on a new store each run. Prints the median wall time
of N runs and the peak RSS (from /usr/bin/time). Issue 14 asks for under 2 s and under 150 MB.

    cargo build --release && python3 bench/epss-sync.py [N]
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("DEPWATCH", os.path.join(ROOT, "target/release/depwatch"))
EPSS = os.environ.get(
    "EPSS",
    os.path.join(ROOT, "../shared/feeds-reference/epss/epss_scores-2026-01-30.csv.gz"),
)


def one(tmp: str, i: int) -> tuple[float, int]:
    store = os.path.join(tmp, f"store-{i}.sqlite3")
    rss = os.path.join(tmp, f"rss-{i}")
    env = dict(os.environ, DEPWATCH_STORE=store, NO_COLOR="1")
    start = time.perf_counter()
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", rss, BIN, "sync", "--source", f"epss:{EPSS}"],
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if out.returncode != 0 or "313089 written" not in out.stdout:
        sys.exit(f"sync failed ({out.returncode}):\n{out.stdout}{out.stderr}")
    with open(rss) as f:
        kib = int(f.read().split()[-1])
    return wall, kib


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one(tmp, i) for i in range(n)]
    walls = [w for w, _ in runs]
    peak = max(k for _, k in runs)
    print(f"epss sync, fresh store, {n} runs: median {statistics.median(walls):.3f} s "
          f"(min {min(walls):.3f}, max {max(walls):.3f}); peak RSS {peak / 1024:.1f} MB")


if __name__ == "__main__":
    main()

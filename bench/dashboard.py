#!/usr/bin/env python3
"""Dashboard pages for 1,000 projects, server-side (issue 16: under 50 ms per page).

Generates a config of 1,000 projects over the corpus manifests (cycling through them) with the
example's advisory sources, seeds an SQLite store with `depwatch run --offline` on three days
(so the daily history has rows), copies it into PostgreSQL (`db copy`; see bench/pgcluster.py
for the server), then runs `depwatch dashboard --timings` N times on each store. A page's time
is what a server pays per request with the store already open: reading the store and
rendering (`status::overview_page`, `status::project_page`'s work). Prints medians over the N
runs of: the overview page, the median, p99 and slowest of the 1,000 project pages.

    cargo build --release && python3 bench/dashboard.py [N]
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgcluster import database  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("DEPWATCH", os.path.join(ROOT, "target/release/depwatch"))
SHARED = os.path.abspath(os.path.join(ROOT, "../shared"))
PROJECTS = 1000
MANIFESTS = [
    "corpus/manifests/airflow/constraints.txt",
    "corpus/manifests/all-kinds/requirements.txt",
    "corpus/manifests/emby-watchparty/requirements.txt",
    "corpus/manifests/home-assistant/requirements.txt",
    "corpus/manifests/jupyter/requirements.txt",
    "corpus/manifests/plexcollect/requirements.txt",
    "corpus/manifests/poetry/poetry.lock",
    "corpus/manifests/uv/Cargo.lock",
]
POLICIES = ["plexcollect", "emby-watchparty", None]
RUNS = ["2026-10-01T09:00:00Z", "2026-11-01T09:00:00Z", "2026-12-06T09:00:00Z"]
SHOWN = "2026-12-06T10:00:00Z"
LINE = re.compile(
    r"overview page ([\d.]+) ms \((\d+) projects\); project pages median ([\d.]+) ms, "
    r"p99 ([\d.]+) ms, slowest ([\d.]+) ms \((\d+) pages\)"
)


def config(tmp: str) -> str:
    lines = [
        "sources = [",
        f'  "rustsec-dir:{SHARED}/corpus/advisories/rustsec",',
        f'  "osv-dir:{SHARED}/corpus/advisories/pypa/vulns",',
        f'  "osv-dir:{SHARED}/feeds-reference/ghsa-osv",',
        "]",
        'timezone = "Europe/Berlin"',
    ]
    for i in range(PROJECTS):
        lines.append("[[project]]")
        lines.append(f'name = "project-{i:04}"')
        lines.append(f'path = "{SHARED}/{MANIFESTS[i % len(MANIFESTS)]}"')
        policy = POLICIES[i % len(POLICIES)]
        if policy:
            lines.append(f'security-policy = "{SHARED}/policies/{policy}.SECURITY.md"')
    path = os.path.join(tmp, "depwatch.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def depwatch(args, env):
    out = subprocess.run([BIN, *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"depwatch {' '.join(args)} failed ({out.returncode}):\n{out.stderr}")
    return out


def measure(label, cfg, tmp, env, n):
    figures = []
    for _ in range(n):
        out = depwatch(
            ["dashboard", "--timings", "--config", cfg, "--drafts", f"{tmp}/out",
             "--out", f"{tmp}/site"],
            dict(env, DEPWATCH_NOW=SHOWN),
        )
        m = LINE.search(out.stderr)
        if not m:
            sys.exit(f"no timings line in:\n{out.stderr}")
        figures.append(m.groups())
    med = lambda k: statistics.median(float(f[k]) for f in figures)
    print(f"{label}: {figures[0][1]} projects, {figures[0][5]} project pages, median of {n} runs:")
    print(f"  overview page:              {med(0):8.2f} ms")
    print(f"  project page, median:       {med(2):8.2f} ms")
    print(f"  project page, p99:          {med(3):8.2f} ms")
    print(f"  project page, slowest:      {med(4):8.2f} ms")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config(tmp)
        sqlite = os.path.join(tmp, "store.sqlite3")
        env = dict(os.environ, DEPWATCH_STORE=sqlite, NO_COLOR="1")
        for at in RUNS:
            depwatch(
                ["run", "--offline", "--no-deliver", "--config", cfg, "--out", f"{tmp}/out"],
                dict(env, DEPWATCH_NOW=at),
            )
        measure("SQLite", cfg, tmp, env, n)
        with database("depwatch_bench_dashboard") as url:
            if not url:
                print("PostgreSQL: no server binaries and no $DEPWATCH_TEST_POSTGRES_URL: skipped")
                return
            depwatch(["db", "copy", "--from", sqlite, "--to", url], env)
            measure("PostgreSQL", cfg, tmp, dict(env, DEPWATCH_STORE=url), n)


if __name__ == "__main__":
    main()

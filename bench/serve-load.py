#!/usr/bin/env python3
"""Load test of `depwatch serve`: submissions per second of a 100-package CycloneDX SBOM and
their latency percentiles, on SQLite and on PostgreSQL in the same run, measured with `wrk`
(Debian package `wrk`; not a test dependency).

Set-up (not timed), per backend: a fresh store synced from the PyPA records in ../shared, a
config with PROJECTS projects (no path: submitted), one submit token each, and the SBOM that
`depwatch sbom` writes for the first 100 plain pins of the corpus's home-assistant requirements
(real packages and versions, so the findings, drafts and memory rows are a real project's). Each
project is submitted once before the timed run, so it measures the steady state of a CI fleet:
unchanged submissions (scan, diff, drafts and notes rewritten, memory committed). wrk rotates the
requests over the projects (one submission at a time per project is the server's rule), with
CONNECTIONS connections on 2 threads, for DURATION seconds.

PostgreSQL: a throwaway local cluster (bench/pgcluster.py, durable: fsync on) or
$DEPWATCH_TEST_POSTGRES_URL.

Two measurements per backend:
- saturation: wrk, closed loop (each connection sends its next submission when the last is
  answered), rotating over the projects: the most submissions per second, their latency when
  the server is the bottleneck, and the server process's CPU time per submission (/proc);
- fixed rate (when `oha` is installed: `cargo install oha`, or OHA=path): RATE submissions per
  second (default 200, the issue's target) for DURATION seconds, split over 4 projects (one oha
  per project, as a token submits for one project), CONNECTIONS connections in all, with oha's
  latency correction (a late request counts from when it was due): the p50 and p99 at that
  rate, over every request.

Usage: python3 bench/serve-load.py [DURATION] [CONNECTIONS] [PROJECTS] [RATE]   (defaults 20 16 8 200)
Builds the release binary first (or DEPWATCH_BIN=path uses that binary).
"""
import os, re, shutil, signal, subprocess, sys, tempfile, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402

DURATION = int(sys.argv[1]) if len(sys.argv) > 1 else 20
CONNECTIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 16
PROJECTS = int(sys.argv[3]) if len(sys.argv) > 3 else 8
RATE = int(sys.argv[4]) if len(sys.argv) > 4 else 200
oha = os.environ.get("OHA") or shutil.which("oha")
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
shared = os.path.realpath(os.path.join(root, "..", "shared"))
pypa = os.path.join(shared, "corpus/advisories/pypa/vulns")
if not shutil.which("wrk"):
    sys.exit("wrk not found: apt-get install wrk")
dw = os.environ.get("DEPWATCH_BIN")  # a binary already built (else the release build)
if not dw:
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=root, check=True)
    dw = os.path.join(root, "target/release/depwatch")
names = [f"app{i}" for i in range(PROJECTS)]


def server_cpu(pid):
    """The server process's CPU time so far (user + system), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def lua_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n") + '"'


def load(store, label, work):
    env = dict(os.environ, DEPWATCH_STORE=store, NO_COLOR="1")
    config = os.path.join(work, "depwatch.toml")
    with open(config, "w") as f:
        f.write(f'sources = ["osv-dir:{pypa}"]\n')
        for n in names:
            f.write(f'\n[[project]]\nname = "{n}"\n')
    subprocess.run([dw, "sync", "--source", f"osv-dir:{pypa}"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    tokens = []
    for n in names:
        out = subprocess.run([dw, "token", "create", n, "--config", config], env=env, check=True,
                             capture_output=True, text=True)
        tokens.append(out.stdout.strip())

    # The first 100 distinct plain pins of the home-assistant requirements in the corpus, as the SBOM
    # `depwatch sbom` writes for them: real packages at real versions.
    pin = re.compile(r"^[A-Za-z0-9_.-]+==[^ ;]+$")
    pins, seen = [], set()
    with open(os.path.join(shared, "corpus/manifests/home-assistant/requirements.txt")) as f:
        for line in f:
            name = re.sub(r"[-_.]+", "-", line.split("==")[0].strip().lower())
            if pin.match(line.strip()) and name not in seen:  # the file repeats some pins
                seen.add(name)
                pins.append(line.strip())
    pins = pins[:100]
    assert len(pins) == 100, len(pins)
    req = os.path.join(work, "requirements.txt")
    with open(req, "w") as f:
        f.write("".join(p + "\n" for p in pins))
    bom = os.path.join(work, "bom.cdx.json")
    subprocess.run([dw, "sbom", req, "-o", bom], env=env, check=True)
    with open(bom) as f:
        body = f.read()
    components = body.count('"purl"')

    script = os.path.join(work, "submit.lua")
    with open(script, "w") as f:
        f.write("local projects = {" + ",".join(lua_str(n) for n in names) + "}\n")
        f.write("local tokens = {" + ",".join(lua_str(t) for t in tokens) + "}\n")
        f.write("local body = " + lua_str(body) + "\n")
        f.write("local i = 0\n")
        f.write("request = function()\n  i = i + 1\n  local k = (i % #projects) + 1\n"
                "  return wrk.format(\"POST\", \"/api/v1/projects/\" .. projects[k] .. \"/scan\", "
                "{[\"Content-Type\"] = \"application/vnd.cyclonedx+json\", "
                "[\"Authorization\"] = \"Bearer \" .. tokens[k]}, body)\nend\n")

    server = subprocess.Popen(
        [dw, "serve", "--listen", "127.0.0.1:0", "--config", config, "--out",
         os.path.join(work, "out"), "--rate-limit", "1000000", "--rate-burst", "1000000"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = server.stdout.readline().strip().rsplit(" ", 1)[-1]
        for n, t in zip(names, tokens):  # the first submission of each project: new findings
            r = urllib.request.Request(f"{url}/api/v1/projects/{n}/scan", data=body.encode(),
                                       headers={"Content-Type": "application/vnd.cyclonedx+json",
                                                "Authorization": f"Bearer {t}"})
            with urllib.request.urlopen(r) as resp:
                report = resp.read()
        findings = re.search(rb'"findings": (\d+)', report)
        cpu0 = server_cpu(server.pid)
        out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency",
                              "-s", script, url], capture_output=True, text=True, check=True).stdout
        cpu = server_cpu(server.pid) - cpu0
        print(out)
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
        p99 = re.search(r"99%\s+(\S+)", out).group(1)
        p50 = re.search(r"50%\s+(\S+)", out).group(1)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        done = int(re.search(r"(\d+) requests in", out).group(1))
        lines = [f"{label}, saturation (wrk): {rps} submissions/s, p50 {p50}, p99 {p99}, "
                 f"server CPU {cpu * 1000 / max(done, 1):.2f} ms per submission, "
                 f"{non2xx.group(1) if non2xx else 0} non-2xx; SBOM of {components} components, "
                 f"{findings.group(1).decode() if findings else '?'} findings each, "
                 f"{PROJECTS} projects, {CONNECTIONS} connections, {DURATION}s"]
        if oha:
            # One oha per project (a token submits for one project), RATE split between them;
            # each request's corrected latency from oha's CSV, pooled for the percentiles.
            k = min(PROJECTS, 4)
            procs = [subprocess.Popen(
                [oha, "--no-tui", "--output-format", "csv", "--latency-correction",
                 "-z", f"{DURATION}s", "-c", str(max(1, CONNECTIONS // k)), "-q", str(RATE / k),
                 "-m", "POST", "-H", "Content-Type: application/vnd.cyclonedx+json",
                 "-H", f"Authorization: Bearer {tokens[i]}", "-D", bom,
                 f"{url}/api/v1/projects/{names[i]}/scan"],
                stdout=subprocess.PIPE, text=True) for i in range(k)]
            durations, statuses = [], {}
            for proc in procs:
                out_csv, _ = proc.communicate(timeout=DURATION + 120)
                for row in out_csv.splitlines()[1:]:
                    cols = row.split(",")
                    if len(cols) >= 7:
                        durations.append(float(cols[4]))
                        statuses[cols[6]] = statuses.get(cols[6], 0) + 1
            durations.sort()
            pick = lambda q: durations[min(len(durations) - 1, int(q * len(durations)))] * 1000
            lines.append(
                f"{label}, fixed rate (oha, {RATE}/s over {k} projects): "
                f"{len(durations) / DURATION:.1f} submissions/s, p50 {pick(0.50):.1f}ms, "
                f"p99 {pick(0.99):.1f}ms, status {statuses}; {CONNECTIONS} connections, "
                f"{DURATION}s")
        else:
            lines.append(f"{label}, fixed rate: skipped (no oha: cargo install oha)")
        return "\n".join(lines)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


results = []
work = tempfile.mkdtemp(prefix="depwatch-serve-load.")
try:
    results.append(load(os.path.join(work, "store.sqlite3"), "SQLite", work))
finally:
    shutil.rmtree(work, ignore_errors=True)
with pgcluster.database("depwatch_serve_bench", durable=True) as url:
    if url:
        work = tempfile.mkdtemp(prefix="depwatch-serve-load.")
        try:
            results.append(load(url, "PostgreSQL", work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    else:
        results.append("PostgreSQL: no server binaries and no $DEPWATCH_TEST_POSTGRES_URL: skipped")
print("\n".join(results))

#!/usr/bin/env python3
"""Load test of `depwatch serve`: submissions of a 100-package requirements file per second and
their latency percentiles, measured with `wrk` (Debian package `wrk`; not a test dependency).

Set-up (not timed): a fresh SQLite store synced from the PyPA records in ../shared, a config with
PROJECTS projects (no path: submitted), one submit token each, and a requirements.txt of the first
100 plain pins of the corpus's home-assistant requirements (real packages and versions, so the
findings, drafts and memory rows are a real project's). Each project is submitted once before the run, so the timed run measures the
steady state of a CI fleet: unchanged submissions (scan, diff, drafts and notes rewritten, memory
committed). wrk rotates the requests over the projects (one submission at a time per project is
the server's rule), with CONNECTIONS connections on 2 threads, for DURATION seconds.

Usage: python3 bench/serve-load.py [DURATION] [CONNECTIONS] [PROJECTS]   (defaults 20 16 8)
Builds the release binary first (or DEPWATCH_BIN=path uses that binary). PostgreSQL: not measured (that backend is not in this branch).
"""
import os, re, shutil, signal, subprocess, sys, tempfile

DURATION = int(sys.argv[1]) if len(sys.argv) > 1 else 20
CONNECTIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 16
PROJECTS = int(sys.argv[3]) if len(sys.argv) > 3 else 8
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
shared = os.path.realpath(os.path.join(root, "..", "shared"))
pypa = os.path.join(shared, "corpus/advisories/pypa/vulns")
if not shutil.which("wrk"):
    sys.exit("wrk not found: apt-get install wrk")
dw = os.environ.get("DEPWATCH_BIN")  # a binary already built (else the release build)
if not dw:
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=root, check=True)
    dw = os.path.join(root, "target/release/depwatch")

work = tempfile.mkdtemp(prefix="depwatch-serve-load.")
store = os.path.join(work, "store.sqlite3")
config = os.path.join(work, "depwatch.toml")
env = dict(os.environ, DEPWATCH_STORE=store, NO_COLOR="1")
names = [f"app{i}" for i in range(PROJECTS)]
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

# The first 100 plain pins of the home-assistant requirements in the corpus: real packages at
# real versions, so the findings (and drafts) are as many as a real project's.
pin = re.compile(r"^[A-Za-z0-9_.-]+==[^ ;]+$")
with open(os.path.join(shared, "corpus/manifests/home-assistant/requirements.txt")) as f:
    pins = [l.strip() for l in f if pin.match(l.strip())][:100]
assert len(pins) == 100, len(pins)
requirements = "".join(p + "\n" for p in pins)
boundary = "depwatchbenchboundary"
body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"requirements.txt\"; "
        f"filename=\"requirements.txt\"\r\nContent-Type: text/plain\r\n\r\n{requirements}\r\n"
        f"--{boundary}--\r\n")


def lua_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n") + '"'


script = os.path.join(work, "submit.lua")
with open(script, "w") as f:
    f.write("local projects = {" + ",".join(lua_str(n) for n in names) + "}\n")
    f.write("local tokens = {" + ",".join(lua_str(t) for t in tokens) + "}\n")
    f.write("local body = " + lua_str(body) + "\n")
    f.write("local i = 0\n")
    f.write("request = function()\n  i = i + 1\n  local k = (i % #projects) + 1\n"
            "  return wrk.format(\"POST\", \"/api/v1/projects/\" .. projects[k] .. \"/scan\", "
            "{[\"Content-Type\"] = \"multipart/form-data; boundary=" + boundary + "\", "
            "[\"Authorization\"] = \"Bearer \" .. tokens[k]}, body)\nend\n")

server = subprocess.Popen(
    [dw, "serve", "--listen", "127.0.0.1:0", "--config", config, "--out",
     os.path.join(work, "out"), "--rate-limit", "1000000", "--rate-burst", "1000000"],
    env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    url = server.stdout.readline().strip().rsplit(" ", 1)[-1]
    import urllib.request
    for n, t in zip(names, tokens):  # the first submission of each project: new findings
        req = urllib.request.Request(f"{url}/api/v1/projects/{n}/scan", data=body.encode(),
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                              "Authorization": f"Bearer {t}"})
        with urllib.request.urlopen(req) as r:
            report = r.read()
    findings = re.search(rb'"findings": (\d+)', report)
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency",
                          "-s", script, url], capture_output=True, text=True, check=True).stdout
    print(out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    p50 = re.search(r"50%\s+(\S+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(f"SQLite: {rps} submissions/s, p50 {p50}, p99 {p99}, "
          f"{non2xx.group(1) if non2xx else 0} non-2xx; 100 packages, "
          f"{findings.group(1).decode() if findings else '?'} findings each, "
          f"{PROJECTS} projects, {CONNECTIONS} connections, {DURATION}s")
finally:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    shutil.rmtree(work, ignore_errors=True)

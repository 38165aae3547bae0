"""A throwaway PostgreSQL cluster for the benchmarks, made as tests/support/pg_cluster.rs does
(Debian's /usr/lib/postgresql/N/bin or PATH; as root through `runuser -u postgres`), or the
server at $DEPWATCH_TEST_POSTGRES_URL (`postgres://user:pw@host:port`).

    from pgcluster import database
    with database("depwatch_bench") as url:   # None without a server
        ...
"""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _pg_bin():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]), reverse=True)
    for d in dirs:
        if os.path.isfile(os.path.join(d, "initdb")):
            return d
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


@contextlib.contextmanager
def _cluster(durable):
    bin_dir = _pg_bin()
    if not bin_dir:
        yield None
        return
    as_pg = os.geteuid() == 0
    pre = ["runuser", "-u", "postgres", "--"] if as_pg else []
    d = tempfile.mkdtemp(prefix="depwatch-bench-pg-")
    try:
        with open(os.path.join(d, "pw"), "w") as f:
            f.write("bench")
        if as_pg:
            subprocess.run(["chown", "-R", "postgres:postgres", d], check=True)
        data = os.path.join(d, "data")
        subprocess.run(pre + [os.path.join(bin_dir, "initdb"), "-D", data, "-U", "depwatch",
                              "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-instructions",
                              "--no-sync", "--pwfile=" + os.path.join(d, "pw")],
                       check=True, stdout=subprocess.DEVNULL)
        port = _free_port()
        opts = "-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200" % (port, d)
        if not durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(pre + [os.path.join(bin_dir, "pg_ctl"), "-D", data, "-l", os.path.join(d, "log"),
                              "-w", "-t", "60", "-o", opts, "start"],
                       check=True, stdout=subprocess.DEVNULL)
        try:
            yield "postgres://depwatch:bench@127.0.0.1:%d" % port
        finally:
            subprocess.run(pre + [os.path.join(bin_dir, "pg_ctl"), "-D", data, "-m", "immediate", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def database(name, durable=False):
    """A fresh database `name`: its URL, or None when there is no server to use. A cluster made
    here runs with fsync off unless `durable` (a production server keeps it on: say which)."""
    base = os.environ.get("DEPWATCH_TEST_POSTGRES_URL")
    with (contextlib.nullcontext(base) if base else _cluster(durable)) as server:
        if not server:
            yield None
            return
        env = dict(os.environ, PGCONNECT_TIMEOUT="10")
        subprocess.run(["psql", server + "/postgres", "-qc", "DROP DATABASE IF EXISTS " + name],
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        subprocess.run(["psql", server + "/postgres", "-qc", "CREATE DATABASE " + name],
                       check=True, stdout=subprocess.DEVNULL, env=env)
        yield server + "/" + name

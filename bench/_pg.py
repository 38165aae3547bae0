"""A throwaway PostgreSQL cluster for the benchmarks (Debian's `postgresql` binaries; as root
through `runuser -u postgres`), or $DEPWATCH_TEST_POSTGRES_URL. Not a test dependency."""
import glob, os, shutil, socket, subprocess, tempfile


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _bin_dir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]), reverse=True)
    for d in dirs:
        if os.path.isfile(os.path.join(d, "initdb")):
            return d
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


def start(durable=True):
    """(base URL without a database, stop function), or (None, None) without a server.
    durable=False turns fsync off (faster, not what a production server runs); say which."""
    url = os.environ.get("DEPWATCH_TEST_POSTGRES_URL")
    if url:
        return url, lambda: None
    bin_dir = _bin_dir()
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
    port = _free_port()
    opts = "-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200" % (port, d)
    if not durable:
        opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(pre + [os.path.join(bin_dir, "pg_ctl"), "-D", data, "-l", os.path.join(d, "log"),
                          "-w", "-t", "60", "-o", opts, "start"],
                   check=True, stdout=subprocess.DEVNULL)

    def stop():
        subprocess.run(pre + [os.path.join(bin_dir, "pg_ctl"), "-D", data, "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(d, ignore_errors=True)

    return "postgres://depwatch:bench@127.0.0.1:%d" % port, stop


def create_database(base, name):
    """A fresh database `name` on the server at `base`; its URL."""
    subprocess.run(["psql", base + "/postgres", "-qc", "DROP DATABASE IF EXISTS " + name],
                   check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["psql", base + "/postgres", "-qc", "CREATE DATABASE " + name], check=True,
                   stdout=subprocess.DEVNULL)
    return base + "/" + name

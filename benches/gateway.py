"""What the Python benchmarks share: the release binary, JSON calls with a token, and a gateway
started on a fresh SQLite directory or a fresh PostgreSQL database (dropped afterwards)."""
import contextlib, json, os, subprocess, tempfile, time, urllib.request, uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# BENCH_BIN runs an already built binary (e.g. a debug build, to try a script) instead.
BIN = os.environ.get("BENCH_BIN") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "dep-gateway")


def build():
    if not os.environ.get("BENCH_BIN"):
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)


def call(method, url, token, body=None, raw=False):
    """One request; the JSON answer (or its text with `raw`)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=600) as resp:
        payload = resp.read()
        return payload.decode() if raw else json.loads(payload or b"null")


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


@contextlib.contextmanager
def gateway(backend, pg_admin, port):
    """Yields `(base_url, token, env, server)` for a gateway on `backend` ("sqlite" or "postgres")."""
    env = dict(os.environ, DEP_GATEWAY_DATA_DIR=tempfile.mkdtemp(prefix="dep-gateway-bench-"),
               DEP_GATEWAY_BIND=f"127.0.0.1:{port}", DEP_GATEWAY_LOG="warn",
               # Throttling out of reach: the figures are the server's, not its limits'.
               DEP_GATEWAY_THROTTLING__TENANT_REQUESTS="4000000000",
               DEP_GATEWAY_THROTTLING__APP_REQUESTS="4000000000")
    db = None
    if backend == "postgres":
        db = f"dg_bench_{uuid.uuid4().hex}"
        subprocess.run(["psql", pg_admin, "-qc", f'CREATE DATABASE "{db}"'], check=True)
        env["DEP_GATEWAY_DATABASE_URL"] = pg_admin.rsplit("/", 1)[0] + "/" + db
    server = subprocess.Popen([BIN, "serve"], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        token = subprocess.run([BIN, "token", "--tenant", str(uuid.uuid4()), "--ttl", "7200"], env=env,
                               capture_output=True, text=True, check=True).stdout.strip()
        yield base, token, env, server
    finally:
        server.terminate()
        server.wait()
        if db:
            subprocess.run(["psql", pg_admin, "-qc", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'])


@contextlib.contextmanager
def simulator(port):
    """The bundled Apple simulator on 127.0.0.1:`port`, until the block ends."""
    sim = subprocess.Popen([BIN, "apple-sim", "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/servers", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        yield
    finally:
        sim.terminate()
        sim.wait()


def each_run(runs, backends, run):
    """Calls `run(backend)` `runs` times per backend, printing each result as a JSON line; the
    results by backend."""
    results = {b: [] for b in backends.split(",")}
    for _ in range(runs):
        for backend in results:
            r = run(backend)
            results[backend].append(r)
            print(json.dumps(r), flush=True)
    return results

#!/usr/bin/env python3
"""Sync benchmark: 100,000 devices from the bundled Apple simulator into one token (full fetch at
Apple's page limit), then an incremental sync of 1,000 changed devices; on SQLite and PostgreSQL.

Reports wall time of each sync (trigger to lastSuccessfulSyncDateTime), the requests the gateway
made to Apple per endpoint (from the simulator's counters), and the gateway's peak RSS. Usage:
    benches/sync.py [--devices 100000] [--backends sqlite,postgres] [--pg postgres://postgres@127.0.0.1:5432/postgres]
"""
import argparse, json, os, subprocess, sys, tempfile, time, urllib.request, uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "dep-gateway")
GW, SIM = 18281, 18289


def call(method, url, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=600) as resp:
        raw = resp.read()
        return json.loads(raw) if raw.strip().startswith((b"{", b"[")) else raw.decode()


def wait_ready(url):
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def sync(settings, setting, token):
    start = time.perf_counter()
    call("POST", f"{settings}/{setting}/syncWithAppleDeviceEnrollmentProgram", token)
    asked = call("GET", f"{settings}/{setting}", token)["lastSyncTriggeredDateTime"]
    while True:
        s = call("GET", f"{settings}/{setting}", token)
        if s["lastSyncErrorCode"] != 0:
            raise RuntimeError(f"sync failed: {s}")
        if s["lastSuccessfulSyncDateTime"] >= asked and not s["lastSuccessfulSyncDateTime"].startswith("0001"):
            return time.perf_counter() - start, s
        time.sleep(0.05)


def run(backend, devices, pg_admin):
    data_dir = tempfile.mkdtemp(prefix="dep-gateway-sync-bench-")
    env = dict(os.environ, DEP_GATEWAY_DATA_DIR=data_dir, DEP_GATEWAY_BIND=f"127.0.0.1:{GW}", DEP_GATEWAY_LOG="warn",
               DEP_GATEWAY_APPLE_BASE_URL=f"http://127.0.0.1:{SIM}", DEP_GATEWAY_SYNC_INTERVAL_SECS="0")
    db = None
    if backend == "postgres":
        db = f"dg_sync_bench_{uuid.uuid4().hex}"
        subprocess.run(["psql", pg_admin, "-qc", f'CREATE DATABASE "{db}"'], check=True)
        env["DEP_GATEWAY_DATABASE_URL"] = pg_admin.rsplit("/", 1)[0] + "/" + db
    sim = subprocess.Popen([BIN, "apple-sim", "--bind", f"127.0.0.1:{SIM}"], env=env, stdout=subprocess.DEVNULL)
    gw = subprocess.Popen([BIN, "serve"], env=env)
    try:
        wait_ready(f"http://127.0.0.1:{GW}/healthz")
        sim_url = f"http://127.0.0.1:{SIM}"
        token = subprocess.run([BIN, "token", "--tenant", str(uuid.uuid4()), "--ttl", "7200"], env=env,
                               capture_output=True, text=True, check=True).stdout.strip()
        settings = f"http://127.0.0.1:{GW}/beta/deviceManagement/depOnboardingSettings"
        setting = call("POST", settings, token, {})["id"]
        key = call("GET", f"{settings}/{setting}/getEncryptionPublicKey()", token)["value"]
        pem = os.path.join(data_dir, "key.pem")
        open(pem, "w").write(key)
        p7m = subprocess.run([BIN, "make-dep-token", "--public-key-pem", pem, "--server", "bench", "--sim-url", sim_url,
                              "--devices", str(devices)], env=env, capture_output=True, text=True, check=True).stdout
        call("POST", f"{settings}/{setting}/uploadDepToken", token, {"appleId": "bench@example.com", "depToken": p7m})
        call("DELETE", f"{sim_url}/admin/requests")
        full_s, state = sync(settings, setting, token)
        full_requests = call("GET", f"{sim_url}/admin/servers/bench")["requests"]
        call("POST", f"{sim_url}/admin/servers/bench/devices/modify", body={"count": 1000})
        call("DELETE", f"{sim_url}/admin/requests")
        incr_s, _ = sync(settings, setting, token)
        incr_requests = call("GET", f"{sim_url}/admin/servers/bench")["requests"]
        with open(f"/proc/{gw.pid}/status") as f:
            rss_mb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) // 1024
        nonzero = lambda r: {k: v for k, v in r.items() if v}
        return {"backend": backend, "devices": devices, "synced": state["syncedDeviceCount"],
                "full_sync_s": round(full_s, 2), "full_requests": nonzero(full_requests),
                "incremental_1000_s": round(incr_s, 2), "incremental_requests": nonzero(incr_requests),
                "peak_rss_mb": rss_mb}
    finally:
        gw.terminate(); sim.terminate(); gw.wait(); sim.wait()
        if db:
            subprocess.run(["psql", pg_admin, "-qc", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    for backend in args.backends.split(","):
        print(json.dumps(run(backend, args.devices, args.pg)), flush=True)


if __name__ == "__main__":
    sys.exit(main())

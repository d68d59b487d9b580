#!/usr/bin/env python3
"""Sync benchmark (issue 11 items 1 and 6): a full sync of 100,000 devices (100 pages of 1,000,
Apple's limit) from the bundled simulator into one token, next to a fetch-only walk of the same
pages by the gateway's own Apple client (`dep-gateway bench-walk`: parses every device, stores
nothing); then an incremental sync of 1,000 changed devices; on SQLite and PostgreSQL.

Each run walks a fresh simulated MDM server, then syncs the same server into a fresh gateway, so
the walk and the sync read the same pages from the same simulator moments apart. Prints one JSON
line per run and backend (walk and sync seconds, their ratio, the requests the gateway made to
Apple, the incremental sync, the gateway's peak RSS) and then the medians with their targets:
sync ≤ 2× the walk on SQLite, ≤ 3× on PostgreSQL, incremental in one request, RSS ≤ 100 MB.
Usage:
    benches/sync.py [--runs 3] [--devices 100000] [--backends sqlite,postgres] [--pg postgres://postgres@127.0.0.1:5432/postgres]
Builds and runs target/release/dep-gateway (CARGO_TARGET_DIR is honoured).
"""
import argparse, json, os, statistics, subprocess, sys, time, uuid

from gateway import BIN, build, call, each_run, gateway, simulator

GW, SIM = 18281, 18289
SIM_URL = f"http://127.0.0.1:{SIM}"
TARGET = {"sqlite": 2.0, "postgres": 3.0}
RSS_TARGET_MB = 100


def sync(settings, setting, token):
    """Triggers a sync and waits (polling every 50 ms) until it succeeded; its seconds."""
    start = time.perf_counter()
    call("POST", f"{settings}/{setting}/syncWithAppleDeviceEnrollmentProgram", token)
    asked = call("GET", f"{settings}/{setting}", token)["lastSyncTriggeredDateTime"]
    while True:
        s = call("GET", f"{settings}/{setting}", token)
        if s["lastSyncErrorCode"] != 0:
            raise RuntimeError(f"sync failed: {s}")
        done = s["lastSuccessfulSyncDateTime"]
        if done >= asked and not done.startswith("0001"):
            return time.perf_counter() - start, s
        time.sleep(0.05)


def walk(server, devices):
    """Creates `server` on the simulator and walks its device list; the walk's report."""
    out = subprocess.run([BIN, "bench-walk", "--sim-url", SIM_URL, "--server", server, "--devices", str(devices)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def run(backend, devices, pg_admin):
    server = f"bench-{backend}-{uuid.uuid4().hex[:8]}"
    walked = walk(server, devices)
    assert walked["devices"] == devices, walked
    with gateway(backend, pg_admin, GW) as (base, token, env, gw):
        settings = f"{base}/beta/deviceManagement/depOnboardingSettings"
        setting = call("POST", settings, token, {})["id"]
        key = call("GET", f"{settings}/{setting}/getEncryptionPublicKey()", token)["value"]
        pem = os.path.join(env["DEP_GATEWAY_DATA_DIR"], "key.pem")
        with open(pem, "w") as f:
            f.write(key)
        p7m = subprocess.run([BIN, "make-dep-token", "--public-key-pem", pem, "--server", server, "--sim-url", SIM_URL,
                              "--devices", str(devices)], env=env, capture_output=True, text=True, check=True).stdout
        call("POST", f"{settings}/{setting}/uploadDepToken", token, {"appleId": "bench@example.com", "depToken": p7m})
        call("DELETE", f"{SIM_URL}/admin/requests", None)
        full_s, state = sync(settings, setting, token)
        full_requests = call("GET", f"{SIM_URL}/admin/servers/{server}", None)["requests"]
        call("POST", f"{SIM_URL}/admin/servers/{server}/devices/modify", None, {"count": 1000})
        call("DELETE", f"{SIM_URL}/admin/requests", None)
        incr_s, _ = sync(settings, setting, token)
        incr_requests = call("GET", f"{SIM_URL}/admin/servers/{server}", None)["requests"]
        with open(f"/proc/{gw.pid}/status") as f:
            rss_mb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) // 1024
    nonzero = lambda r: {k: v for k, v in r.items() if v}
    return {"backend": backend, "devices": devices, "synced": state["syncedDeviceCount"],
            "walk_s": round(walked["seconds"], 3), "full_sync_s": round(full_s, 3),
            "ratio": round(full_s / walked["seconds"], 2), "full_requests": nonzero(full_requests),
            "incremental_1000_s": round(incr_s, 3), "incremental_requests": nonzero(incr_requests),
            "peak_rss_mb": rss_mb}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    build()
    # The gateways this script starts talk to the simulator and sync only when asked.
    os.environ.update(DEP_GATEWAY_APPLE_BASE_URL=SIM_URL, DEP_GATEWAY_SYNC_INTERVAL_SECS="0")
    with simulator(SIM):
        results = each_run(args.runs, args.backends, lambda b: run(b, args.devices, args.pg))
    med = lambda rs, k: statistics.median(r[k] for r in rs)
    for backend, rs in results.items():
        ratio, rss = med(rs, "ratio"), max(r["peak_rss_mb"] for r in rs)
        one_request = all(r["incremental_requests"].get("devices_sync", 0) <= 1 for r in rs)
        print(f"{backend}: median of {len(rs)}: walk {med(rs, 'walk_s'):.2f} s, full sync {med(rs, 'full_sync_s'):.2f} s, "
              f"ratio {ratio:.2f}x (target <= {TARGET[backend]}x: {'ok' if ratio <= TARGET[backend] else 'MISSED'}), "
              f"incremental 1,000 {med(rs, 'incremental_1000_s'):.3f} s (one request: {one_request}), "
              f"peak RSS {rss} MB (target <= {RSS_TARGET_MB}: {'ok' if rss <= RSS_TARGET_MB else 'MISSED'})", flush=True)


if __name__ == "__main__":
    sys.exit(main())

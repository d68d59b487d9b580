#!/usr/bin/env python3
"""Change-notification benchmark (issue 14, Performance): a full sync of 100,000 new devices from
the bundled simulator into one token, once with no subscription and once with one subscription to
the token's `importedAppleDeviceIdentities` whose receiver is a local Python http.server counting
the distinct device ids it receives. Each sync runs in a fresh gateway on a fresh database (and a
fresh simulated MDM server), so the two differ only by the subscription.

Prints one JSON line per run and backend (sync seconds both ways, their ratio, the seconds from the
sync's end — as the API reports it — until the receiver holds every device, the POSTs it got) and
the medians with their targets: the sync slowed by <= 20 % (ratio <= 1.2), all notifications at
the receiver within 10 s of the sync's end.
Usage:
    benches/notifications.py [--runs 3] [--devices 100000] [--backends sqlite,postgres] [--pg postgres://postgres@127.0.0.1:5432/postgres]
Builds and runs target/release/dep-gateway (CARGO_TARGET_DIR is honoured; BENCH_BIN runs
another binary, e.g. target/debug/dep-gateway to try the script with --devices 2000).
"""
import argparse, http.server, json, os, statistics, subprocess, sys, threading, time, urllib.parse
import urllib.request, uuid

from gateway import BIN, build, call, each_run, gateway, simulator
from sync import sync

GW, SIM, RECEIVER = 18291, 18299, 18297
SIM_URL = f"http://127.0.0.1:{SIM}"
RATIO_TARGET, DELIVERY_TARGET_S = 1.2, 10.0


class Counter:
    """What the receiver holds: distinct device ids, POSTs, and when the expected count arrived."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset(0)

    def reset(self, expected):
        with self.lock:
            self.ids, self.posts, self.expected, self.complete_at = set(), 0, expected, None

    def add(self, ids):
        with self.lock:
            self.posts += 1
            self.ids.update(ids)
            if self.complete_at is None and self.expected and len(self.ids) >= self.expected:
                self.complete_at = time.perf_counter()


COUNTER = Counter()


class Receiver(http.server.BaseHTTPRequestHandler):
    """Graph's handshake (echo `validationToken` as text/plain), then 202 for each delivery."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if "validationToken" in query:
            token = query["validationToken"][0].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(token)))
            self.end_headers()
            self.wfile.write(token)
            return
        value = json.loads(body or b"{}").get("value", [])
        COUNTER.add(n["resourceData"]["id"] for n in value if n.get("changeType") == "created")
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def one_sync(backend, devices, pg_admin, subscribe):
    """A fresh gateway and MDM server, optionally one subscription, then the full sync: its seconds,
    and (subscribed) the seconds from its end until the receiver held every device."""
    server = f"bench-notify-{backend}-{uuid.uuid4().hex[:8]}"
    with gateway(backend, pg_admin, GW) as (base, token, env, _):
        settings = f"{base}/beta/deviceManagement/depOnboardingSettings"
        setting = call("POST", settings, token, {})["id"]
        if subscribe:
            COUNTER.reset(devices)
            expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))
            call("POST", f"{base}/beta/subscriptions", token, {
                "changeType": "created,updated,deleted", "clientState": "bench",
                "notificationUrl": f"http://127.0.0.1:{RECEIVER}/hook", "expirationDateTime": expiry,
                "resource": f"deviceManagement/depOnboardingSettings/{setting}/importedAppleDeviceIdentities"})
        key = call("GET", f"{settings}/{setting}/getEncryptionPublicKey()", token)["value"]
        pem = os.path.join(env["DEP_GATEWAY_DATA_DIR"], "key.pem")
        with open(pem, "w") as f:
            f.write(key)
        p7m = subprocess.run([BIN, "make-dep-token", "--public-key-pem", pem, "--server", server, "--sim-url", SIM_URL,
                              "--devices", str(devices)], env=env, capture_output=True, text=True, check=True).stdout
        call("POST", f"{settings}/{setting}/uploadDepToken", token, {"appleId": "bench@example.com", "depToken": p7m})
        sync_s, state = sync(settings, setting, token)
        ended = time.perf_counter()
        assert state["syncedDeviceCount"] == devices, state
        if not subscribe:
            return sync_s, None, 0
        deadline = ended + max(120.0, devices / 500)
        while COUNTER.complete_at is None and time.perf_counter() < deadline:
            time.sleep(0.01)
        if COUNTER.complete_at is None:
            raise RuntimeError(f"the receiver holds {len(COUNTER.ids)} of {devices} devices")
        return sync_s, COUNTER.complete_at - ended, COUNTER.posts


def run(backend, devices, pg_admin):
    plain_s, _, _ = one_sync(backend, devices, pg_admin, subscribe=False)
    notified_s, delivered_s, posts = one_sync(backend, devices, pg_admin, subscribe=True)
    return {"backend": backend, "devices": devices, "sync_s": round(plain_s, 3),
            "sync_subscribed_s": round(notified_s, 3), "ratio": round(notified_s / plain_s, 3),
            "delivered_after_sync_s": round(delivered_s, 3), "posts": posts}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    build()
    # Syncs only when asked; receivers on loopback over http are allowed (the bench's own).
    os.environ.update(DEP_GATEWAY_APPLE_BASE_URL=SIM_URL, DEP_GATEWAY_SYNC_INTERVAL_SECS="0",
                      DEP_GATEWAY_NOTIFICATIONS__ALLOW_HTTP="true", DEP_GATEWAY_NOTIFICATIONS__ALLOW_LOOPBACK="true")
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", RECEIVER), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        with simulator(SIM):
            results = each_run(args.runs, args.backends, lambda b: run(b, args.devices, args.pg))
    finally:
        receiver.shutdown()
    med = lambda rs, k: statistics.median(r[k] for r in rs)
    for backend, rs in results.items():
        ratio, delivered = med(rs, "ratio"), med(rs, "delivered_after_sync_s")
        print(f"{backend}: median of {len(rs)}: sync {med(rs, 'sync_s'):.2f} s without a subscription, "
              f"{med(rs, 'sync_subscribed_s'):.2f} s with one, ratio {ratio:.2f}x "
              f"(target <= {RATIO_TARGET}x: {'ok' if ratio <= RATIO_TARGET else 'MISSED'}), "
              f"all {args.devices} at the receiver {delivered:.2f} s after the sync's end "
              f"(target <= {DELIVERY_TARGET_S:.0f} s: {'ok' if delivered <= DELIVERY_TARGET_S else 'MISSED'})", flush=True)


if __name__ == "__main__":
    sys.exit(main())

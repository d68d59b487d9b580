#!/usr/bin/env python3
"""Imported-identity benchmark: one 10,000-serial importAppleDeviceIdentityList call, then
100,000 identities of one token listed page by page ($top=1000), on SQLite and PostgreSQL.

Reports the import time, page 1 vs page 100 latency (median of 7 fetches each: keyset paging
should make them equal), the whole walk, and the server's peak RSS. Usage:
    benches/identities.py [--backends sqlite,postgres] [--pg postgres://postgres@127.0.0.1:5432/postgres]
Builds and runs target/release/dep-gateway (CARGO_TARGET_DIR is honoured).
"""
import argparse, json, statistics, sys, time

from gateway import build, call, gateway, timed

PORT = 18181


def serials(start, n):
    return [{"serialNumber": f"C02B{i:08d}", "platform": "ios"} for i in range(start, start + n)]


def run(backend, pg_admin):
    with gateway(backend, pg_admin, PORT) as (base, token, _env, server):
        settings = f"{base}/beta/deviceManagement/depOnboardingSettings"
        setting = call("POST", settings, token, {"tokenName": "bench"})["id"]
        devices = f"{settings}/{setting}/importedAppleDeviceIdentities"
        op = f"{devices}/importAppleDeviceIdentityList"

        import_s, result = timed(lambda: call("POST", op, token, {"importedAppleDeviceIdentities": serials(0, 10_000)}))
        assert all(r["status"] for r in result["value"]), "first import failed"
        for start in range(10_000, 100_000, 10_000):
            call("POST", op, token, {"importedAppleDeviceIdentities": serials(start, 10_000)})

        pages, url, links = 0, f"{devices}?$top=1000", {}
        walk_s = time.perf_counter()
        while url:
            pages += 1
            links[pages] = url
            url = call("GET", url, token).get("@odata.nextLink")
        walk_s = time.perf_counter() - walk_s

        def median_fetch(u):
            return statistics.median(timed(lambda: call("GET", u, token))[0] for _ in range(7))

        page1, page100 = median_fetch(links[1]), median_fetch(links[100])
        with open(f"/proc/{server.pid}/status") as f:
            rss_mb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) // 1024
        return {"backend": backend, "import_10k_s": round(import_s, 3), "pages": pages,
                "walk_100k_s": round(walk_s, 2), "page1_ms": round(page1 * 1000, 1),
                "page100_ms": round(page100 * 1000, 1), "ratio": round(page100 / page1, 2), "peak_rss_mb": rss_mb}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    build()
    for backend in args.backends.split(","):
        print(json.dumps(run(backend, args.pg)), flush=True)


if __name__ == "__main__":
    sys.exit(main())

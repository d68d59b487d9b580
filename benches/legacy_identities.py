#!/usr/bin/env python3
"""Legacy (single-token) identity list benchmark: 100,000 identities spread over two tokens,
listed through the old tenant-wide `GET /deviceManagement/importedAppleDeviceIdentities` (the
PowerShell sample's `$filter=discoverySource eq 'adminImport'`, $top=1000) page by page, next
to one token's list through the new path, on SQLite and PostgreSQL.

Reports page 1 vs page 100 latency of the old aggregated list (median of 7 fetches each: keyset
paging across tokens should make them equal), the whole walk, and a new per-token page for
comparison. Usage:
    benches/legacy_identities.py [--backends sqlite,postgres] [--pg postgres://postgres@127.0.0.1:5432/postgres]
Builds and runs target/release/dep-gateway (CARGO_TARGET_DIR is honoured).
"""
import argparse, json, statistics, sys, time, urllib.parse

from gateway import build, call, gateway, timed
from identities import serials

PORT = 18182


def run(backend, pg_admin):
    with gateway(backend, pg_admin, PORT) as (base, token, _env, _server):
        settings = f"{base}/beta/deviceManagement/depOnboardingSettings"
        tokens = [call("POST", settings, token, {"tokenName": f"bench {i}"})["id"] for i in range(2)]
        for start in range(0, 100_000, 10_000):
            setting = tokens[(start // 10_000) % 2]
            op = f"{settings}/{setting}/importedAppleDeviceIdentities/importAppleDeviceIdentityList"
            call("POST", op, token, {"importedAppleDeviceIdentities": serials(start, 10_000)})

        query = urllib.parse.quote("$filter=discoverySource eq 'adminImport'&$top=1000", safe="=&$")
        pages, url, links = 0, f"{base}/beta/deviceManagement/importedAppleDeviceIdentities?{query}", {}
        walk_s, items = time.perf_counter(), 0
        while url:
            pages += 1
            links[pages] = url
            page = call("GET", url, token)
            items += len(page["value"])
            url = page.get("@odata.nextLink")
        walk_s = time.perf_counter() - walk_s
        assert items == 100_000, items

        def median_fetch(u):
            return statistics.median(timed(lambda: call("GET", u, token))[0] for _ in range(7))

        page1, page100 = median_fetch(links[1]), median_fetch(links[100])
        new_page1 = median_fetch(f"{settings}/{tokens[0]}/importedAppleDeviceIdentities?{query}")
        return {"backend": backend, "pages": pages, "legacy_walk_100k_s": round(walk_s, 2),
                "legacy_page1_ms": round(page1 * 1000, 1), "legacy_page100_ms": round(page100 * 1000, 1),
                "ratio": round(page100 / page1, 2), "new_per_token_page1_ms": round(new_page1 * 1000, 1)}


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

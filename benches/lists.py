#!/usr/bin/env python3
"""List, filter and count benchmark of one token's imported identities (issue 11 item 4).

Imports N identities (default 100,000; `--n 1000000` for the issue's figure) into one token in
20,000-item importAppleDeviceIdentityList calls (one in 1,000 is `macOS`, the rest `iOS`), then
prints, per backend, each figure as the median of 7 fetches next to the reference it is judged
by, measured in the same run: GET by id, page 1 and page 1,000 of a `$top=100` walk.

    benches/lists.py [--n 100000] [--backends sqlite,postgres] [--pg postgres://postgres@127.0.0.1:5432/postgres]

Builds and runs target/release/dep-gateway (CARGO_TARGET_DIR is honoured).
"""
import argparse, os, statistics, subprocess, sys, time, urllib.parse

from gateway import build, call, gateway

PORT = 18183
TOP = 100
DEEP = 1000


def median_ms(fn, n=7):
    fn()  # warm
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def items(start, n):
    return [{"serialNumber": f"C02L{i:08d}", "platform": "macOS" if i % 1000 == 7 else "iOS"}
            for i in range(start, start + n)]


def q(url, **params):
    return url + "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="$'(),")


def run(backend, pg_admin, n):
    with gateway(backend, pg_admin, PORT) as (base, token, env, _server):
        settings = f"{base}/beta/deviceManagement/depOnboardingSettings"
        setting = call("POST", settings, token, {"tokenName": "lists"})["id"]
        devices = f"{settings}/{setting}/importedAppleDeviceIdentities"
        op = f"{devices}/importAppleDeviceIdentityList"
        t0 = time.perf_counter()
        for start in range(0, n, 20_000):
            call("POST", op, token, {"importedAppleDeviceIdentities": items(start, min(20_000, n - start))})
        import_s = time.perf_counter() - t0
        if backend == "postgres":
            subprocess.run(["psql", env["DEP_GATEWAY_DATABASE_URL"], "-qc", "ANALYZE imported_devices"], check=True)

        get = lambda u: call("GET", u, token)
        first = q(devices, **{"$top": TOP})
        url, deep = first, None
        for page in range(1, DEEP + 1):
            body = get(url)
            url = body.get("@odata.nextLink")
            if page == DEEP - 1 or not url:
                deep = url or first
                break
        one = get(q(devices, **{"$top": 1, "$filter": "serialNumber eq 'C02L00000099'"}))["value"][0]
        by_id = f"{devices}/{one['id']}"

        ref_id = median_ms(lambda: get(by_id))
        ref_p1 = median_ms(lambda: get(first))
        ref_deep = median_ms(lambda: get(deep))
        out = {"backend": backend, "n": n, "import_s": round(import_s, 1),
               "GET by id ms": round(ref_id, 2), "page 1 ms": round(ref_p1, 2),
               f"page {DEEP} ms": round(ref_deep, 2), "page 1 / deep": round(ref_p1 / ref_deep, 2)}

        def figure(name, url, ref, ref_name, count=False):
            ms = median_ms(lambda: call("GET", url, token, raw=count))
            body = call("GET", url, token, raw=count)
            matched = body if count else len(body["value"])
            out[name] = f"{ms:.2f} ms (x{ms / ref:.2f} {ref_name}; {matched} {'counted' if count else 'on page'})"

        f = lambda expr, **kw: q(devices, **{"$top": TOP, "$filter": expr, **kw})
        prefix = "C02L000001"  # C02L00000100..199: 100 rows
        figure("/$count", f"{devices}/$count", 1, "ms", count=True)
        figure("$count=true page 1", q(devices, **{"$top": TOP, "$count": "true"}), ref_p1, "page 1")
        figure("serialNumber eq (1 row)", f("serialNumber eq 'c02l00000099'"), ref_id, "GET by id")
        figure("serialNumber in (3 rows)", f("serialNumber in ('C02L00000099','C02L00000500','C02L00000901')"), ref_id, "GET by id")
        figure("startswith(serialNumber) (100 rows)", f(f"startswith(serialNumber,'{prefix}')"), ref_p1, "page 1")
        figure("platform eq macOS", f("platform eq 'macOS'"), ref_p1, "page 1")
        figure("discoverySource eq adminImport (all)", f("discoverySource eq 'adminImport'"), ref_p1, "page 1")
        figure("discoverySource and platform", f("discoverySource eq 'adminImport' and platform eq 'macOS'"), ref_p1, "page 1")
        figure("enrollmentState eq enrolled (0 rows)", f("enrollmentState eq 'enrolled'"), ref_p1, "page 1")
        figure("isDeleted eq false (all)", f("isDeleted eq false"), ref_p1, "page 1")
        figure("requestedEnrollmentProfileId eq (0 rows)", f("requestedEnrollmentProfileId eq 'nope'"), ref_p1, "page 1")
        figure("contains(serialNumber) (scan)", f("contains(serialNumber,'0000099')"), ref_p1, "page 1")
        figure("$search serial (scan)", q(devices, **{"$top": TOP, "$search": '"0000099"'}), ref_p1, "page 1")
        mac = f("platform eq 'macOS'")
        mac_ms = median_ms(lambda: get(mac))
        figure("filtered /$count platform", q(f"{devices}/$count", **{"$filter": "platform eq 'macOS'"}), mac_ms, "filtered page", count=True)
        figure("filtered /$count startswith", q(f"{devices}/$count", **{"$filter": f"startswith(serialNumber,'{prefix}')"}), ref_p1, "page 1", count=True)
        return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    build()
    print(f"# nproc={os.cpu_count()} n={args.n}", flush=True)
    for backend in args.backends.split(","):
        for k, v in run(backend, args.pg, args.n).items():
            print(f"{backend:8} {k:42} {v}", flush=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Import benchmark (issue 11 item 5): N identities (default 100,000) in 20,000-item
importAppleDeviceIdentityList calls into one token, next to a bare bulk insert of the same rows
in the same run (target: import <= 3x the bare insert):

* PostgreSQL: `COPY` into a table of the same shape, twice: with the table's columns, primary
  key and serial uniqueness only, and with every index imported_devices has today (the
  difference is the cost of the filter indexes; the gateway's import also pays the count and
  notification triggers);
* SQLite: one transaction of prepared inserts (executemany), the same two shapes.

    benches/imports.py [--n 100000] [--backends sqlite,postgres] [--pg postgres://postgres@127.0.0.1:5432/postgres]
"""
import argparse, io, os, re, sqlite3, subprocess, sys, time, uuid

from gateway import build, call, gateway

PORT = 18185
BATCH = 20_000


def items(start, n):
    return [{"serialNumber": f"C02I{i:08d}", "platform": "macOS" if i % 1000 == 7 else "iOS"}
            for i in range(start, start + n)]


def rows(n, serial_prefix):
    for i in range(n):
        yield (str(uuid.uuid4()), f"{serial_prefix}{i:08d}", "adminImport", "notContacted",
               "macOS" if i % 1000 == 7 else "iOS", 638_000_000_000_000_000)


COLUMNS = ("id, serial_number, discovery_source, enrollment_state, platform, last_contacted_date_time, "
           "created_date_time, is_supervised, tenant_id, setting_id")


def bare_postgres(url, n, with_indexes):
    table = f"bare_{uuid.uuid4().hex[:8]}"
    like = "INCLUDING ALL" if with_indexes else "INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
    ddl = f"CREATE TABLE {table} (LIKE imported_devices {like})"
    if not with_indexes:
        ddl += f"; ALTER TABLE {table} ADD PRIMARY KEY (tenant_id, setting_id, id), ADD UNIQUE (tenant_id, serial_number)"
    subprocess.run(["psql", url, "-qc", ddl], check=True)
    buf = io.StringIO()
    for (i, serial, src, state, platform, ticks) in rows(n, "C02B"):
        buf.write(f"{i},{serial},{src},{state},{platform},{ticks},{ticks},f,t0,s0\n")
    data = buf.getvalue().encode()
    start = time.perf_counter()
    subprocess.run(["psql", url, "-qc", f"\\copy {table} ({COLUMNS}) FROM STDIN WITH (FORMAT csv)"],
                   input=data, check=True)
    took = time.perf_counter() - start
    subprocess.run(["psql", url, "-qc", f"DROP TABLE {table}"], check=True)
    return took


def bare_sqlite(gateway_db, n, with_indexes):
    src = sqlite3.connect(gateway_db)
    ddl = [sql for (kind, sql) in src.execute(
        "SELECT type, sql FROM sqlite_master WHERE tbl_name = 'imported_devices' AND sql IS NOT NULL "
        "AND type IN ('table', 'index') ORDER BY type = 'index'") if kind == "table" or with_indexes]
    src.close()
    path = os.path.join(os.path.dirname(gateway_db), f"bare-{uuid.uuid4().hex[:8]}.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
    for sql in ddl:
        sql = re.sub(r",\s*FOREIGN KEY[^\n]*", "", sql)
        db.execute(sql.replace("imported_devices", "bare_devices"))
    data = [(i, serial, s, st, p, t, t, 0, "t0", "s0") for (i, serial, s, st, p, t) in rows(n, "C02B")]
    start = time.perf_counter()
    db.execute("BEGIN")
    db.executemany(f"INSERT INTO bare_devices ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", data)
    db.execute("COMMIT")
    took = time.perf_counter() - start
    db.close()
    os.remove(path)
    return took


def run(backend, pg_admin, n):
    with gateway(backend, pg_admin, PORT) as (base, token, env, _server):
        settings = f"{base}/beta/deviceManagement/depOnboardingSettings"
        setting = call("POST", settings, token, {"tokenName": "imports"})["id"]
        op = f"{settings}/{setting}/importedAppleDeviceIdentities/importAppleDeviceIdentityList"
        calls = []
        start = time.perf_counter()
        for s in range(0, n, BATCH):
            t0 = time.perf_counter()
            call("POST", op, token, {"importedAppleDeviceIdentities": items(s, min(BATCH, n - s))})
            calls.append(time.perf_counter() - t0)
        imported = time.perf_counter() - start
        if backend == "postgres":
            url = env["DEP_GATEWAY_DATABASE_URL"]
            bare = bare_postgres(url, n, False)
            bare_all = bare_postgres(url, n, True)
            ref = "COPY"
        else:
            gdb = os.path.join(env["DEP_GATEWAY_DATA_DIR"], "dep-gateway.db")
            bare = bare_sqlite(gdb, n, False)
            bare_all = bare_sqlite(gdb, n, True)
            ref = "prepared inserts, one transaction"
        return {
            "backend": backend, "n": n,
            f"import, {len(calls)} calls of {BATCH}": f"{imported:.2f} s ({n / imported:,.0f}/s; calls {', '.join(f'{c:.2f}' for c in calls)} s)",
            f"bare {ref}, key + serial unique": f"{bare:.2f} s (import x{imported / bare:.2f}; target <= 3)",
            f"bare {ref}, every index of today": f"{bare_all:.2f} s (import x{imported / bare_all:.2f}; filter indexes cost x{bare_all / bare:.2f})",
        }


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
            print(f"{backend:8} {k:48} {v}", flush=True)


if __name__ == "__main__":
    sys.exit(main())

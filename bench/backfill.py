"""Archive backfill (issue 17): `fsp backfill` of N archive rows (5 % bad) against a raw load of the same rows.

For each backend (PostgreSQL, SQLite) in one run: a fresh registry served by `uvicorn --factory
registry.app:create_app` (one worker), one institution, then `fsp backfill` (a subprocess, the real command) of a
CSV of N rows in a province's layout (tests/factories.py `archive_row`, GB18030, Chinese dates and words; every
20th row bad; `--format xlsx`: a workbook) with its mapping file. Then the rows it wrote are dumped and loaded raw into a table of the same
width without constraints or indexes (PostgreSQL: COPY; SQLite: executemany in one transaction). Printed: rows/s
of both, their ratio, the CPU time per row of the command and of the server (steadier than the wall clock on a
shared machine), and the peak memory (VmHWM / max RSS) of both. `--ministry` (PostgreSQL): then the exchange's
shipper sends the province's outbox to a ministry served alongside, timed until it holds every imported case.

    .venv/bin/python bench/backfill.py --rows 20000               # default 1,000,000
    .venv/bin/python bench/backfill.py --rows 1000000 --backends postgresql --ministry
    .venv/bin/python bench/backfill.py --rows 20000 --backends sqlite --json
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

TENANT = {"FSP_TENANT_CODE": "110000", "FSP_TENANT_SLUG": "beijing", "FSP_ENVIRONMENT": "development"}
BAD_EVERY = 20  # 5 % of the rows are bad


def _factories():
    from registry_write import _factories as load  # tests/factories.py, loaded by path
    return load()


def write_archive(path: Path, records: int) -> None:
    factories = _factories()
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("档案")
        sheet.append(list(factories.ARCHIVE_COLUMNS.values()))
        for n in range(records):
            sheet.append(list(factories.archive_row(n, prefix="BENCH", bad_every=BAD_EVERY).values()))
        workbook.save(path)
        return
    with path.open("w", encoding="gb18030", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(factories.ARCHIVE_COLUMNS.values()))
        writer.writeheader()
        for n in range(records):
            writer.writerow(factories.archive_row(n, prefix="BENCH", bad_every=BAD_EVERY))


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def backfill(database_url: str, tmp: Path, archive: Path, batch: int, keys_dir: Path) -> dict:
    """`fsp backfill` of the archive into a fresh registry at `database_url`: its summary, time, CPU and memory."""
    import _support
    import httpx
    import yaml

    from infra.ensure.keys import ensure_tenant_keys
    from registry.db import upgrade_to_head
    from registry.security.auth import DevelopmentIssuer
    from registry.security.keys import load_keys

    upgrade_to_head(database_url)
    ensure_tenant_keys(keys_dir)  # the exchange key pair too: --ministry ships what was imported
    env = {**TENANT, "FSP_DATABASE_URL": database_url, "FSP_KEYS_DIR": str(keys_dir)}
    issuer = DevelopmentIssuer(load_keys(keys_dir).token_private_pem, issuer="fsp-dev:beijing",
                               audience="registry-api")
    token = issuer.mint("bench-archivist", ["provincial-admin"], ttl_seconds=24 * 3600)
    with _support.serving("registry.app:create_app", env, ready_path="/healthz") as server:
        response = httpx.post(server.base_url + "/api/v1/institutions", timeout=30,
                              json=_factories().institution_payload(type="crematorium"),
                              headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        mapping = tmp / "mapping.yaml"
        mapping.write_text(yaml.safe_dump(_factories().archive_mapping(response.json()["id"]), allow_unicode=True),
                           encoding="utf-8")
        summary_file = tmp / "summary.json"
        command = [str(Path(sys.executable).with_name("fsp")), "backfill", "beijing", str(archive),
                   "--mapping", str(mapping), "--report", str(tmp / "report.csv"), "--batch", str(batch),
                   "--url", server.base_url + "/api/v1", "--json", "--home", str(tmp / "home")]
        started = time.monotonic()
        with summary_file.open("w") as out:
            proc = subprocess.Popen(command, env={**os.environ, "FSP_TOKEN": token}, stdout=out)
            _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - started
        server_peak = _peak_kib(server.proc.pid)
        server_cpu = server.cpu_seconds()
    summary = json.loads(summary_file.read_text())
    with (tmp / "report.csv").open(encoding="utf-8-sig", newline="") as report:
        report_rows = sum(1 for _ in csv.reader(report)) - 1  # a line per error of a refused row, header aside
    rows = sum(summary[name] for name in ("created", "already_present", "refused", "unreadable"))
    # CPU per row: what the wall clock cannot say on a shared machine
    return {"rows": rows, "created": summary["created"], "refused": summary["refused"] + summary["unreadable"],
            "report_rows": report_rows, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds),
            "command_cpu_us_per_row": round((usage.ru_utime + usage.ru_stime) / rows * 1e6),
            "server_cpu_us_per_row": round(server_cpu / rows * 1e6),
            "command_peak_mib": round(usage.ru_maxrss / 1024), "server_peak_mib": round(server_peak / 1024)}


def ministry_hold(province_url: str, keys_dir: Path, tmp: Path, dbs) -> dict:
    """How long the ministry takes to hold every imported case: the province's outbox shipped by the exchange's
    shipper (its default batch size and byte limit) to the ministry's registry, served like in production."""
    import _support
    import httpx
    from sqlalchemy import create_engine, text

    from infra.ensure.registration import ensure_exchange_registration
    from registry.db import upgrade_to_head
    from registry.exchange.shipper import Shipper
    from registry.exchange.signing import BatchSigner, public_key_set
    from registry.security.keys import ensure_keys

    ministry_url = dbs.create()
    upgrade_to_head(ministry_url)
    peers, ministry_keys = tmp / "peers", tmp / "ministry-keys"
    # the province's exchange keys registered with the ministry, as provisioning does
    ensure_exchange_registration(peers, slug=TENANT["FSP_TENANT_SLUG"], public_pem=public_key_set(keys_dir))
    ensure_keys(ministry_keys)
    env = {"FSP_TENANT_CODE": "100000", "FSP_TENANT_SLUG": "ministry", "FSP_ROLE": "ministry",
           "FSP_ENVIRONMENT": "development", "FSP_DATABASE_URL": ministry_url, "FSP_KEYS_DIR": str(ministry_keys),
           "FSP_EXCHANGE_PEERS_DIR": str(peers)}
    province = create_engine(province_url)
    with _support.serving("registry.app:create_app", env, ready_path="/healthz") as hub, \
            httpx.Client(timeout=120) as client:
        shipper = Shipper(engine=province, signer=BatchSigner(keys_dir), url=hub.base_url,
                          province=TENANT["FSP_TENANT_SLUG"], province_code=TENANT["FSP_TENANT_CODE"], client=client)
        started = time.monotonic()
        report = shipper.ship_pending()
        seconds = time.monotonic() - started
        hub_peak = _peak_kib(hub.proc.pid)
    province.dispose()
    ministry = create_engine(ministry_url)
    with ministry.connect() as connection:
        held = connection.execute(text("SELECT count(*) FROM national_cases WHERE archive_ref IS NOT NULL")).scalar()
    ministry.dispose()
    return {"events": report.shipped, "batches": report.batches, "cases_held": held, "seconds": round(seconds, 2),
            "events_per_second": round(report.shipped / seconds) if seconds else None,
            "hub_peak_mib": round(hub_peak / 1024)}


def raw_postgresql(database_url: str, tmp: Path) -> dict:
    """The rows `fsp backfill` wrote, COPYed raw into a table of the same width (no constraints, no index)."""
    import psycopg
    from _support import _libpq

    dump = tmp / "cases.copy"
    with psycopg.connect(_libpq(database_url), autocommit=True) as connection:
        with dump.open("wb") as out, connection.cursor().copy("COPY cases TO STDOUT") as copy:
            for block in copy:
                out.write(block)
        connection.execute("CREATE TABLE raw_cases AS SELECT * FROM cases WITH NO DATA")
        started = time.monotonic()
        with connection.transaction(), dump.open("rb") as source, \
                connection.cursor().copy("COPY raw_cases FROM STDIN") as copy:
            while block := source.read(1 << 20):
                copy.write(block)
        seconds = time.monotonic() - started
        rows = connection.execute("SELECT count(*) FROM raw_cases").fetchone()[0]
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds)}


def raw_sqlite(path: Path, tmp: Path) -> dict:
    """The rows `fsp backfill` wrote, dumped to CSV and loaded raw (executemany, one transaction) into a table of
    the same width in a fresh database."""
    import sqlite3

    dump = tmp / "cases.csv"
    with sqlite3.connect(path) as source, dump.open("w", newline="") as out:
        cursor = source.execute("SELECT * FROM cases")
        width = len(cursor.description)
        csv.writer(out).writerows(cursor)
    target = sqlite3.connect(tmp / "raw.db")
    target.execute(f"CREATE TABLE raw_cases ({', '.join(f'c{i}' for i in range(width))})")
    started = time.monotonic()
    with dump.open(newline="") as rows, target:
        target.executemany(f"INSERT INTO raw_cases VALUES ({', '.join('?' * width)})", csv.reader(rows))
    seconds = time.monotonic() - started
    count = target.execute("SELECT count(*) FROM raw_cases").fetchone()[0]
    target.close()
    return {"rows": count, "seconds": round(seconds, 2), "rows_per_second": round(count / seconds)}


def run(args) -> dict:
    import _support

    results: dict = {"records": args.records, "bad": args.records // BAD_EVERY, "batch": args.batch}
    with tempfile.TemporaryDirectory(prefix="fsp-bench-backfill-") as scratch:
        tmp = Path(scratch)
        archive = tmp / f"archive.{args.format}"
        started = time.monotonic()
        write_archive(archive, args.records)
        results["file_mib"] = round(archive.stat().st_size / 2**20, 1)
        results["generated_seconds"] = round(time.monotonic() - started, 1)
        for backend in args.backends:
            work = tmp / backend
            work.mkdir()
            if backend == "postgresql":
                dbs = _support.ScratchDatabases(_support.pg_admin_url(args.pg_url))
                try:
                    url = dbs.create()
                    results[backend] = {"backfill": backfill(url, work, archive, args.batch, work / "keys"),
                                        "raw": raw_postgresql(url, work)}
                    if args.ministry:
                        results[backend]["ministry"] = ministry_hold(url, work / "keys", work, dbs)
                finally:
                    dbs.close()
            else:
                path = work / "registry.db"
                results[backend] = {"backfill": backfill(f"sqlite:///{path}", work, archive, args.batch,
                                                         work / "keys"),
                                    "raw": raw_sqlite(path, work)}
            measured = results[backend]
            measured["ratio"] = round(measured["backfill"]["rows_per_second"] / measured["raw"]["rows_per_second"], 4)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", "--rows", type=int, default=1_000_000, help="rows in the archive file (5 %% bad)")
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv", help="the archive file's format")
    parser.add_argument("--batch", type=int, default=1000, help="fsp backfill --batch")
    parser.add_argument("--backends", type=lambda text: text.split(","), default=["postgresql", "sqlite"])
    parser.add_argument("--pg-url", default=None, help="admin URL of a PostgreSQL server (default: the test one)")
    parser.add_argument("--ministry", action="store_true",
                        help="PostgreSQL: then ship the imported cases to a ministry and time until it holds them all")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = run(args)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    kind = "GB18030 CSV" if args.format == "csv" else "XLSX"
    print(f"{args.records:,} rows ({results['bad']:,} bad), {results['file_mib']} MiB {kind}, batch {args.batch}")
    for backend in args.backends:
        b, r = results[backend]["backfill"], results[backend]["raw"]
        print(f"{backend:>10}: fsp backfill {b['rows_per_second']:>7,} rows/s ({b['seconds']} s, {b['created']:,} "
              f"created) | raw load {r['rows_per_second']:>9,} rows/s | ratio {results[backend]['ratio']:.3f} | "
              f"CPU per row: command {b['command_cpu_us_per_row']} µs, server {b['server_cpu_us_per_row']} µs | "
              f"peak memory: command {b['command_peak_mib']} MiB, server {b['server_peak_mib']} MiB")
        if "ministry" in results[backend]:
            m = results[backend]["ministry"]
            print(f"{'':>10}  the ministry holds {m['cases_held']:,} imported cases {m['seconds']} s after the "
                  f"backfill ({m['events_per_second']:,} events/s, {m['batches']:,} batches)")
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    raise SystemExit(main())

"""Device readings per second through the registry's ingest endpoint, against a bare app doing one set-wise INSERT.

    .venv/bin/python bench/equipment.py [--backend both] [--batch 100] [--requests 100] [--warmup 10]
                                        [--concurrency 8] [--rounds 3] [--json]

Both apps run under `uvicorn --factory` with one worker on 127.0.0.1, each on its own fresh database (a SQLite
file, or a PostgreSQL database dropped at the end). `--concurrency` devices each push their batches in order over
their own keep-alive connection, as a device does. The registry checks each device's credential, every reading's
range, age and seq, and writes the accepted ones, the device's newest values and its highest seq in one
transaction; the ceiling takes the same JSON body and does one INSERT of all its readings. Every reading must be
accepted (any refused one, or any other answer than 200, makes the run INVALID, exit 2). Target: api/ceiling
readings/s >= 0.5 on each backend; --strict also exits 1 when it is missed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

TARGET_RATIO = 0.5
TENANT = {"FSP_TENANT_CODE": "110000", "FSP_TENANT_SLUG": "beijing", "FSP_ENVIRONMENT": "development"}
CEILING_URL_ENV = "FSP_BENCH_EQUIPMENT_CEILING_URL"
METRICS = ("temperature_c", "running", "temperature_c", "door_open")


# --- the ceiling: the same body in, one INSERT of its readings -----------------------------------------------------

def _ceiling_table(metadata):
    """The columns of `equipment_readings`, primary key only."""
    from sqlalchemy import BigInteger, Column, DateTime, Float, String, Table, Uuid

    return Table("ceiling_readings", metadata, Column("device_id", Uuid, primary_key=True),
                 Column("seq", BigInteger, primary_key=True, autoincrement=False),
                 Column("at", DateTime(timezone=True), nullable=False), Column("metric", String(20), nullable=False),
                 Column("value", Float, nullable=False), Column("cycle", String(64)))


def ceiling_app():
    """uvicorn --factory target: POST /devices/{id}/readings, one set-wise INSERT + COMMIT, a small answer."""
    from fastapi import Body, FastAPI
    from sqlalchemy import MetaData, create_engine, event

    url = os.environ[CEILING_URL_ENV]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _as_the_registry_does(dbapi_connection, _record):  # registry.db: WAL, synchronous=NORMAL
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    else:  # the registry's own pool settings (registry.db.make_engine)
        engine = create_engine(url, pool_size=5, max_overflow=5, pool_recycle=1800)
    insert = _ceiling_table(MetaData()).insert()
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.post("/devices/{device_id}/readings")
    def readings(device_id: uuid.UUID, body: dict = Body(...)) -> dict:  # noqa: B008 (FastAPI's way of naming a body)
        rows = [{"device_id": device_id, "seq": r["seq"], "at": datetime.fromisoformat(r["at"]), "metric": r["metric"],
                 "value": float(r["value"]), "cycle": r.get("cycle")} for r in body["readings"]]
        with engine.connect() as connection:
            connection.execute(insert, rows)
            connection.commit()
        return {"accepted": len(rows)}

    return app


# --- load: each device its own connection, its batches in order ------------------------------------------------------

def batches(count: int, size: int, first_seq: int) -> list[bytes]:
    """`count` bodies of `size` readings with seqs from `first_seq` on, taken a millisecond apart, a minute ago."""
    start = datetime.now(UTC) - timedelta(minutes=1)
    bodies = []
    for b in range(count):
        seqs = range(first_seq + b * size, first_seq + (b + 1) * size)
        readings = [{"seq": s, "at": (start + timedelta(milliseconds=s % 50_000)).isoformat(),
                     "metric": METRICS[s % len(METRICS)], "value": 850.0 + s % 50 if s % 2 == 0 else float(s % 4 == 1)}
                    for s in seqs]
        bodies.append(json.dumps({"readings": readings}).encode())
    return bodies


async def _drive(server, streams: list[list[bytes]], size: int, timeout_s: float):
    from _support import RunResult, _RawConnection

    latencies, errors, samples = [], __import__("collections").Counter(), []
    connections = [_RawConnection("127.0.0.1", server.port) for _ in streams]

    async def device(slot: int) -> None:
        for request in streams[slot]:
            started = time.perf_counter()
            status, answer = await connections[slot].post(request)
            accepted = json.loads(answer).get("accepted") if status == 200 else None
            if accepted == size:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors[str(status) if status != 200 else "refused readings"] += 1
                if len(samples) < 5:
                    samples.append(f"{status}: {answer[:300].decode(errors='replace')}")

    cpu0, started = time.process_time(), time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*(device(slot) for slot in range(len(streams)))), timeout_s)
    finally:
        for connection in connections:
            await connection.close()
    seconds = time.perf_counter() - started
    return RunResult(requests=sum(map(len, streams)), ok=len(latencies), seconds=seconds, latencies_ms=latencies,
                     errors=errors, error_samples=samples, client_cpu=(time.process_time() - cpu0) / seconds)


def push(server, paths_and_headers: list[tuple[str, dict]], bodies: list[list[bytes]], size: int, timeout_s: float):
    from _support import _raw_request

    streams = [[_raw_request("127.0.0.1", server.port, path, body, headers) for body in device_bodies]
               for (path, headers), device_bodies in zip(paths_and_headers, bodies)]
    cpu0 = server.cpu_seconds()
    result = asyncio.run(_drive(server, streams, size, timeout_s))
    result.server_cpu = (server.cpu_seconds() - cpu0) / result.seconds if result.seconds else float("nan")
    return result


# --- the run -----------------------------------------------------------------------------------------------------

def _devices(server, keys_dir: Path, count: int) -> list[tuple[str, dict]]:
    """`count` cremators of one institution: (ingest path, headers with the device's credential) each."""
    import httpx
    from registry_write import _factories

    from registry.security.auth import DevelopmentIssuer
    from registry.security.keys import load_keys

    issuer = DevelopmentIssuer(load_keys(keys_dir).token_private_pem, issuer="fsp-dev:beijing", audience="registry-api")
    admin = {"Authorization": f"Bearer {issuer.mint('bench-admin', ['provincial-admin'], ttl_seconds=6 * 3600)}"}
    factories = _factories()
    institution = httpx.post(server.base_url + "/api/v1/institutions", json=factories.institution_payload(),
                             headers=admin, timeout=30).json()
    devices = []
    for _ in range(count):
        answer = httpx.post(f"{server.base_url}/api/v1/institutions/{institution['id']}/devices",
                            json=factories.device_payload(), headers=admin, timeout=30).json()
        devices.append((f"/api/v1/devices/{answer['device']['id']}/readings",
                        {"authorization": f"Device {answer['credential']}"}))
    return devices


def run_backend(args, backend: str, api_url: str, ceiling_url: str, tmp: Path) -> list[dict]:
    import _support
    from sqlalchemy import MetaData, create_engine

    from registry.db import upgrade_to_head
    from registry.security.keys import ensure_keys

    upgrade_to_head(api_url)
    metadata = MetaData()
    _ceiling_table(metadata)
    engine = create_engine(ceiling_url)
    metadata.create_all(engine)  # the bare app's own table, not the registry's schema
    engine.dispose()
    keys_dir = tmp / f"keys-{backend}"
    ensure_keys(keys_dir)
    api_env = {**TENANT, "FSP_DATABASE_URL": api_url, "FSP_KEYS_DIR": str(keys_dir)}
    rounds = []
    with _support.serving("registry.app:create_app", api_env, ready_path="/healthz") as api, \
            _support.serving("equipment:ceiling_app", {CEILING_URL_ENV: ceiling_url}, ready_path="/healthz",
                             app_dir=BENCH_DIR) as ceiling:
        targets = {"api": (api, _devices(api, keys_dir, args.concurrency)),
                   "ceiling": (ceiling, [(f"/devices/{uuid.uuid4()}/readings", {}) for _ in range(args.concurrency)])}
        next_seq = 0
        for r in range(args.rounds):
            order = ["api", "ceiling"] if r % 2 == 0 else ["ceiling", "api"]  # drift hits both
            this_round = {}
            for name in order:
                server, devices = targets[name]
                warm = [batches(args.warmup, args.batch, next_seq) for _ in devices]
                measured_bodies = [batches(args.requests, args.batch, next_seq + args.warmup * args.batch)
                                   for _ in devices]
                push(server, devices, warm, args.batch, args.timeout)
                measured = push(server, devices, measured_bodies, args.batch, args.timeout)
                this_round[name] = measured
                if not args.json:
                    print(f"  {backend} round {r + 1} {name:<8} {measured.rps * args.batch:9.0f} readings/s  "
                          f"p50 {measured.pct(.5):6.2f} ms  server cpu {measured.server_cpu:4.2f}"
                          + (f"  ERRORS {dict(measured.errors)}" if measured.errors else ""), file=sys.stderr, flush=True)
            next_seq += (args.warmup + args.requests) * args.batch
            rounds.append(this_round)
    return rounds


def run(args) -> dict:
    import _support

    out = {"batch": args.batch, "requests": args.requests, "warmup": args.warmup, "concurrency": args.concurrency,
           "rounds": args.rounds, "cpus": os.cpu_count(), "target_ratio": TARGET_RATIO, "backends": {}}
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    with tempfile.TemporaryDirectory(prefix="fsp-bench-") as tmp:
        for backend in backends:
            if backend == "sqlite":
                rounds = run_backend(args, backend, f"sqlite:///{tmp}/api.db", f"sqlite:///{tmp}/ceiling.db", Path(tmp))
            else:
                dbs = _support.ScratchDatabases(_support.pg_admin_url(args.pg_url))
                try:
                    rounds = run_backend(args, backend, dbs.create(), dbs.create(), Path(tmp))
                finally:
                    dbs.close()
            out["backends"][backend] = report(args, rounds)
    out["valid"] = all(b["errors"] == 0 for b in out["backends"].values())
    ratios = [b["ratio"] for b in out["backends"].values()]
    out["verdict"] = "INVALID" if not out["valid"] else ("PASS" if min(ratios) >= TARGET_RATIO else "BELOW")
    return out


def report(args, rounds: list[dict]) -> dict:
    from _support import median

    out, samples = {}, []
    for name in ("api", "ceiling"):
        runs = [r[name] for r in rounds]
        samples += [f"{name}: {s}" for x in runs for s in x.error_samples][:5]
        out[name] = {"readings_per_s": round(median([x.rps * args.batch for x in runs]), 1),
                     "p50_ms": round(median([x.pct(.5) for x in runs]), 2),
                     "p95_ms": round(median([x.pct(.95) for x in runs]), 2),
                     "server_cpu": round(median([x.server_cpu for x in runs]), 2),
                     "errors": sum(sum(x.errors.values()) for x in runs), "per_round": [x.summary() for x in runs]}
    ceiling = out["ceiling"]["readings_per_s"]
    out["ratio"] = round(out["api"]["readings_per_s"] / ceiling, 3) if ceiling else 0.0
    out["errors"] = out["api"]["errors"] + out["ceiling"]["errors"]
    out["error_samples"] = samples
    return out


def print_table(out: dict) -> None:
    print(f"equipment ingest benchmark: {out['requests']} batches of {out['batch']} readings per device x "
          f"{out['concurrency']} devices x {out['rounds']} rounds (+{out['warmup']} warm-up), {out['cpus']} CPUs, "
          "medians over rounds")
    print(f"{'':<44}{'readings/s':>11}{'p50 ms':>9}{'p95 ms':>9}{'srv cpu':>9}{'errors':>8}")
    for backend, result in out["backends"].items():
        for name, label in (("api", "POST /api/v1/devices/{id}/readings"), ("ceiling", "bare FastAPI one INSERT")):
            row = result[name]
            print(f"{backend + ' ' + label:<44}{row['readings_per_s']:>11.0f}{row['p50_ms']:>9.2f}{row['p95_ms']:>9.2f}"
                  f"{row['server_cpu']:>9.2f}{row['errors']:>8}")
        print(f"{backend}: ratio api/ceiling {result['ratio']:.3f}   target >= {out['target_ratio']}")
        for sample in result["error_samples"]:
            print(f"  error: {sample}")
    print(out["verdict"])


def main(argv: list[str] | None = None) -> int:
    import _support

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _support.load_arguments(parser, unit="device and app")
    parser.set_defaults(requests=100, warmup=10)
    parser.add_argument("--batch", type=int, default=100, help="readings per request (at most 500)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    return _support.run_benchmark(parser, argv, run, print_table)


if __name__ == "__main__":
    sys.exit(main())

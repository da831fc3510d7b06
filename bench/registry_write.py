"""Case registrations per second through the real registry API, against the ceiling of a bare one-INSERT app.

    .venv/bin/python bench/registry_write.py [--requests 2000] [--warmup 200] [--concurrency 8] [--rounds 3] [--json]

Both apps run under `uvicorn --factory` with one worker on 127.0.0.1, each on its own fresh PostgreSQL database
(dropped at the end); this process is the load generator (httpx, keep-alive HTTP/1.1, fixed concurrency).
Rounds alternate which app goes first; the figures are the medians over rounds. Any non-201 answer makes the run
invalid (exit 2). The target is api/ceiling >= 0.5; --strict also exits 1 when it is missed.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

TARGET_RATIO = 0.5
TENANT = {"FSP_TENANT_CODE": "110000", "FSP_TENANT_SLUG": "beijing", "FSP_ENVIRONMENT": "development"}
CEILING_URL_ENV = "FSP_BENCH_CEILING_DATABASE_URL"
CASES_PATH = "/api/v1/cases"
CEILING_PATH = "/rows"


# --- the ceiling: a bare FastAPI app whose POST is one INSERT of a cases-sized row -----------------------------

def _ceiling_table(metadata):
    """Same 25 columns and types as `cases` (enums as text), primary key only: no FK, no secondary index."""
    from sqlalchemy import Column, Date, DateTime, String, Table, Text, Uuid

    ts = DateTime(timezone=True)
    return Table(
        "ceiling_rows", metadata,
        Column("id", Uuid, primary_key=True), Column("status", Text, nullable=False),
        Column("institution_id", Uuid, nullable=False), Column("deceased_name", String(100), nullable=False),
        Column("sex", Text, nullable=False), Column("ethnicity", String(2), nullable=False),
        Column("id_type", Text, nullable=False), Column("id_number_cipher", String(200)),
        Column("id_number_index", String(64)), Column("id_number_masked", String(40)),
        Column("birth_date", Date, nullable=False), Column("household_region", String(6), nullable=False),
        Column("death_at", ts, nullable=False), Column("death_place_type", Text, nullable=False),
        Column("death_manner", Text, nullable=False), Column("cause_category", Text, nullable=False),
        Column("death_certificate_no", String(32)), Column("informant_name", String(100), nullable=False),
        Column("informant_relation", String(20), nullable=False),
        Column("informant_phone_cipher", String(200), nullable=False),
        Column("informant_phone_masked", String(24), nullable=False),
        Column("created_at", ts, nullable=False), Column("updated_at", ts, nullable=False), Column("archived_at", ts),
    )


def _fake_cipher(plain: str) -> str:
    # the byte length of the registry's SM4-GCM token (prefix + base64(nonce + ciphertext + tag)), without the work
    return "sm4gcm1:" + base64.b64encode(bytes(12) + plain.encode() + bytes(16)).decode()


_SEX = {"0": "unknown", "1": "male", "2": "female", "9": "unspecified"}


def ceiling_app():
    """uvicorn --factory target: the same JSON body in, one INSERT + COMMIT, a small JSON answer out."""
    from fastapi import Body, FastAPI
    from sqlalchemy import MetaData, create_engine

    # the registry's own pool settings (registry.db.make_engine): no pre-ping, recycled after 30 minutes
    engine = create_engine(os.environ[CEILING_URL_ENV], pool_size=5, max_overflow=5, pool_recycle=1800)
    insert = _ceiling_table(MetaData()).insert()
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.post(CEILING_PATH, status_code=201)
    def create_row(body: dict = Body(...)) -> dict:  # noqa: B008 (FastAPI's way of naming a body)
        informant, number, now = body["informant"], body["id_number"], datetime.now(UTC)
        row = {
            "id": uuid.uuid4(), "status": "declared", "institution_id": uuid.UUID(body["institution_id"]),
            "deceased_name": body["deceased_name"], "sex": _SEX[body["sex"]], "ethnicity": body["ethnicity"],
            "id_type": body["id_type"], "id_number_cipher": _fake_cipher(number), "id_number_index": "0" * 64,
            "id_number_masked": number[:6] + "********" + number[-4:],
            "birth_date": date.fromisoformat(body["birth_date"]), "household_region": body["household_region"],
            "death_at": datetime.fromisoformat(body["death_at"]), "death_place_type": body["death_place_type"],
            "death_manner": body["death_manner"], "cause_category": body["cause_category"],
            "death_certificate_no": body["death_certificate_no"], "informant_name": informant["name"],
            "informant_relation": informant["relation"], "informant_phone_cipher": _fake_cipher(informant["phone"]),
            "informant_phone_masked": informant["phone"][:3] + "****" + informant["phone"][-4:],
            "created_at": now, "updated_at": now, "archived_at": None,
        }
        with engine.connect() as connection:
            connection.execute(insert, row)
            connection.commit()
        return {"id": str(row["id"])}

    return app


# --- payloads -----------------------------------------------------------------------------------------------------

def _factories():
    """tests/factories.py, loaded by path: tests/ on sys.path would shadow `registry` with tests/registry."""
    import importlib.util

    if "factories" not in sys.modules:
        spec = importlib.util.spec_from_file_location("factories", ROOT / "tests" / "factories.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["factories"] = module
    return sys.modules["factories"]


def case_bodies(institution_id: uuid.UUID, count: int) -> list[bytes]:
    """`count` valid declarations, each unique in ID number and in (name, birth date); encoded before timing."""
    factories = _factories()

    first_birth, span = date(1930, 1, 1), 20000  # ~55 years of birth dates, then the 3-digit sequence moves on
    if count > span * 1000:
        raise SystemExit(f"at most {span * 1000} unique cases")
    death_at = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    bodies = []
    for i in range(count):
        birth = first_birth + timedelta(days=i % span)
        payload = factories.case_payload(
            institution_id, deceased_name=f"测试逝者{i:07d}", birth_date=birth.isoformat(),
            id_number=factories.resident_id(birth=birth, seq=i // span), death_certificate_no=f"BJ-{i:08d}",
            death_at=death_at,
        )
        bodies.append(json.dumps(payload, ensure_ascii=False).encode())
    return bodies


# --- the run ------------------------------------------------------------------------------------------------------

def _setup_api_tenant(server, keys_dir: Path) -> tuple[dict[str, str], uuid.UUID]:
    """One institution (created by a provincial admin) and a registrar token bound to it."""
    import httpx

    from registry.security.auth import DevelopmentIssuer
    from registry.security.keys import load_keys

    factories = _factories()
    issuer = DevelopmentIssuer(load_keys(keys_dir).token_private_pem, issuer="fsp-dev:beijing",
                               audience="registry-api")
    admin = {"Authorization": f"Bearer {issuer.mint('bench-admin', ['provincial-admin'], ttl_seconds=6 * 3600)}"}
    response = httpx.post(server.base_url + "/api/v1/institutions", json=factories.institution_payload(),
                          headers=admin, timeout=30)
    if response.status_code != 201:
        raise SystemExit(f"could not create the institution: {response.status_code} {response.text}")
    institution_id = uuid.UUID(response.json()["id"])
    token = issuer.mint("bench-registrar", ["registrar"], institution_id=institution_id, ttl_seconds=6 * 3600)
    return {"Authorization": f"Bearer {token}"}, institution_id


def run(args) -> dict:
    import _support
    from sqlalchemy import MetaData, create_engine

    from registry.db import upgrade_to_head
    from registry.security.keys import ensure_keys

    dbs = _support.ScratchDatabases(_support.pg_admin_url(args.pg_url))
    try:
        with tempfile.TemporaryDirectory(prefix="fsp-bench-") as tmp:
            api_url, ceiling_url = dbs.create(), dbs.create()
            upgrade_to_head(api_url)
            metadata = MetaData()
            _ceiling_table(metadata)
            engine = create_engine(ceiling_url)
            metadata.create_all(engine)
            engine.dispose()
            keys_dir = Path(tmp) / "keys"
            ensure_keys(keys_dir)

            api_env = {**TENANT, "FSP_DATABASE_URL": api_url, "FSP_KEYS_DIR": str(keys_dir)}
            with _support.serving("registry.app:create_app", api_env, ready_path="/healthz") as api, \
                    _support.serving("registry_write:ceiling_app", {CEILING_URL_ENV: ceiling_url},
                                     ready_path="/healthz", app_dir=BENCH_DIR) as ceiling:
                headers, institution_id = _setup_api_tenant(api, keys_dir)
                per_round = args.warmup + args.requests
                bodies = case_bodies(institution_id, per_round * args.rounds)
                rounds = []
                for r in range(args.rounds):
                    chunk = bodies[r * per_round:(r + 1) * per_round]
                    targets = [("api", api, CASES_PATH, headers), ("ceiling", ceiling, CEILING_PATH, {})]
                    if r % 2:
                        targets.reverse()  # alternate who goes first: drift (autovacuum, caches) hits both
                    this_round = {}
                    for name, server, path, hdrs in targets:
                        warm = _support.post_load(server, path, chunk[:args.warmup], hdrs,
                                                  concurrency=args.concurrency, timeout_s=args.timeout,
                                                  client=args.client)
                        batches_before = declaration_batches(server) if name == "api" else None
                        measured = _support.post_load(server, path, chunk[args.warmup:], hdrs,
                                                      concurrency=args.concurrency, timeout_s=args.timeout,
                                                      client=args.client)
                        measured.errors.update(warm.errors)
                        measured.error_samples.extend(warm.error_samples)
                        if batches_before is not None:
                            transactions = declaration_batches(server)[0] - batches_before[0]
                            measured.mean_batch = measured.ok / transactions if transactions else float("nan")
                        this_round[name] = measured
                        if not args.json:
                            print(f"  round {r + 1} {name:<8} {measured.rps:8.1f} req/s  "
                                  f"p50 {measured.pct(.5):6.2f} ms  p95 {measured.pct(.95):6.2f} ms  "
                                  f"server cpu {measured.server_cpu:4.2f} ({cpu_ms_per_request(measured):4.2f} ms/req)"
                                  f"  client cpu {measured.client_cpu:4.2f}"
                                  + (f"  {measured.mean_batch:4.1f} per transaction" if measured.mean_batch else "")
                                  + (f"  ERRORS {dict(measured.errors)}" if measured.errors else ""),
                                  file=sys.stderr, flush=True)
                    rounds.append(this_round)
    finally:
        dbs.close()
    return report(args, rounds)


def declaration_batches(server) -> tuple[float, float]:
    """The registry's group-commit histogram so far: (transactions, declarations)."""
    import httpx

    text = httpx.get(server.base_url + "/metrics", timeout=30).text
    values = {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
              if line.startswith("fsp_case_declaration_batch_size_")}
    return (values.get("fsp_case_declaration_batch_size_count", 0.0),
            values.get("fsp_case_declaration_batch_size_sum", 0.0))


def cpu_ms_per_request(run) -> float:
    return run.server_cpu * run.seconds / run.ok * 1000 if run.ok else float("nan")


def report(args, rounds: list[dict]) -> dict:
    from _support import median

    out = {"client": args.client, "requests": args.requests, "warmup": args.warmup, "concurrency": args.concurrency,
           "rounds": args.rounds, "cpus": os.cpu_count(), "target_ratio": TARGET_RATIO}
    errors, samples = 0, []
    for name in ("api", "ceiling"):
        runs = [r[name] for r in rounds]
        errors += sum(sum(x.errors.values()) for x in runs)
        samples += [f"{name}: {s}" for x in runs for s in x.error_samples][:5]
        out[name] = {
            "rps": round(median([x.rps for x in runs]), 1),
            "p50_ms": round(median([x.pct(.5) for x in runs]), 2),
            "p95_ms": round(median([x.pct(.95) for x in runs]), 2),
            "server_cpu": round(median([x.server_cpu for x in runs]), 2),
            "client_cpu": round(median([x.client_cpu for x in runs]), 2),
            "server_cpu_ms_per_request": round(median([cpu_ms_per_request(x) for x in runs]), 3),
            "errors": sum(sum(x.errors.values()) for x in runs),
            "per_round": [x.summary() for x in runs],
        }
    out["api"]["declarations_per_transaction"] = round(median([r["api"].mean_batch or float("nan")
                                                               for r in rounds]), 2)
    ratio = out["api"]["rps"] / out["ceiling"]["rps"] if out["ceiling"]["rps"] else 0.0
    out["ratio"] = round(ratio, 3)
    out["errors"] = errors
    out["error_samples"] = samples
    out["valid"] = errors == 0
    out["verdict"] = "INVALID" if errors else ("PASS" if ratio >= TARGET_RATIO else "BELOW")
    return out


def print_table(out: dict) -> None:
    print(f"registry write benchmark: {out['requests']} requests x {out['rounds']} rounds (+{out['warmup']} warm-up), "
          f"concurrency {out['concurrency']}, {out['client']} client, {out['cpus']} CPUs, medians over rounds")
    print(f"{'':<30}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'srv cpu':>9}{'cpu ms/req':>11}{'cli cpu':>9}"
          f"{'errors':>8}")
    for name, label in (("api", "POST /api/v1/cases (registry)"), ("ceiling", "bare FastAPI one INSERT")):
        row = out[name]
        print(f"{label:<30}{row['rps']:>9.1f}{row['p50_ms']:>9.2f}{row['p95_ms']:>9.2f}"
              f"{row['server_cpu']:>9.2f}{row['server_cpu_ms_per_request']:>11.3f}{row['client_cpu']:>9.2f}"
              f"{row['errors']:>8}")
    print(f"declarations per transaction (group commit): {out['api']['declarations_per_transaction']}")
    print(f"ratio api/ceiling: {out['ratio']:.3f}   target >= {out['target_ratio']}   {out['verdict']}")
    for sample in out["error_samples"]:
        print(f"  error: {sample}")


def main(argv: list[str] | None = None) -> int:
    import _support

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _support.load_arguments(parser, unit="app")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="load generator: a minimal asyncio HTTP/1.1 client (cheap, default) or httpx")
    return _support.run_benchmark(parser, argv, run, print_table)


if __name__ == "__main__":
    sys.exit(main())

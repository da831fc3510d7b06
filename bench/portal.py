"""The portal's public pages per second against a bare FastAPI endpoint returning a static page of the same size.

    .venv/bin/python bench/portal.py [--requests 2000] [--warmup 200] [--concurrency 8] [--rounds 3] [--json]

Three pages of one province's site (`portal.site:create_site`, PostgreSQL, 60 institutions, the measured one with
12 fees): the directory's first page (`/institutions`, 20 institutions), an institution's page with its fees
in force today, and a memorial page (网上祭扫, `/memorials/{id}`, with 9 messages and offerings: the page a
Qingming peak asks for). The ceiling (`ceiling_app` below) answers the very bytes each page answered, from memory. Both run
under `uvicorn --factory` with one worker on 127.0.0.1; this process is the load generator (keep-alive HTTP/1.1,
fixed concurrency). Rounds alternate which app goes first; figures are medians over rounds. Any answer other than
200 makes the run invalid (exit 2). The target is site/ceiling >= 0.5 for each page; --strict exits 1 below it.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

TARGET_RATIO = 0.5
TENANT = {"FSP_TENANT_CODE": "110000", "FSP_TENANT_SLUG": "beijing", "FSP_ENVIRONMENT": "development"}
PAGES_DIR_ENV = "FSP_BENCH_PAGES_DIR"
PAGES = ("directory", "institution", "memorial")
DISTRICTS = ("110101", "110102", "110105", "110106", "110107", "110108")
TYPES = ("funeral_home", "crematorium", "commercial_cemetery", "public_cemetery", "columbarium", "service_station")


# --- the ceiling: the same bytes, from memory -------------------------------------------------------------------

def ceiling_app():
    """uvicorn --factory target: GET /<page> answers the page saved under $FSP_BENCH_PAGES_DIR, nothing else."""
    from fastapi import FastAPI
    from fastapi.responses import Response

    pages = {name: (Path(os.environ[PAGES_DIR_ENV]) / f"{name}.html").read_bytes() for name in PAGES}
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/{name}")
    def page(name: str) -> Response:
        return Response(pages[name], media_type="text/html; charset=utf-8")

    return app


# --- the province's data ----------------------------------------------------------------------------------------

def publish(base_url: str, keys_dir: Path) -> tuple[str, str]:
    """60 institutions through the registry API, the first with 12 fees, and a memorial with 9 messages (a client's
    limit is 10); the ids of the first institution and of the memorial."""
    import importlib.util
    from datetime import date

    import httpx

    from registry.security.auth import DevelopmentIssuer
    from registry.security.keys import load_keys

    # tests/factories.py by path: tests/ on sys.path would shadow `registry` and `portal` with tests' folders
    spec = importlib.util.spec_from_file_location("factories", ROOT / "tests" / "factories.py")
    factories = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(factories)
    issuer = DevelopmentIssuer(load_keys(keys_dir).token_private_pem, issuer="fsp-dev:beijing",
                               audience="registry-api")
    admin = {"Authorization": f"Bearer {issuer.mint('bench-admin', ['provincial-admin'])}"}
    with httpx.Client(base_url=base_url, headers=admin, timeout=30) as client:
        ids = []
        for n in range(60):
            made = client.post("/api/v1/institutions", json=factories.institution_payload(
                type=TYPES[n % len(TYPES)], region_code=DISTRICTS[n % len(DISTRICTS)]))
            made.raise_for_status()
            ids.append(made.json()["id"])
        for n in range(12):
            basic = n < 6
            client.post(f"/api/v1/institutions/{ids[0]}/service-items", json={
                "name": f"服务项目{n:02d}", "category": "basic" if basic else "optional", "unit": "次",
                "price_fen": 12345 * (n + 1), "pricing_basis": "government_set" if basic else "market",
                "effective_from": date(2024, 1, 1).isoformat(), "description": "说明" * 10,
            }).raise_for_status()
        family = {"Authorization": f"Bearer {issuer.mint('bench-family', ['citizen'])}"}
        memorial = client.post("/api/v1/my/memorials", headers=family, json={
            "deceased_name": "张桂兰", "birth_date": "1938-02-01", "death_date": "2025-04-01",
            "biography": "一生勤劳，乐于助人。\n" * 10, "consented_by": "张明", "relation": "child", "consent": True})
        memorial.raise_for_status()
        for n in range(9):
            client.post(f"/api/v1/memorials/{memorial.json()['id']}/messages", json={
                "author_name": f"访客{n}", "text": "深切缅怀，永远怀念。" * 5, "offering": "flowers" if n % 2 else "candle",
            }).raise_for_status()
    return ids[0], memorial.json()["id"]


# --- load -------------------------------------------------------------------------------------------------------

async def _drive(base_url: str, path: str, count: int, concurrency: int, timeout_s: float):
    """GET `path` `count` times over `concurrency` keep-alive connections."""
    import httpx
    from _support import RunResult, _RawConnection

    url = httpx.URL(base_url)
    request = f"GET {path} HTTP/1.1\r\nhost: {url.host}:{url.port}\r\naccept: text/html\r\n\r\n".encode()
    connections = [_RawConnection(url.host, url.port) for _ in range(concurrency)]
    latencies, errors, samples, sent = [], {}, [], 0

    async def worker(connection) -> None:
        nonlocal sent
        while sent < count:
            sent += 1
            started = time.perf_counter()
            try:
                status, body = await connection.post(request)  # sends the prebuilt bytes, whatever the method
            except (OSError, asyncio.IncompleteReadError, RuntimeError) as exc:
                await connection.close()
                status, body = type(exc).__name__, repr(exc).encode()
            if status == 200:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1
                samples[len(samples):] = [f"{status}: {body[:200].decode(errors='replace')}"][:5 - len(samples)]

    cpu0, started = time.process_time(), time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*(worker(c) for c in connections)), timeout_s)
    except TimeoutError:
        errors["timeout"] = count - len(latencies) - sum(errors.values())
    finally:
        for connection in connections:
            await connection.close()
    seconds = time.perf_counter() - started
    from collections import Counter
    return RunResult(requests=count, ok=len(latencies), seconds=seconds, latencies_ms=latencies,
                     errors=Counter(errors), error_samples=samples,
                     client_cpu=(time.process_time() - cpu0) / seconds if seconds else float("nan"))


def get_load(server, path: str, count: int, *, concurrency: int, timeout_s: float):
    cpu0 = server.cpu_seconds()
    result = asyncio.run(_drive(server.base_url, path, count, concurrency, timeout_s))
    result.server_cpu = (server.cpu_seconds() - cpu0) / result.seconds if result.seconds else float("nan")
    return result


# --- the run ------------------------------------------------------------------------------------------------------

def run(args) -> dict:
    import _support
    import httpx

    from registry.db import upgrade_to_head
    from registry.security.keys import ensure_keys

    dbs = _support.ScratchDatabases(_support.pg_admin_url(args.pg_url))
    try:
        with tempfile.TemporaryDirectory(prefix="fsp-bench-") as tmp:
            database_url = dbs.create()
            upgrade_to_head(database_url)
            keys_dir, pages_dir = Path(tmp) / "keys", Path(tmp) / "pages"
            ensure_keys(keys_dir)
            pages_dir.mkdir()
            env = {**TENANT, "FSP_DATABASE_URL": database_url, "FSP_KEYS_DIR": str(keys_dir)}
            with _support.serving("portal.site:create_site", env, ready_path="/healthz") as site:
                institution_id, memorial_id = publish(site.base_url, keys_dir)
                paths = {"directory": "/institutions", "institution": f"/institutions/{institution_id}",
                         "memorial": f"/memorials/{memorial_id}"}
                for name, path in paths.items():
                    answer = httpx.get(site.base_url + path, timeout=30)
                    answer.raise_for_status()
                    (pages_dir / f"{name}.html").write_bytes(answer.content)
                sizes = {name: (pages_dir / f"{name}.html").stat().st_size for name in PAGES}
                with _support.serving("portal:ceiling_app", {PAGES_DIR_ENV: str(pages_dir)},
                                      ready_path="/healthz", app_dir=BENCH_DIR) as ceiling:
                    same = httpx.get(f"{ceiling.base_url}/directory", timeout=30).content
                    if same != (pages_dir / "directory.html").read_bytes():
                        raise SystemExit("the ceiling does not answer the site's page")
                    rounds = []
                    for r in range(args.rounds):
                        this_round: dict[str, dict] = {}
                        for page in PAGES:
                            targets = [("site", site, paths[page]), ("ceiling", ceiling, f"/{page}")]
                            if r % 2:
                                targets.reverse()  # alternate who goes first: drift hits both
                            for name, server, path in targets:
                                warm = get_load(server, path, args.warmup, concurrency=args.concurrency,
                                                timeout_s=args.timeout)
                                measured = get_load(server, path, args.requests, concurrency=args.concurrency,
                                                    timeout_s=args.timeout)
                                measured.errors.update(warm.errors)
                                measured.error_samples.extend(warm.error_samples)
                                this_round.setdefault(page, {})[name] = measured
                                if not args.json:
                                    print(f"  round {r + 1} {page:<12}{name:<8}{measured.rps:8.1f} req/s  "
                                          f"p50 {measured.pct(.5):6.2f} ms  p99 {measured.pct(.99):6.2f} ms  "
                                          f"server cpu {measured.server_cpu:4.2f}"
                                          + (f"  ERRORS {dict(measured.errors)}" if measured.errors else ""),
                                          file=sys.stderr, flush=True)
                        rounds.append(this_round)
    finally:
        dbs.close()
    return report(args, rounds, sizes)


def report(args, rounds: list[dict], sizes: dict[str, int]) -> dict:
    from _support import median

    out = {"requests": args.requests, "warmup": args.warmup, "concurrency": args.concurrency,
           "rounds": args.rounds, "cpus": os.cpu_count(), "target_ratio": TARGET_RATIO, "pages": {}}
    errors, samples = 0, []
    for page in PAGES:
        figures = {"bytes": sizes[page]}
        for name in ("site", "ceiling"):
            runs = [r[page][name] for r in rounds]
            errors += sum(sum(x.errors.values()) for x in runs)
            samples += [f"{page} {name}: {s}" for x in runs for s in x.error_samples][:5]
            figures[name] = {"rps": round(median([x.rps for x in runs]), 1),
                             "p50_ms": round(median([x.pct(.5) for x in runs]), 2),
                             "p99_ms": round(median([x.pct(.99) for x in runs]), 2),
                             "server_cpu": round(median([x.server_cpu for x in runs]), 2),
                             "per_round": [x.summary() for x in runs]}
        figures["ratio"] = round(figures["site"]["rps"] / figures["ceiling"]["rps"], 3) \
            if figures["ceiling"]["rps"] else 0.0
        out["pages"][page] = figures
    out["errors"], out["error_samples"], out["valid"] = errors, samples[:5], errors == 0
    lowest = min(figures["ratio"] for figures in out["pages"].values())
    out["verdict"] = "INVALID" if errors else ("PASS" if lowest >= TARGET_RATIO else "BELOW")
    return out


def print_table(out: dict) -> None:
    print(f"portal benchmark: {out['requests']} requests x {out['rounds']} rounds (+{out['warmup']} warm-up) per page "
          f"and app, concurrency {out['concurrency']}, {out['cpus']} CPUs, medians over rounds")
    print(f"{'':<44}{'bytes':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'srv cpu':>9}{'ratio':>8}")
    for page, figures in out["pages"].items():
        for name, label in (("site", f"GET {page} page (portal)"), ("ceiling", "  bare FastAPI, same bytes")):
            row = figures[name]
            ratio = f"{figures['ratio']:>8.3f}" if name == "site" else ""
            print(f"{label:<44}{figures['bytes']:>8}{row['rps']:>9.1f}{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}"
                  f"{row['server_cpu']:>9.2f}{ratio}")
    print(f"target site/ceiling >= {out['target_ratio']} on each page: {out['verdict']}")
    for sample in out["error_samples"]:
        print(f"  error: {sample}")


def main(argv: list[str] | None = None) -> int:
    import _support

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _support.load_arguments(parser, unit="page and app")
    return _support.run_benchmark(parser, argv, run, print_table)


if __name__ == "__main__":
    sys.exit(main())

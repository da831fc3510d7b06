"""/metrics render time and size per app, and one ministry federation scrape of 32 provinces' recorded series.

    .venv/bin/python bench/metrics.py [--renders 300] [--scrapes 100] [--json]

1. Render: two registry apps in this process (a province after traffic on every kind of route, the ministry fresh),
   each on its own migrated SQLite database. Each render is what a scrape costs the app: `AppMetrics.exposition`
   (exposition text plus the outbox queries at scrape time). Ceiling: a bare prometheus-client registry with the
   same metric families and the same series, rendered with `generate_latest`. Ratio: app / bare (1.0 = no cost
   beyond the client library).
2. Federation: a real Prometheus on 127.0.0.1 holds the `tenant:*` series of 32 synthetic provinces (scraped from a
   static target with honor_labels, as the ministry receives them) and answers `/federate` with the ministry's
   match[] selectors. Ceiling: a scrape of the static target itself (same series, served from memory). Ratio:
   federate / static scrape.
Each pair is measured interleaved; figures are medians. Everything is on loopback and removed at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
for path in (BENCH_DIR, ROOT, ROOT / "platform", ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx  # noqa: E402
from _support import free_port, median  # noqa: E402
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from registry.metrics import LATENCY_BUCKETS  # noqa: E402

PROVINCES = 32
RECORDED = ("tenant:up", "tenant:http_requests:rate5m", "tenant:http_errors:rate5m", "tenant:http_error_ratio:rate5m",
            "tenant:http_request_duration_seconds:p95_5m", "tenant:cases_registered:increase1h",
            "tenant:cremations:increase1h", "tenant:certificates_issued:increase1h",
            "tenant:outbox_pending_events:sum", "tenant:outbox_oldest_pending_age_seconds:max",
            "tenant:audit_chain_ok:min", "tenant:audit_chain_verified_timestamp_seconds:max",
            "tenant:backup_last_success_timestamp_seconds:max")


def timed_pair(first, second, times: int) -> tuple[float, float]:
    """Median milliseconds of `first()` and of `second()`, run alternately `times` times each."""
    samples: tuple[list[float], list[float]] = ([], [])
    for round_ in range(times + 2):
        for action, into in ((first, samples[0]), (second, samples[1])):
            started = time.perf_counter()
            action()
            if round_ >= 2:  # two unmeasured rounds first
                into.append((time.perf_counter() - started) * 1000)
    return median(samples[0]), median(samples[1])


# --- 1. /metrics render ------------------------------------------------------------------------------------------

def _app(workdir: Path, slug: str, code: str, role: str):
    from registry.app import create_app
    from registry.config import Settings
    from registry.db import upgrade_to_head

    url = f"sqlite:///{workdir / slug}.db"
    upgrade_to_head(url)
    settings = Settings(tenant_code=code, tenant_slug=slug, role=role, database_url=url,
                        keys_dir=workdir / f"{slug}-keys", backup_dir=workdir / f"{slug}-backups")
    return create_app(settings)


def _traffic(app) -> None:
    """Requests on every kind of route and answer, so the exposition carries a province's usual series."""
    from fastapi.testclient import TestClient

    from factories import case_payload, institution_payload

    issuer = app.state.ctx.issuer
    admin = {"Authorization": f"Bearer {issuer.mint('admin', ['provincial-admin'])}"}
    auditor = {"Authorization": f"Bearer {issuer.mint('auditor', ['auditor'])}"}
    with TestClient(app) as client:
        for _ in range(3):
            made = client.post("/api/v1/institutions", headers=admin, json=institution_payload()).json()
            registrar = {"Authorization": "Bearer " + issuer.mint("r", ["registrar"], institution_id=made["id"])}
            client.post("/api/v1/cases", headers=registrar, json=case_payload(made["id"]))
            client.get("/api/v1/cases", headers=registrar)
            client.get(f"/api/v1/institutions/{made['id']}")
        client.get("/api/v1/institutions")
        client.post("/api/v1/institutions", headers=admin, json={})  # 422
        client.get("/api/v1/cases")  # 401
        client.get("/api/v1/nowhere")  # 404
        client.get("/api/v1/audit/verify", headers=auditor)
        client.get("/metrics")


def _bare_copy(text: str) -> CollectorRegistry:
    """A plain registry holding the same families and series as `text`, nothing computed at scrape time."""
    registry = CollectorRegistry()
    for family in text_string_to_metric_families(text):
        samples = family.samples
        labels = sorted({k for s in samples for k in s.labels if k != "le"})
        if family.type == "histogram":
            buckets = sorted({float(s.labels["le"]) for s in samples if s.name.endswith("_bucket")} - {float("inf")})
            buckets = buckets or list(LATENCY_BUCKETS)  # no request yet: no bucket in the text either
            metric = Histogram(family.name, family.documentation, labels, buckets=buckets, registry=registry)
            for s in samples:
                if s.name.endswith("_count"):
                    child = metric.labels(**{k: s.labels[k] for k in labels}) if labels else metric
                    child.observe(0.01)
        else:
            kind = Counter if family.type == "counter" else Gauge
            metric = kind(family.name, family.documentation, labels, registry=registry)
            for s in samples:
                child = metric.labels(**{k: s.labels[k] for k in labels}) if labels else metric
                child.inc(s.value) if kind is Counter else child.set(s.value)
    return registry


def _verify_audit_chain(app) -> None:
    from sqlmodel import Session

    from registry.audit import service as audit

    with Session(app.state.ctx.engine) as session:
        app.state.ctx.metrics.audit_chain.record(audit.verify(session))


def bench_render(renders: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for slug, code, role, busy in (("beijing", "110000", "province", True), ("ministry", "100000", "ministry", False)):
            app = _app(Path(tmp), slug, code, role)
            try:
                if busy:
                    _traffic(app)
                metrics = app.state.ctx.metrics
                _verify_audit_chain(app)  # as a scrape would: the verdict's series are part of every exposition
                text = metrics.exposition()
                bare = _bare_copy(text.decode())
                series = sum(1 for line in text.decode().splitlines() if line and not line.startswith("#"))
                app_ms, bare_ms = timed_pair(metrics.exposition, lambda bare=bare: generate_latest(bare),
                                             renders)
                rows.append({"app": slug, "traffic": busy, "series": series, "bytes": len(text),
                             "render_ms": round(app_ms, 3), "bare_ms": round(bare_ms, 3),
                             "ratio_app_bare": round(app_ms / bare_ms, 2)})
            finally:
                app.state.ctx.engine.dispose()
    return rows


# --- 2. federation -----------------------------------------------------------------------------------------------

def _provinces_exposition() -> bytes:
    lines = []
    for index in range(PROVINCES):
        province = f"p{index + 1:02d}"
        for position, name in enumerate(RECORDED):
            lines.append(f'{name}{{province="{province}"}} {index + position / 10}')
        lines.append(f'tenant:build_info{{province="{province}",version="0.1.0"}} 1')
        lines.append(f'up{{job="registry",province="{province}",instance="registry.{province}:8000"}} 1')
    return ("\n".join(lines) + "\n").encode()


class _Static(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def bench_federation(scrapes: int) -> dict:
    from monitoring.processes import Instance, ensure_running, stop
    from monitoring.render import FEDERATE_MATCH, dump

    _Static.body = _provinces_exposition()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Static)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    static_url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    config = {"global": {"scrape_interval": "1s"},
              "scrape_configs": [{"job_name": "provinces", "honor_labels": True,
                                  "static_configs": [{"targets": [f"127.0.0.1:{server.server_address[1]}"]}]}]}
    with tempfile.TemporaryDirectory() as tmp:
        instance = Instance("bench", Path(tmp) / "prometheus")
        port = free_port()
        try:
            ensure_running(instance, {"prometheus.yml": dump(config)}, port)
            federate = f"http://127.0.0.1:{port}/federate"
            params = [("match[]", m) for m in FEDERATE_MATCH]
            with httpx.Client(timeout=10) as client:
                deadline = time.monotonic() + 30
                while True:
                    body = client.get(federate, params=params).text
                    if body.count("tenant:up{") == PROVINCES:
                        break
                    if time.monotonic() > deadline:
                        raise SystemExit("Prometheus did not take in the provinces' series within 30 s")
                    time.sleep(0.2)
                # interleaved, so both see the same background load on a shared machine
                federate_ms, static_ms = timed_pair(lambda: client.get(federate, params=params).raise_for_status(),
                                                    lambda: client.get(static_url).raise_for_status(), scrapes)
                federated = client.get(federate, params=params).content
        finally:
            stop(instance)
            server.shutdown()
    series = sum(1 for line in federated.decode().splitlines() if line and not line.startswith("#"))
    return {"provinces": PROVINCES, "series": series, "bytes": len(federated), "static_bytes": len(_Static.body),
            "federate_ms": round(federate_ms, 3), "static_scrape_ms": round(static_ms, 3),
            "ratio_federate_static": round(federate_ms / static_ms, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=300, help="measured renders per app")
    parser.add_argument("--scrapes", type=int, default=100, help="measured federation and static scrapes")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    os.environ.setdefault("FSP_ENVIRONMENT", "development")
    out = {"render": bench_render(args.renders), "federation": bench_federation(args.scrapes)}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"/metrics render, median of {args.renders}:")
    print(f"{'app':<10}{'traffic':>8}{'series':>8}{'bytes':>8}{'app ms':>9}{'bare ms':>9}{'app/bare':>10}")
    for row in out["render"]:
        print(f"{row['app']:<10}{'yes' if row['traffic'] else 'no':>8}{row['series']:>8}{row['bytes']:>8}"
              f"{row['render_ms']:>9.3f}{row['bare_ms']:>9.3f}{row['ratio_app_bare']:>10.2f}")
    fed = out["federation"]
    print(f"ministry federation of {fed['provinces']} provinces, median of {args.scrapes}: {fed['series']} series, "
          f"{fed['bytes']} bytes in {fed['federate_ms']:.3f} ms; static scrape of the same series "
          f"{fed['static_scrape_ms']:.3f} ms; ratio federate/static {fed['ratio_federate_static']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

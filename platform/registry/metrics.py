"""Prometheus metrics of one app, on its own registry so many apps can share a process."""
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine
from sqlmodel import Session

from registry.outbox import service as outbox

# *_created series double the exposition size and no rule uses them
disable_created_metrics()

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _OutboxCollector:
    """Reads the pending outbox at scrape time, so the number is never stale."""

    def __init__(self, engine: Engine):
        self._engine = engine

    def collect(self):
        gauge = GaugeMetricFamily("fsp_outbox_pending_events", "Outbox events not yet shipped to the ministry")
        try:
            with Session(self._engine) as session:
                gauge.add_metric([], outbox.pending_count(session))
        except Exception:  # a down database shows as a missing series, and /readyz says why
            return
        yield gauge


class AppMetrics:
    def __init__(self, *, tenant: str, version: str, engine: Engine):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("fsp_http_requests_total", "HTTP requests by route template and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("fsp_http_request_duration_seconds", "HTTP request latency by route template",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.cases_registered = Counter("fsp_cases_registered_total", "Cases declared", registry=self.registry)
        self.cremations = Counter("fsp_cremations_total", "Cremations recorded", registry=self.registry)
        self.certificates_issued = Counter("fsp_certificates_issued_total", "Cremation certificates issued",
                                           registry=self.registry)
        self.certificates_cancelled = Counter("fsp_certificates_cancelled_total", "Cremation certificates cancelled",
                                              registry=self.registry)
        info = Gauge("fsp_build_info", "Build and tenant", ["version", "tenant"], registry=self.registry)
        info.labels(version=version, tenant=tenant).set(1)
        self.registry.register(_OutboxCollector(engine))


class MetricsMiddleware:
    """Pure ASGI middleware: counts and times requests by the matched route template, never the raw path."""

    def __init__(self, app, metrics: AppMetrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_wrapper(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope["method"]
            self.metrics.requests.labels(method=method, route=template, status=str(status)).inc()
            self.metrics.latency.labels(method=method, route=template).observe(time.perf_counter() - started)

"""The two exchange processes as ASGI apps: the ministry's hub (receives batches) and a province's worker
(ships them in a background thread). Both answer /healthz, /readyz and /metrics for their probes."""
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine, text

from registry import __version__, db
from registry.background import BackgroundMetrics, Periodic, Retry, Stop
from registry.config import Role, Settings
from registry.exchange import api
from registry.exchange.metrics import WorkerMetrics
from registry.exchange.shipper import Shipper, ShipRefused, ShipUnavailable
from registry.exchange.signing import BatchSigner
from registry.journal import Journal
from registry.limits import BodySizeLimit, refused_action

log = logging.getLogger(__name__)


class ConfigurationError(Exception):
    """The process was started without what it needs."""


def create_hub_app(settings: Settings) -> FastAPI:
    """The ministry's exchange hub: only the receiving endpoint, on the ministry's database."""
    if settings.role != Role.ministry:
        raise ConfigurationError("exchange-hub runs at the ministry: FSP_ROLE must be ministry")
    if settings.exchange_peers_dir is None:
        raise ConfigurationError("exchange-hub needs FSP_EXCHANGE_PEERS_DIR (one <slug>.pem per province)")
    engine = db.make_engine(settings)
    journal = Journal.of(engine, keys_dir=settings.keys_dir, checkpoint_file=settings.audit_checkpoint_path)
    registry = CollectorRegistry(auto_describe=True)

    def readiness() -> str | None:
        if not settings.exchange_peers_dir.is_dir():
            return f"peers directory {settings.exchange_peers_dir} is missing"
        return None

    app = _process_app("Exchange hub", engine, registry, readiness)
    api.mount(app, journal=journal, peers_dir=settings.exchange_peers_dir, registry=registry,
              max_events=settings.exchange_max_batch_events)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       on_refuse=lambda scope: _audit_oversized(scope, app.state.exchange),
                       larger=(("POST", api.BATCHES_PATH, settings.exchange_max_batch_bytes),))
    return app


async def _audit_oversized(scope, receiver: api.Receiver) -> None:
    receiver.metrics.refusals.labels(reason="too_large").inc()
    problems = [{"field": "body", "rule": "max_size", "message": "request body too large"}]
    await anyio.to_thread.run_sync(lambda: receiver.journal.refused(
        actor="anonymous", action=refused_action(scope), status=413, problems=problems))


class Worker(Periodic):
    """The shipping loop of one province (registry.background): a round every interval, backing off while the
    ministry does not answer, until stopped or until a refusal stops it."""

    def __init__(self, settings: Settings, engine: Engine, registry: CollectorRegistry):
        if settings.role != Role.province:
            raise ConfigurationError("exchange-worker runs in a province: FSP_ROLE must be province")
        if not settings.exchange_url:
            raise ConfigurationError("exchange-worker needs FSP_EXCHANGE_URL (the ministry hub's base URL)")
        self.settings, self.metrics = settings, WorkerMetrics(registry)
        super().__init__("exchange", self._ship, interval=settings.exchange_interval_seconds,
                         tenant=settings.tenant_slug, jitter=0.1, metrics=BackgroundMetrics(registry))
        self.stop = self.stopping
        self._client = httpx.Client(timeout=settings.exchange_timeout_seconds)
        self._shipper = Shipper(
            engine=engine, signer=BatchSigner(settings.keys_dir), url=settings.exchange_url,
            province=settings.tenant_slug, province_code=settings.tenant_code, client=self._client,
            batch_size=settings.exchange_batch_size, max_bytes=settings.exchange_max_batch_bytes,
            retry_attempts=settings.exchange_retry_attempts, retry_base_seconds=settings.exchange_retry_base_seconds,
            metrics=self.metrics, stop=self.stop,
            journal=Journal.of(engine, keys_dir=settings.keys_dir, checkpoint_file=settings.audit_checkpoint_path))

    def close(self, timeout: float | None = None) -> None:
        """Stop after the current request (bounded by the HTTP timeout) and release the client."""
        super().close(self.settings.exchange_timeout_seconds + 5 if timeout is None else timeout)
        self._client.close()

    def run_once(self) -> None:
        """One shipping round, counted; a refusal stops the loop for good and says why."""
        self._round_ok()

    def _ship(self) -> None:
        try:
            report = self._shipper.ship_pending()
        except ShipUnavailable as exc:
            raise Retry(exc.reason, str(exc)) from None
        except ShipRefused as exc:
            self.metrics.stopped.set(1)
            log.error("exchange: worker stopped shipping, an operator must act (%s): %s", exc.reason, exc)
            raise Stop(exc.reason, str(exc)) from None
        if report.batches:
            log.info("exchange: shipped %d events in %d batches, acknowledged through %s", report.shipped,
                     report.batches, report.acknowledged_through)


def create_worker_app(settings: Settings, *, start: bool = True) -> FastAPI:
    """A province's exchange worker: ships in a background thread while the app serves its probes."""
    engine = db.make_engine(settings)
    registry = CollectorRegistry(auto_describe=True)
    worker = Worker(settings, engine, registry)

    def readiness() -> str | None:
        return f"stopped shipping: {worker.stopped_reason}" if worker.stopped_reason else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start:
            worker.start()
        yield
        worker.close()

    app = _process_app("Exchange worker", engine, registry, readiness, lifespan=lifespan)
    app.state.worker = worker
    return app


def _process_app(title: str, engine: Engine, registry: CollectorRegistry, readiness: Callable[[], str | None],
                 lifespan=None) -> FastAPI:
    """An app with the probes: healthz (alive), readyz (database at the migration head, and `readiness`), metrics."""
    heads = db.migration_heads()

    @asynccontextmanager
    async def dispose(app: FastAPI) -> AsyncIterator[None]:
        if lifespan is None:
            yield
        else:
            async with lifespan(app):
                yield
        engine.dispose()

    app = FastAPI(title=title, version=__version__, lifespan=dispose, docs_url=None, redoc_url=None,
                  openapi_url="/api/v1/openapi.json")

    @app.get("/healthz")
    def healthz() -> dict:
        """The process answers."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """The database is reachable at the migration head, and the process can do its work."""
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            current = db.current_revisions(engine)
        except Exception as exc:
            return JSONResponse({"status": "unavailable", "reason": f"database unreachable: {type(exc).__name__}"},
                                503)
        if current != heads:
            return JSONResponse({"status": "unavailable", "reason": "schema not at migration head"}, 503)
        problem = readiness()
        if problem:
            return JSONResponse({"status": "unavailable", "reason": problem}, 503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics")
    def metrics() -> Response:
        """Prometheus exposition of this process."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app

"""The background work `fsp serve` runs for each served tenant, one mechanism for every kind: each plan says what
work a tenant's app gets (its sweeps, its exchange shipping, its department sharing, its MQTT bridge); the work
starts once the server runs, is replaced with its app (a rebuilt or re-provisioned tenant gets new work on its
new app), and stops with the server. Work that stopped for an operator (a refusal) starts again the next time the
served tenants' files change, e.g. after the operator's `fsp up`."""
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from provisioning_cli.mqtt_bridge import HttpForwarder, MqttBridge
from registry.background import Periodic, Retry, Stop
from registry.config import Role, Settings
from registry.exchange.metrics import WorkerMetrics
from registry.exchange.shipper import Shipper, ShipRefused, ShipUnavailable
from registry.exchange.signing import BatchSigner, SigningKeyError
from registry.sharing import service as sharing
from registry.sharing.departments import DEPARTMENTS
from registry.sweeps import Sweeper
from tenants import Catalog

log = logging.getLogger(__name__)

SHARING_ACTOR = "fsp-serve:sharing"  # the audit trail's actor of deliveries `fsp serve` makes
HTTP_TIMEOUT_SECONDS = 5.0


class Work(Protocol):
    def start(self) -> None: ...

    def close(self, timeout: float = 30.0) -> None: ...


# (slug, settings, app) → the work the tenant's app gets, by name (not started)
Plan = Callable[[str, Settings, Any], dict[str, Work]]
Apps = dict[str, tuple[Settings, Any]]


class TenantWorkers:
    """The work of every served tenant, by the plans given; nothing runs before `open` or after `close`."""

    def __init__(self, plans: list[Plan]) -> None:
        self._plans, self._running = plans, False
        self._work: dict[str, tuple[Any, dict[str, Work]]] = {}

    def open(self, apps: Apps) -> None:
        self._running = True
        self.follow(apps)

    def follow(self, apps: Apps) -> None:
        """Work for exactly these apps: a tenant taken down or rebuilt loses its old work (stopped in the
        background: a round under way may be posting to this very server), one whose work stopped gets it anew."""
        if not self._running:
            return
        for slug, (app, works) in list(self._work.items()):
            if apps.get(slug, (None, None))[1] is not app or any(_stopped(work) for work in works.values()):
                del self._work[slug]
                threading.Thread(target=_close_all, args=(slug, works), name=f"retire-{slug}", daemon=True).start()
        for slug, (settings, app) in apps.items():
            if slug not in self._work:
                self._work[slug] = (app, self._start(slug, settings, app))

    def close(self) -> None:
        """Stop every work and wait for it (each round under way finishes first)."""
        self._running = False
        works = self._work
        self._work = {}
        for work in works.values():
            for one in work[1].values():  # every stop asked first, so they wind down together
                if isinstance(one, Periodic):
                    one.stopping.set()
        for slug, (_app, work) in works.items():
            _close_all(slug, work)

    def of(self, name: str) -> dict[str, Work]:
        """The running work called `name`, by tenant."""
        return {slug: works[name] for slug, (_app, works) in self._work.items() if name in works}

    def _start(self, slug: str, settings: Settings, app: Any) -> dict[str, Work]:
        started: dict[str, Work] = {}
        for plan in self._plans:
            try:
                planned = plan(slug, settings, app)
            except Exception:
                log.exception("%s: its background work could not be planned; it is served without it", slug)
                continue
            for name, work in planned.items():
                try:
                    work.start()
                except Exception:
                    log.exception("%s: the %s could not start; the tenant is served without it", slug, name)
                    continue
                started[name] = work
        return started


def _stopped(work: Work) -> bool:
    return getattr(work, "stopped_reason", None) is not None


def _close_all(slug: str, works: dict[str, Work]) -> None:
    for name, work in works.items():
        try:
            work.close(timeout=HTTP_TIMEOUT_SECONDS + 5)
        except Exception:
            log.exception("%s: the %s did not stop cleanly", slug, name)


# --- the plans ---------------------------------------------------------------------------------------------------

def sweeps(interval: float | None) -> Plan:
    """Each province's sweeps (registry.sweeps) every `interval` seconds; None: never."""
    def plan(slug: str, settings: Settings, app: Any) -> dict[str, Work]:
        if not interval or settings.role != Role.province:
            return {}
        return {"sweeps": Sweeper(app.state.ctx, interval=interval)}
    return plan


def exchange(catalog: Catalog, ministry_url: str | None, interval: float | None) -> Plan:
    """Each province whose exchange is on ships its outbox to the ministry at `ministry_url` every `interval`."""
    def plan(slug: str, settings: Settings, app: Any) -> dict[str, Work]:
        spec = catalog.resolve(slug)
        if not interval or ministry_url is None or spec.kind != "province" or not spec.exchange.enabled:
            return {}
        return {"exchange": Shipping(settings, app, ministry_url, interval=interval,
                                     batch_size=spec.exchange.batch_size)}
    return plan


def department_sharing(catalog: Catalog, interval: float | None) -> Plan:
    """Each province delivers to each department of its catalog entry every `interval` seconds."""
    def plan(slug: str, settings: Settings, app: Any) -> dict[str, Work]:
        spec = catalog.resolve(slug)
        if not interval or spec.kind != "province":
            return {}
        return {f"sharing-{key}": Sharing(settings, app, key, str(url), code=spec.code, interval=interval)
                for key, url in spec.sharing.departments.items() if key in DEPARTMENTS}
    return plan


def bridges(base: str | None) -> Plan:
    """An MQTT bridge for each tenant whose settings name a broker, posting to this server at `base`."""
    def plan(slug: str, settings: Settings, app: Any) -> dict[str, Work]:
        if base is None or not settings.mqtt_url:
            return {}
        return {"bridge": Bridge(slug, settings.mqtt_url, base, app)}
    return plan


# --- the work ----------------------------------------------------------------------------------------------------

class Shipping(Periodic):
    """One province's exchange shipper on a schedule: no answer from the ministry is retried with backoff
    (reason `unreachable`), a refusal stops it with the ministry's reason (fsp_exchange_worker_stopped 1)."""

    def __init__(self, settings: Settings, app: Any, ministry_url: str, *, interval: float, batch_size: int):
        ctx = app.state.ctx
        if getattr(app.state, "exchange_metrics", None) is None:  # once per app: a restarted shipper keeps them
            app.state.exchange_metrics = WorkerMetrics(ctx.metrics.registry)
        self.metrics: WorkerMetrics = app.state.exchange_metrics
        self._settings, self._engine, self._url, self._batch_size = settings, ctx.engine, ministry_url, batch_size
        self._journal = ctx.journal
        self._client = httpx.Client(timeout=HTTP_TIMEOUT_SECONDS)
        super().__init__("exchange", self._round, interval=interval, tenant=settings.tenant_slug,
                         metrics=ctx.metrics.background)

    def _round(self) -> None:
        try:
            signer = BatchSigner(self._settings.keys_dir)
        except SigningKeyError as err:
            raise self._refused("signing_key", str(err)) from None
        shipper = Shipper(engine=self._engine, signer=signer, url=self._url, province=self._settings.tenant_slug,
                          province_code=self._settings.tenant_code, client=self._client, batch_size=self._batch_size,
                          max_bytes=self._settings.exchange_max_batch_bytes, retry_attempts=1, metrics=self.metrics,
                          stop=self.stopping, journal=self._journal)  # the schedule's backoff does the retrying
        try:
            shipper.ship_pending()
        except ShipUnavailable as err:
            raise Retry(err.reason, str(err)) from None
        except ShipRefused as err:
            raise self._refused(err.reason, str(err)) from None
        self.metrics.stopped.set(0)

    def _refused(self, reason: str, message: str) -> Stop:
        self.metrics.stopped.set(1)
        return Stop(reason, message)

    def close(self, timeout: float = 30.0) -> None:
        super().close(timeout)
        self._client.close()


class Sharing(Periodic):
    """One province's deliveries to one department on a schedule (registry.sharing): a department that does not
    answer is retried with backoff, one that refuses stops this delivery and says why."""

    def __init__(self, settings: Settings, app: Any, department: str, url: str, *, code: str, interval: float):
        ctx = app.state.ctx
        self._settings, self._ctx, self._department, self._url = settings, ctx, DEPARTMENTS[department], url
        self._province = sharing.Province(settings.tenant_slug, code)
        self._client = httpx.Client(timeout=HTTP_TIMEOUT_SECONDS)
        super().__init__(f"sharing-{department}", self._round, interval=interval, tenant=settings.tenant_slug,
                         metrics=ctx.metrics.background)

    def _round(self) -> None:
        try:
            signer = BatchSigner(self._settings.keys_dir)
        except SigningKeyError as err:
            raise Stop("signing_key", str(err)) from None
        try:
            sharing.deliver(self._ctx.journal, self._ctx.keys, self._department, url=self._url, signer=signer,
                            client=self._client, province=self._province, actor=SHARING_ACTOR)
        except sharing.DeliveryError as err:
            raise (Stop if err.reason == "refused" else Retry)(err.reason, str(err)) from None

    def close(self, timeout: float = 30.0) -> None:
        super().close(timeout)
        self._client.close()


class Bridge:
    """A tenant's MQTT bridge (provisioning_cli.mqtt_bridge) as served work; it posts to this server."""

    def __init__(self, slug: str, broker_url: str, base: str, app: Any):
        self._slug, self._broker_url, self._base, self._app = slug, broker_url, base, app
        self._bridge: MqttBridge | None = None
        self._forwarder: HttpForwarder | None = None

    def start(self) -> None:
        self._forwarder = HttpForwarder(self._base, self._slug)
        try:
            self._bridge = MqttBridge(self._slug, self._broker_url, self._forwarder,
                                      registry=self._app.state.ctx.metrics.registry)
            self._bridge.start()
        except Exception:
            log.error("%s: the MQTT bridge to %s could not start; devices can still post over HTTP", self._slug,
                      self._broker_url)
            self._forwarder.close()
            raise

    def close(self, timeout: float = 30.0) -> None:
        try:
            if self._bridge is not None:
                self._bridge.stop()
        finally:
            if self._forwarder is not None:
                self._forwarder.close()

"""One ASGI app for `fsp serve`: each served tenant's own site (its public portal and its registry API) mounted
under `/<slug>`, an index of them at `/` (a page in Chinese for a browser, JSON for a client); it follows `fsp up`
and `fsp down` without a restart."""
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from infra.ensure.monitoring import ensure_scrape_target
from portal import pages
from portal.fallback import wants_html
from portal.site import create_site, static_files
from provisioning_cli.mqtt_bridge import HttpForwarder, MqttBridge
from provisioning_cli.targets.local import LocalTarget, Result
from registry.config import Role, Settings
from registry.security.keys import KeyMaterialError
from registry.sweeps import Sweeper
from tenants import TenantSpec

log = logging.getLogger(__name__)


def tenant_urls(base: str, spec: TenantSpec) -> dict[str, Any]:
    """Where one tenant answers under `base` (scheme://host:port)."""
    root = f"{base.rstrip('/')}/{spec.slug}"
    return {"tenant": spec.slug, "code": spec.code, "name": spec.name_zh, "kind": spec.kind,
            "portal": f"{root}/", "workbench": f"{root}/workbench/", "api": f"{root}/api/v1", "docs": f"{root}/api/v1/docs",
            "health": f"{root}/healthz", "ready": f"{root}/readyz", "metrics": f"{root}/metrics"}


class Gateway:
    """The combined ASGI app. It follows `fsp up` and `fsp down` while it runs: at most every `refresh_seconds`,
    on a request, it re-reads which tenants are served and with what settings, mounts the new ones, rebuilds
    those whose settings changed and unmounts those taken down (their paths answer 404 from then on). While it
    serves, each province's sweeps run every `sweep_seconds` (registry.sweeps; None: never)."""

    def __init__(self, target: LocalTarget, only: list[TenantSpec] | None = None, *, refresh_seconds: float = 2.0,
                 bridge_base: str | None = None, sweep_seconds: float | None = None):
        self._target, self._only, self._refresh_seconds = target, only, refresh_seconds
        self._sweep_seconds, self._sweeping = sweep_seconds, False
        self._sweepers: dict[str, Sweeper] = {}
        self._apps: dict[str, tuple[Settings, Any]] = {}
        # where the MQTT bridges post what they receive (this server, on loopback); None: no bridges
        self.bridges = Bridges(bridge_base)
        self._checked = time.monotonic()
        self._seen: tuple[int | None, ...] = ()
        self.specs: list[TenantSpec] = []
        self._app = Starlette(routes=[], lifespan=self._lifespan)
        self._static = static_files()  # the index page's stylesheet
        self.refresh()

    def refresh(self) -> None:
        """Mount exactly the tenants served now; an unchanged tenant keeps its app (and its connections)."""
        seen = self._fingerprint()  # taken first: a change made while this runs is picked up next time
        specs = [spec for spec in self._target.served() if self._only is None or spec in self._only]
        apps: dict[str, tuple[Settings, Any]] = {}
        for spec in specs:
            settings = self._target.settings(spec)
            current = self._apps.get(spec.slug)
            if current is not None and current[0] == settings:
                apps[spec.slug] = current
                continue
            try:
                apps[spec.slug] = (settings, create_site(settings, name=spec.name_zh, in_index=True,
                                                         served=self.served_slugs))
            except KeyMaterialError as err:  # a lost or swapped key refuses that tenant only; the others go on
                log.error("%s is not served: %s", spec.slug, err)
        specs = [spec for spec in specs if spec.slug in apps]
        self._sync_sweepers(apps)
        for slug, (_settings, app) in self._apps.items():
            if apps.get(slug, (None, None))[1] is not app:
                app.state.ctx.engine.dispose()  # taken down or rebuilt: its pool goes
        self._apps, self.specs, self._seen = apps, specs, seen
        self.bridges.follow(apps)
        # one assignment: a request being routed sees the old list or the new one, never half of it
        self._app.router.routes = [Route("/", self._index), Mount("/static", self._static),
                                   *(Mount(f"/{slug}", app=app) for slug, (_, app) in apps.items())]

    def _sync_sweepers(self, apps: dict[str, tuple[Settings, Any]]) -> None:
        """One sweeper per province served now, on its current app: a rebuilt tenant's old one stops, a new one
        starts; the ministry has nothing to sweep."""
        wanted = {slug: app for slug, (settings, app) in apps.items()
                  if self._sweeping and self._sweep_seconds and settings.role == Role.province}
        for slug, sweeper in list(self._sweepers.items()):
            if wanted.get(slug) is None or sweeper.ctx is not wanted[slug].state.ctx:
                sweeper.close(timeout=5.0)
                del self._sweepers[slug]
        for slug, app in wanted.items():
            if slug not in self._sweepers:
                self._sweepers[slug] = Sweeper(app.state.ctx, interval=self._sweep_seconds)
                self._sweepers[slug].start()

    @property
    def sweepers(self) -> dict[str, Sweeper]:
        return dict(self._sweepers)

    def served_slugs(self) -> frozenset[str]:
        """The tenants mounted now: the ministry's pages link to these provinces' own portals."""
        return frozenset(spec.slug for spec in self.specs)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and time.monotonic() - self._checked >= self._refresh_seconds:
            self._checked = time.monotonic()
            # a few stat calls; the files are read (and apps built) only when one of them changed
            if self._fingerprint() != self._seen:
                try:
                    self.refresh()
                except Exception:  # a half-written state file must not take the served tenants down with it
                    log.exception("could not re-read the served tenants; serving the ones already mounted")
        await self._app(scope, receive, send)

    def _fingerprint(self) -> tuple[int | None, ...]:
        """When each candidate tenant's state, settings and database secret last changed."""
        stamps: list[int | None] = []
        for spec in self._target.catalog.tenants:
            if self._only is not None and spec not in self._only:
                continue
            paths = self._target.home.tenant(spec.slug)
            for path in (paths.state, paths.settings, paths.database_url_secret):
                try:
                    stamps.append(path.stat().st_mtime_ns)
                except FileNotFoundError:
                    stamps.append(None)
        return tuple(stamps)

    def _index(self, request: Request) -> Response:
        """A browser gets the page of provinces in Chinese; an API client (or one asking for JSON) the URLs."""
        if wants_html(request):
            answer: Response = pages.provinces(request, [{"slug": spec.slug, "name": spec.name_zh, "kind": spec.kind}
                                                         for spec in self.specs])
        else:
            answer = JSONResponse({"tenants": [tenant_urls(str(request.base_url), spec) for spec in self.specs]})
        answer.headers["Vary"] = "Accept"
        return answer

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self.bridges.open(self._apps)  # once this server listens: the bridges post to it
        self._sweeping = True
        self._sync_sweepers(self._apps)
        yield
        self._sweeping = False
        self._sync_sweepers({})  # stopped before their tenants' connections go
        self.bridges.close()
        for _, app in self._apps.values():
            app.state.ctx.engine.dispose()


class Bridges:
    """The MQTT bridges of the served tenants: one per tenant app whose settings name a broker, started once the
    server runs, replaced with its app, stopped with it. A bridge that fails to start is logged, never raised."""

    def __init__(self, base: str | None) -> None:
        self._base, self._running = base, False
        self._bridges: dict[str, tuple[Any, MqttBridge, HttpForwarder]] = {}

    def open(self, apps: dict[str, tuple[Settings, Any]]) -> None:
        self._running = True
        self.follow(apps)

    def follow(self, apps: dict[str, tuple[Settings, Any]]) -> None:
        if not self._running or self._base is None:
            return
        for slug, (app, bridge, forwarder) in list(self._bridges.items()):
            if apps.get(slug, (None, None))[1] is not app:  # taken down, or rebuilt with other settings
                self._stop(slug, bridge, forwarder)
        for slug, (settings, app) in apps.items():
            if settings.mqtt_url and slug not in self._bridges:
                forwarder = HttpForwarder(self._base, slug)
                try:
                    bridge = MqttBridge(slug, settings.mqtt_url, forwarder, registry=app.state.ctx.metrics.registry)
                    bridge.start()
                except Exception:
                    log.exception("%s: the MQTT bridge to %s could not start; devices can still post over HTTP",
                                  slug, settings.mqtt_url)
                    forwarder.close()
                    continue
                self._bridges[slug] = (app, bridge, forwarder)

    def close(self) -> None:
        self._running = False
        for slug, (_app, bridge, forwarder) in list(self._bridges.items()):
            self._stop(slug, bridge, forwarder)

    def _stop(self, slug: str, bridge: MqttBridge, forwarder: HttpForwarder) -> None:
        try:
            bridge.stop()
        except Exception:
            log.exception("%s: the MQTT bridge did not stop cleanly", slug)
        forwarder.close()
        del self._bridges[slug]

    def __contains__(self, slug: str) -> bool:
        return slug in self._bridges


def build_gateway(target: LocalTarget, only: list[TenantSpec] | None = None, *, refresh_seconds: float = 2.0,
                  bridge_base: str | None = None, sweep_seconds: float | None = None) -> tuple[Gateway, list[TenantSpec]]:
    """The combined app and the tenants it serves now (all served ones, or those of `only` that are); each
    tenant keeps its own settings, engine, keys and issuer. With `bridge_base` (this server's loopback URL), each
    tenant whose settings name an MQTT broker gets a bridge from it while the app runs; each province's sweeps run
    every `sweep_seconds` while served."""
    gateway = Gateway(target, only, refresh_seconds=refresh_seconds, bridge_base=bridge_base,
                      sweep_seconds=sweep_seconds)
    return gateway, gateway.specs


def publish_some(target: LocalTarget, specs: list[TenantSpec], host: str, port: int) -> list[Result]:
    """Point only these tenants' scrape targets at this server; the fleet's recorded address stays as it was."""
    with target.home.lock():
        return [(spec.slug, "monitoring", ensure_scrape_target(target.home.scrape_targets, slug=spec.slug,
                                                               code=spec.code, address=f"{host}:{port}"))
                for spec in specs]

"""One ASGI app for `fsp serve`: each served tenant's own site (its public portal and its registry API) mounted
under `/<slug>`, an index of them at `/` (a page in Chinese for a browser, JSON for a client); it follows `fsp up`
and `fsp down` without a restart."""
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from infra.ensure.monitoring import ensure_scrape_target
from portal import pages
from portal.fallback import wants_html
from portal.site import create_site, static_files
from provisioning_cli.targets import serve_work
from provisioning_cli.targets.local import LocalTarget, Result
from provisioning_cli.targets.local_state import incarnation_of, read_json
from provisioning_cli.targets.serve_work import TenantWorkers
from registry import errors, messages
from registry.config import Settings
from registry.security.keys import KeyMaterialError
from tenants import TenantSpec

log = logging.getLogger(__name__)
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def tenant_urls(base: str, spec: TenantSpec) -> dict[str, Any]:
    """Where one tenant answers under `base` (scheme://host:port)."""
    root = f"{base.rstrip('/')}/{spec.slug}"
    return {"tenant": spec.slug, "code": spec.code, "name": spec.name_zh, "kind": spec.kind,
            "portal": f"{root}/", "workbench": f"{root}/workbench/", "api": f"{root}/api/v1", "docs": f"{root}/api/v1/docs",
            "health": f"{root}/healthz", "ready": f"{root}/readyz", "metrics": f"{root}/metrics"}


class Gateway:
    """The combined ASGI app. It follows `fsp up`, `fsp down` and `fsp down --purge` while it runs: it re-reads
    which tenants are served and with what settings at most every `refresh_seconds`, and before any request to a
    tenant whose state.json changed since; it mounts the new ones, rebuilds those whose settings or incarnation
    changed (a purged and re-provisioned tenant is a new incarnation: new keys, new database) and unmounts those
    taken down. A tenant of the catalog that is not mounted answers 503 `tenant_not_served` in the one error shape.
    While it serves, each tenant's background work runs (serve_work: sweeps every `sweep_seconds`, exchange shipping
    to `ministry_url` and department sharing every `ship_seconds`, MQTT bridges posting to `bridge_base`; None or 0:
    never)."""

    def __init__(self, target: LocalTarget, only: list[TenantSpec] | None = None, *, refresh_seconds: float = 2.0,
                 bridge_base: str | None = None, sweep_seconds: float | None = None, ship_seconds: float | None = None,
                 ministry_url: str | None = None):
        self._target, self._only, self._refresh_seconds = target, only, refresh_seconds
        self._apps: dict[str, tuple[Settings, Any]] = {}
        self._incarnations: dict[str, str] = {}
        self._stamps: dict[str, tuple[int, ...] | None] = {}
        catalog = target.catalog
        self.workers = TenantWorkers([serve_work.sweeps(sweep_seconds), serve_work.bridges(bridge_base),
                                      serve_work.exchange(catalog, ministry_url, ship_seconds),
                                      serve_work.department_sharing(catalog, ship_seconds)])
        self._known = frozenset(spec.slug for spec in catalog.tenants if only is None or spec in only)
        self._catalog_slugs = frozenset(spec.slug for spec in catalog.tenants)
        self._checked = time.monotonic()
        self._seen: tuple[int | None, ...] = ()
        self.specs: list[TenantSpec] = []
        self._app = Starlette(routes=[], lifespan=self._lifespan)
        self._static = static_files()  # the index page's stylesheet
        self.refresh()

    def refresh(self) -> None:
        """Mount exactly the tenants served now; an unchanged tenant keeps its app (and its connections)."""
        seen = self._fingerprint()  # taken first: a change made while this runs is picked up next time
        stamps = {slug: _stamp(self._target.home.tenant(slug).state) for slug in self._known}
        specs = [spec for spec in self._target.served() if self._only is None or spec in self._only]
        apps: dict[str, tuple[Settings, Any]] = {}
        incarnations: dict[str, str] = {}
        for spec in specs:
            settings = self._target.settings(spec)
            incarnation = incarnation_of(read_json(self._target.home.tenant(spec.slug).state) or {})
            current = self._apps.get(spec.slug)
            incarnations[spec.slug] = incarnation
            if current is not None and current[0] == settings and self._incarnations.get(spec.slug) == incarnation:
                apps[spec.slug] = current
                continue
            try:
                apps[spec.slug] = (settings, create_site(settings, name=spec.name_zh, in_index=True,
                                                         served=self.served_slugs))
            except KeyMaterialError as err:  # a lost or swapped key refuses that tenant only; the others go on
                log.error("%s is not served: %s", spec.slug, err)
        specs = [spec for spec in specs if spec.slug in apps]
        self.workers.follow(apps)  # the work of a replaced app stops before its connections go
        for slug, (_settings, app) in self._apps.items():
            if apps.get(slug, (None, None))[1] is not app:
                app.state.ctx.engine.dispose()  # taken down or rebuilt: its pool goes
        self._apps, self.specs, self._seen, self._stamps = apps, specs, seen, stamps
        self._incarnations = {slug: incarnations[slug] for slug in apps}
        # one assignment: a request being routed sees the old list or the new one, never half of it
        self._app.router.routes = [Route("/", self._index), Mount("/static", self._static),
                                   *(Mount(f"/{slug}", app=app) for slug, (_, app) in apps.items()),
                                   Route("/{slug}", self._not_served, methods=ANY_METHOD),
                                   Route("/{slug}/{rest:path}", self._not_served, methods=ANY_METHOD)]

    @property
    def sweepers(self) -> dict[str, Any]:
        return self.workers.of("sweeps")

    @property
    def bridges(self) -> frozenset[str]:
        """The tenants whose MQTT bridge runs now."""
        return frozenset(self.workers.of("bridge"))

    def served_slugs(self) -> frozenset[str]:
        """The tenants mounted now: the ministry's pages link to these provinces' own portals."""
        return frozenset(spec.slug for spec in self.specs)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and self._changed(scope):
            self._checked = time.monotonic()
            try:
                self.refresh()
            except Exception:  # a half-written state file must not take the served tenants down with it
                log.exception("could not re-read the served tenants; serving the ones already mounted")
        await self._app(scope, receive, send)

    def _changed(self, scope) -> bool:
        """Whether to re-read the served tenants before this request: its tenant's state.json changed (one stat:
        a purge and re-provisioning between two requests must not reach the old app), or, at most every
        `refresh_seconds`, any tenant's files did."""
        slug = scope["path"].split("/", 2)[1] if scope["path"].startswith("/") else ""
        if slug in self._known and _stamp(self._target.home.tenant(slug).state) != self._stamps.get(slug):
            return True
        if time.monotonic() - self._checked < self._refresh_seconds:
            return False
        self._checked = time.monotonic()
        return self._fingerprint() != self._seen  # a few stat calls; files are read only when one changed

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

    def _not_served(self, request: Request) -> Response:
        """A tenant this server knows but does not serve now (taken down, purged, being provisioned, its keys
        refused): 503, so a client (the exchange shipper) retries rather than giving up; anything else: 404."""
        slug = request.path_params["slug"]
        if slug not in self._catalog_slugs:
            return error_response(request, 404, "not found", "path", "exists", f"no tenant {slug} here")
        return error_response(request, 503, "service unavailable", "tenant", "tenant_not_served",
                              f"{slug} is not served here now")

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
        self.workers.open(self._apps)  # once this server listens: bridges and shippers post to it
        yield
        self.workers.close()  # stopped before their tenants' connections go
        for _, app in self._apps.values():
            app.state.ctx.engine.dispose()


def _stamp(path: Path) -> tuple[int, ...] | None:
    """Which version of a file this is: state.json is replaced whole (a new inode) on every write."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


def error_response(request: Request, status: int, title: str, field: str, rule: str, message: str) -> JSONResponse:
    """The one error shape, in the reader's language, for what the gateway answers itself."""
    language = messages.language_of(request.headers.get("accept-language"))
    problem = errors.localize({"field": field, "rule": rule, "message": message}, language)
    return JSONResponse(errors.body(status, messages.title(status, language, title), [problem]), status_code=status)


class Bridges(TenantWorkers):
    """The MQTT bridges of the served tenants alone (serve_work.bridges), posting to `base`."""

    def __init__(self, base: str | None) -> None:
        super().__init__([serve_work.bridges(base)])

    def __contains__(self, slug: str) -> bool:
        return slug in self.of("bridge")


def build_gateway(target: LocalTarget, only: list[TenantSpec] | None = None, *, refresh_seconds: float = 2.0,
                  bridge_base: str | None = None, sweep_seconds: float | None = None, ship_seconds: float | None = None,
                  ministry_url: str | None = None) -> tuple[Gateway, list[TenantSpec]]:
    """The combined app and the tenants it serves now (all served ones, or those of `only` that are); each
    tenant keeps its own settings, engine, keys and issuer. With `bridge_base` (this server's loopback URL), each
    tenant whose settings name an MQTT broker gets a bridge from it while the app runs; each province's sweeps run
    every `sweep_seconds` and its exchange (to `ministry_url`) and department sharing every `ship_seconds` while
    served."""
    gateway = Gateway(target, only, refresh_seconds=refresh_seconds, bridge_base=bridge_base,
                      sweep_seconds=sweep_seconds, ship_seconds=ship_seconds, ministry_url=ministry_url)
    return gateway, gateway.specs


def publish_some(target: LocalTarget, specs: list[TenantSpec], host: str, port: int) -> list[Result]:
    """Point only these tenants' scrape targets at this server; the fleet's recorded address stays as it was."""
    with target.home.lock():
        return [(spec.slug, "monitoring", ensure_scrape_target(target.home.scrape_targets, slug=spec.slug,
                                                               code=spec.code, address=f"{host}:{port}"))
                for spec in specs]

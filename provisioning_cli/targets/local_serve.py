"""One ASGI app for `fsp serve`: each served tenant's own registry app mounted under `/<slug>`, an index at `/`."""
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from infra.ensure.monitoring import ensure_scrape_target
from provisioning_cli.targets.local import LocalTarget, Result
from registry.app import create_app
from tenants import TenantSpec


def tenant_urls(base: str, spec: TenantSpec) -> dict[str, Any]:
    """Where one tenant answers under `base` (scheme://host:port)."""
    root = f"{base.rstrip('/')}/{spec.slug}"
    return {"tenant": spec.slug, "code": spec.code, "name": spec.name_zh, "kind": spec.kind,
            "api": f"{root}/api/v1", "docs": f"{root}/api/v1/docs", "health": f"{root}/healthz",
            "ready": f"{root}/readyz", "metrics": f"{root}/metrics"}


def build_gateway(target: LocalTarget, only: list[TenantSpec] | None = None) -> tuple[Starlette, list[TenantSpec]]:
    """The combined app and the tenants it serves (all served ones, or those of `only` that are); each tenant
    keeps its own settings, engine, keys and issuer."""
    specs = [spec for spec in target.served() if only is None or spec in only]
    apps = {spec.slug: create_app(target.settings(spec)) for spec in specs}

    def index(request: Request) -> JSONResponse:
        base = str(request.base_url)
        return JSONResponse({"tenants": [tenant_urls(base, spec) for spec in specs]})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        for app in apps.values():
            app.state.ctx.engine.dispose()

    routes = [Route("/", index), *(Mount(f"/{slug}", app=app) for slug, app in apps.items())]
    return Starlette(routes=routes, lifespan=lifespan), specs


def publish_some(target: LocalTarget, specs: list[TenantSpec], host: str, port: int) -> list[Result]:
    """Point only these tenants' scrape targets at this server; the fleet's recorded address stays as it was."""
    with target.home.lock():
        return [(spec.slug, "monitoring", ensure_scrape_target(target.home.scrape_targets, slug=spec.slug,
                                                               code=spec.code, address=f"{host}:{port}"))
                for spec in specs]

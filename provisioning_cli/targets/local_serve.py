"""One ASGI app for `fsp serve`: each served tenant's own registry app mounted under `/<slug>`, an index at `/`."""
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from provisioning_cli.targets.local import LocalTarget
from registry.app import create_app
from tenants import TenantSpec


def tenant_urls(base: str, spec: TenantSpec) -> dict[str, Any]:
    """Where one tenant answers under `base` (scheme://host:port)."""
    root = f"{base.rstrip('/')}/{spec.slug}"
    return {"tenant": spec.slug, "code": spec.code, "name": spec.name_zh, "kind": spec.kind,
            "api": f"{root}/api/v1", "docs": f"{root}/api/v1/docs", "health": f"{root}/healthz",
            "ready": f"{root}/readyz", "metrics": f"{root}/metrics"}


def build_gateway(target: LocalTarget) -> tuple[Starlette, list[TenantSpec]]:
    """The combined app and the tenants it serves; each tenant keeps its own settings, engine, keys and issuer."""
    specs = target.served()
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

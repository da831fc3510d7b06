"""One tenant's site: the portal's pages beside its registry app, which keeps every URL it answered before."""
from collections.abc import Callable, Collection

from prometheus_client import Counter
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from portal import certificates, credit_lists, memorials, national, pages, policies, status_lookup
from portal.cache import ForgetPagesOnWrite, PageCache
from portal.citizens.routes import routes as citizen_routes
from portal.fallback import NotFoundPage
from portal.render import province_name
from portal.suspension import RefuseSignInsWhileSuspended
from portal.workbench.routes import routes as workbench_routes
from registry.app import create_app
from registry.config import Role, Settings
from registry.db_types import utcnow


def static_files() -> StaticFiles:
    """The portal's stylesheet, shipped in the package: a provincial intranet reaches no other host."""
    return StaticFiles(packages=[("portal", "static")])


def create_site(settings: Settings | None = None, *, name: str | None = None, in_index: bool = False,
                served: Callable[[], Collection[str]] = frozenset) -> Starlette:
    """The portal and the registry of one tenant. `name` is its Chinese name (e.g. from the tenant catalog), by
    default the province's GB/T 2260 name; `in_index` when a server's index of provinces lists it; `served`, the
    slugs of the tenants the same server serves now (the ministry's pages link to their portals).
    `site.state.ctx` is the registry's context (engine, keys, metrics), as on the registry app. The site's lifespan
    is the registry's (a mounted app's is not run by itself): its sweeps, and the audit flushed at shutdown."""
    registry_app = create_app(settings)
    ctx = registry_app.state.ctx
    cache = PageCache()
    api_app = ForgetPagesOnWrite(registry_app, cache)
    site = Starlette(lifespan=lambda _site: registry_app.router.lifespan_context(registry_app), routes=[
        *national.routes(ctx.settings),  # the ministry's pages, in place of a province's
        Route("/", pages.cached(pages.home), methods=["GET"]),
        Route("/institutions", pages.cached(pages.directory), methods=["GET"]),
        Route("/institutions/{institution_id}", pages.cached(pages.institution), methods=["GET"]),
        Route("/certificates/verify", certificates.verify_endpoint, methods=["GET"]),
        # online services: 办件查询 by query code, and the citizens' own area (我的办事) after sign-in
        Route("/services/status", status_lookup.status_lookup, methods=["GET", "POST"]),
        *citizen_routes(),
        # policies, guides and notices (政务公开)
        Route("/policies", pages.cached(policies.policies), methods=["GET"]),
        Route("/policies/{publication_id}", pages.cached(policies.policy), methods=["GET"]),
        # online memorials (网上祭扫): a memorial page answers conditional GETs itself (portal.memorials)
        Route("/memorials", pages.cached(memorials.memorial_list), methods=["GET"]),
        # the red and black lists of the credit evaluation (红黑名单)
        Route("/credit-lists", pages.cached(credit_lists.credit_lists), methods=["GET"]),
        Route("/memorials/{memorial_id}", memorials.memorial_endpoint, methods=["GET"]),
        Route("/memorials/{memorial_id}/messages", memorials.leave_message_endpoint, methods=["POST"]),
        Mount("/static", static_files()),
        # the staff workbench: sign-in, then the registry's work as pages (through api_app, with the person's token)
        *workbench_routes(),
        # /api/v1, /healthz, /readyz, /metrics, /.well-known/... as before; its writes make the pages go stale
        # a browser at a path neither has gets the portal's 404 page; an API client, the registry's JSON
        Mount("", NotFoundPage(api_app, routes=registry_app.router.routes,
                               not_found=pages.unknown_path)),
    ])
    # a suspended tenant (`fsp suspend`) refuses sign-ins and changes through its pages
    site.add_middleware(RefuseSignInsWhileSuspended, ctx=ctx)
    site.state.ctx = ctx
    site.state.pages = cache
    # on the registry's own registry: one /metrics exposition for the tenant's API and its pages
    site.state.page_views = Counter("fsp_portal_page_views_total", "Portal pages served, by page template",
                                    ["page"], registry=ctx.metrics.registry)
    site.state.registry = registry_app
    site.state.api_app = api_app
    site.state.clock = utcnow  # the workbench's idle timeout reads it (tests move it on)
    site.state.served = served
    site.state.province = pages.Province(ctx.settings.tenant_slug, name or province_name(ctx.settings.tenant_code),
                                         in_index, national=ctx.settings.role == Role.ministry)
    return site

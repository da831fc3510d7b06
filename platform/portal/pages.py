"""The public pages of one province (no sign-in): home, the institution directory, and each institution
(policies, guides and notices in portal.policies)."""
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import anyio
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from portal import catalog
from portal.directory import PAGE_SIZE, read_query, region_groups
from portal.render import Page, page
from registry.disclosure import service as disclosure
from registry.errors import NotFound
from registry.institutions import service
from registry.institutions.models import InstitutionType
from registry.publications import service as publications
from registry.publications.models import PublicationStatus

# fees apply from a date in China; a visitor at 00:30 Beijing time must see that day's fees
CHINA_TIME = ZoneInfo("Asia/Shanghai")
# the newest policies, guides and notices on the home page
LATEST_PUBLICATIONS = 5


@dataclass(frozen=True)
class Province:
    """Who this site speaks for: the tenant's Chinese name, and the platform's title built from it."""
    slug: str
    name: str
    # whether a server's index of provinces lists it (under `fsp serve`), so its pages link back there
    in_index: bool = False
    # the ministry's site: the national platform's pages (portal.national)
    national: bool = False

    @property
    def platform(self) -> str:
        return catalog.TEXT["national_title"] if self.national else self.name + catalog.TEXT["platform_suffix"]


def tenant_engine(request: Request) -> Engine:
    return request.app.state.ctx.engine


def province_of(request: Request) -> Province:
    return request.app.state.province


def china_today() -> date:
    return datetime.now(CHINA_TIME).date()


def counted(request: Request, response: Page) -> Page:
    """Count a page served, by its template name: a label set as small as the templates."""
    request.app.state.page_views.labels(page=response.name).inc()
    return response


def cached(render: Callable[[Request], Page]) -> Callable:
    """The page from the site's PageCache, or rendered (off the event loop: it reads the database) and kept if 200.
    The key holds the day in China: the fees in force change at midnight Beijing time."""
    async def endpoint(request: Request) -> Response:
        cache = request.app.state.pages
        key = (request.scope.get("root_path", ""), request.url.path, request.url.query, china_today())
        kept = cache.get(key)
        if kept is not None:
            return counted(request, Page(kept.body, name=kept.name))
        generation = cache.generation
        response = await anyio.to_thread.run_sync(render, request)
        if response.status_code == 200:
            cache.put(key, response, generation=generation)
        return counted(request, response)
    return endpoint


def home(request: Request) -> Page:
    with Session(tenant_engine(request)) as session:
        latest, _ = publications.list_publications(session, status=PublicationStatus.published,
                                                   limit=LATEST_PUBLICATIONS)
    return page(request, "home.html", province=province_of(request), types=list(InstitutionType), latest=latest)


def directory(request: Request) -> Page:
    """Search and filters; a filter we do not offer is refused beside its field, with what was typed kept."""
    with Session(tenant_engine(request)) as session:
        groups = region_groups(session)
        query = read_query(request.query_params, {code for group in groups for code, _ in group.regions})
        rows, has_next = [], False
        if not query.errors:
            found = service.list_institutions(
                session, type=InstitutionType(query.type) if query.type else None, region_code=query.region or None,
                q=query.q or None, offset=(query.page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1)
            rows, has_next = found[:PAGE_SIZE], len(found) > PAGE_SIZE
    return page(request, "directory.html", status_code=400 if query.errors else 200, province=province_of(request),
                query=query, groups=groups, types=list(InstitutionType), institutions=rows, has_next=has_next)


def institution(request: Request) -> Page:
    """One institution's details, what it discloses (hours, commitments, where to complain) and the fees in
    force today (China time)."""
    try:
        institution_id = uuid.UUID(request.path_params["institution_id"])
    except ValueError:
        return not_found(request)
    today = china_today()
    with Session(tenant_engine(request)) as session:
        try:
            found = service.get_institution(session, institution_id=institution_id)
        except NotFound:
            return not_found(request)
        items = service.list_service_items(session, institution_id=institution_id, on=today)
        disclosed = disclosure.get_disclosure(session, institution_id=institution_id)
    return page(request, "institution.html", province=province_of(request), institution=found, items=items,
                today=today, disclosed=disclosed)


def not_found(request: Request) -> Page:
    return page(request, "not_found.html", status_code=404, province=province_of(request))


def unknown_path(request: Request) -> Page:
    """A browser at a path the site does not have (see portal.fallback)."""
    return counted(request, not_found(request))


def provinces(request: Request, tenants: list[dict[str, str]]) -> HTMLResponse:
    """The index of a server holding many tenants: each one's `slug`, `name` and `kind`, linked to its portal."""
    ministry = [tenant for tenant in tenants if tenant["kind"] == "ministry"]
    others = [tenant for tenant in tenants if tenant["kind"] != "ministry"]
    return page(request, "provinces.html", province=None, ministry=ministry, provinces=others)

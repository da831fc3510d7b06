"""The Jinja2 environment of the portal: one layout, the catalog's words, and how numbers and dates are written."""
import re
from datetime import date, datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from portal import catalog
from portal.workbench.text import CASE_STATUS, STAFF
from registry import regions
from registry.db_types import in_china_time

_env = Environment(loader=PackageLoader("portal", "templates"), autoescape=select_autoescape(default=True),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def yuan(price_fen: int) -> str:
    """`1234567` fen → `12,345.67 元`: money is stored in fen and shown in yuan."""
    return catalog.TEXT["yuan"].format(amount=f"{price_fen // 100:,}.{price_fen % 100:02d}")


def chinese_date(day: date | datetime) -> str:
    """A day, or the day in China of a moment (a time stored in UTC is the next day in Beijing after 16:00)."""
    if isinstance(day, datetime):
        day = in_china_time(day).date()
    return catalog.TEXT["date"].format(year=day.year, month=day.month, day=day.day)


# python-stdnum marks names by the years they were valid: "[1983-]历下区"
_VALIDITY = re.compile(r"^\[[^\]]*\]")


def region_name(code: str) -> str:
    """The county (or prefecture) name of a region code, without the province; the code itself if unknown."""
    described = regions.describe(code) or {}
    return _VALIDITY.sub("", described.get("county", "")) or code


def province_name(code: str) -> str:
    return (regions.describe(code[:2] + "0000") or {}).get("province", code)


_env.filters.update(yuan=yuan, chinese_date=chinese_date, region_name=region_name)
_env.globals.update(t=catalog.TEXT, lang=catalog.LANG, type_names=catalog.TYPE_NAMES,
                    status_names=catalog.STATUS_NAMES, category_names=catalog.CATEGORY_NAMES,
                    basis_names=catalog.BASIS_NAMES, s=STAFF, case_status=CASE_STATUS,
                    publication_category_names=catalog.PUBLICATION_CATEGORY_NAMES)


def base_path(request: Request) -> str:
    """Where this site is mounted (`/beijing` under `fsp serve`, empty when served alone): links start here."""
    return request.scope.get("root_path", "").rstrip("/")


def index_path(request: Request) -> str:
    """The server's index of tenants (`/` under `fsp serve`), beside which every tenant's site is mounted."""
    return base_path(request).rpartition("/")[0] + "/"


class Page(HTMLResponse):
    """A rendered page and the name of its template (`home`, `institution`...), the label it is counted under."""

    def __init__(self, content: str | bytes, *, name: str, status_code: int = 200):
        super().__init__(content, status_code=status_code)
        self.name = name


def page(request: Request, template: str, *, status_code: int = 200, **context) -> Page:
    """A rendered page; `base` (the site's mount path) is known to every template."""
    base = base_path(request)
    # a site mounted by `fsp serve` under /<slug> links back to the server's index of provinces
    html = _env.get_template(template).render(base=base, index_href=index_path(request),
                                              suspended=_suspended(request), **context)
    return Page(html, name=template.removesuffix(".html"), status_code=status_code)


def _suspended(request: Request) -> bool:
    """The tenant is suspended (`fsp suspend`): its pages show a notice (read at most every 2 s, registry.tenant_status)."""
    app = request.scope.get("app")  # a page rendered outside a site (a printout built by hand) has none
    ctx = getattr(getattr(app, "state", None), "ctx", None)
    status = getattr(ctx, "status", None)
    return bool(status is not None and status.current().suspended)

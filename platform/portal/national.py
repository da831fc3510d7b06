"""The ministry's public pages (全国殡葬服务平台): the provinces that report to it, one search over every province's
institutions, an institution as its province reported it, and national figures (counts only, never a case).

Mounted in place of a province's pages when the site's tenant is the ministry (`Settings.role`, the same switch
that gives its registry the exchange and the national database). An institution of a province this same server
serves (`fsp serve`) is linked to on that province's own portal; any other is shown from what was received.
"""
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.routing import Route

from portal import catalog, charts
from portal.directory import DirectoryQuery, FieldError, RegionGroup, read_query
from portal.pages import cached, china_today, not_found
from portal.render import Page, index_path, page, province_name, region_name
from registry.config import Role, Settings
from registry.institutions.models import InstitutionType
from registry.national import credit_lists, directory, figures, kpis, online_figures
from registry.national.models import INSTITUTIONS_PAGE_SIZE, NationalInstitutionFilters, NationalInstitutionPublic


@dataclass(frozen=True)
class ReportingProvince:
    """A province that has shipped to the ministry, and where its own portal is when this server serves it."""
    slug: str
    name: str
    portal: str | None


@dataclass
class NationalQuery(DirectoryQuery):
    province: str = ""

    def link(self, *, page: int) -> str:
        parts = {"q": self.q, "province": self.province, "type": self.type, "region": self.region,
                 "page": str(page) if page > 1 else ""}
        return str(QueryParams({name: value for name, value in parts.items() if value}))


def _provinces(request: Request, session: Session) -> list[ReportingProvince]:
    """The provinces that have shipped to the ministry: they are the ones the national directory and figures hold
    (the tenant catalog lists every province, most with nothing here, and the portal does not read it)."""
    served, index = request.app.state.served(), index_path(request)
    return [ReportingProvince(slug, province_name(code), f"{index}{slug}/" if slug in served else None)
            for slug, code in directory.provinces(session)]


def _region_groups(session: Session) -> list[RegionGroup]:
    groups: dict[str, RegionGroup] = {}
    for code in directory.regions(session):
        groups.setdefault(code[:2], RegionGroup(province_name(code), [])).regions.append((code, region_name(code)))
    return list(groups.values())


def home(request: Request) -> Page:
    with Session(request.app.state.ctx.engine) as session:
        provinces = _provinces(request, session)
    return page(request, "national_home.html", province=request.app.state.province, provinces=provinces)


def search(request: Request) -> Page:
    """Every province's institutions by name or address, province, type and region, 20 a page; a filter we do not
    offer is refused beside its field, with what was typed kept."""
    with Session(request.app.state.ctx.engine) as session:
        provinces, groups = _provinces(request, session), _region_groups(session)
        checked = read_query(request.query_params, {code for group in groups for code, _ in group.regions})
        query = NationalQuery(**{name: getattr(checked, name) for name in ("q", "type", "region", "page_text", "errors")},
                              province=request.query_params.get("province", ""))
        if query.province and query.province not in {province.slug for province in provinces}:
            query.errors.append(FieldError("province", "choice", catalog.ERRORS[("province", "choice")]))
        rows, total = [], 0
        if not query.errors:
            rows, total = directory.find_institutions(session, NationalInstitutionFilters(
                q=query.q or None, province=query.province or None, type=query.type or None,
                region=query.region or None, page=query.page))
    by_slug = {province.slug: province for province in provinces}
    return page(request, "national_directory.html", status_code=400 if query.errors else 200,
                province=request.app.state.province, query=query, provinces=provinces, groups=groups,
                types=list(InstitutionType), institutions=rows, total=total, by_slug=by_slug,
                has_next=query.page * INSTITUTIONS_PAGE_SIZE < total)


def institution(request: Request) -> Page:
    """One institution as its province reported it: its entry, fees in force today (China time), disclosure."""
    try:
        institution_id = uuid.UUID(request.path_params["institution_id"])
    except ValueError:
        return not_found(request)
    province, today = request.path_params["province"], china_today()
    with Session(request.app.state.ctx.engine) as session:
        found = directory.get_institution(session, province=province, institution_id=institution_id)
        if found is None:
            return not_found(request)
        items = directory.fees_on(session, province=province, institution_id=institution_id, day=today)
    return page(request, "institution.html", province=request.app.state.province, institution=found, items=items,
                today=today, disclosed=NationalInstitutionPublic.of(found),
                held_by=catalog.TEXT["held_by"].format(province=province_name(found.province_code)))


KPI_HEADINGS = {kpis.Kpi.online_institutions: ("kpi_online", {"target": kpis.ONLINE_TARGET * 100}),
                kpis.Kpi.online_services: ("kpi_online_services", {"target": kpis.ONLINE_NEXT_TARGET * 100}),
                kpis.Kpi.backfill: ("kpi_backfill", {"target": kpis.BACKFILL_TARGET * 100}),
                kpis.Kpi.exchange_freshness: ("kpi_freshness", {"hours": kpis.FRESHNESS_TARGET_SECONDS // 3600})}
KPI_MARKS = {kpis.Status.passed: "kpi_pass", kpis.Status.behind: "kpi_behind", kpis.Status.unknown: "kpi_unknown"}
KPI_UNKNOWN = {kpis.Kpi.online_institutions: "kpi_no_institution", kpis.Kpi.online_services: "kpi_no_institution",
               kpis.Kpi.backfill: "figures_no_expected",
               kpis.Kpi.exchange_freshness: "kpi_never"}


def kpi_cell(row: kpis.KpiRow) -> str:
    """The figure and its mark in words (达标 / 未达标 / 暂无数据): never colour alone."""
    text = catalog.TEXT
    if row.value is None:
        figure = text[KPI_UNKNOWN[row.kpi]]
    elif row.kpi == kpis.Kpi.exchange_freshness:
        hours, minutes = divmod(round(row.value) // 60, 60)
        figure = text["kpi_age"].format(hours=hours, minutes=minutes)
    else:
        figure = text["kpi_share"].format(value=row.value * 100, numerator=row.numerator, denominator=row.denominator)
    return f"{figure} {text[KPI_MARKS[row.status]]}"


def share(ratio: float | None) -> str:
    return catalog.TEXT["figures_no_expected"] if ratio is None else catalog.TEXT["percent"].format(value=ratio * 100)


# the online-service figures the page shows, of those the ministry keeps (registry.national.online_figures)
ONLINE_COLUMNS = ("approvals_submitted", "approvals_overdue", "bookings_made", "complaints_received",
                  "complaints_upheld", "ratings", "memorials_created")


def online_by_province(rows: list[dict]) -> dict[str, dict]:
    """The year's online-service figures per province: its months summed, the ratings' average from the sums."""
    found: dict[str, dict] = {}
    for row in rows:
        total = found.setdefault(row["province"], dict.fromkeys(online_figures.FIGURES, 0))
        for name in online_figures.FIGURES:
            total[name] += row[name]
    for total in found.values():
        total["rating_average"] = total["rating_score_sum"] / total["ratings"] if total["ratings"] else None
    return found


def figures_page(request: Request) -> Page:
    with Session(request.app.state.ctx.engine) as session:
        found = figures.national_figures(session, today=china_today())
        completeness, nation = kpis.completeness(session, year=found.year)
        kpi_rows = kpis.kpis(session, year=found.year, now=datetime.now(UTC))
        online = online_by_province(online_figures.figures(session, year=found.year))
        matches = figures.match_counts(session)
    by_province: dict[str, dict[kpis.Kpi, str]] = {}
    for row in kpi_rows:
        by_province.setdefault(row.province, {})[row.kpi] = kpi_cell(row)
    headings = [catalog.TEXT[key].format(**values) for key, values in KPI_HEADINGS.values()]
    names = {row.province_slug: province_name(row.province_code) for row in found.provinces}
    text = catalog.TEXT
    deaths = charts.bar_chart(
        [charts.Bar(names[row.province_slug], row.deaths_this_year, text["count"].format(count=row.deaths_this_year))
         for row in found.provinces],
        title=text["figures_chart_deaths"].format(year=found.year),
        description=text["figures_chart_deaths_desc"], chart_id="deaths-chart")
    rates = charts.bar_chart(
        [charts.Bar(names[row.province_slug], row.cremation_rate or 0,
                    text["percent"].format(value=row.cremation_rate * 100) if row.cremation_rate is not None
                    else text["no_figure"]) for row in found.provinces],
        title=text["figures_chart_rate"].format(year=found.year),
        description=text["figures_chart_rate_desc"], chart_id="rate-chart")
    return page(request, "national_figures.html", province=request.app.state.province, figures=found, names=names,
                charts=[deaths, rates], completeness={row.province: share(row.ratio) for row in completeness},
                nation_completeness=share(nation.ratio), kpi_headings=headings,
                kpi_rows=[(names.get(slug, slug), [cells[kpi] for kpi in kpis.Kpi]) for slug, cells in by_province.items()],
                kpi_note=text["kpi_note"].format(next=kpis.ONLINE_NEXT_TARGET * 100),
                online=online, online_columns=[(name, text[f"online_{name}"]) for name in ONLINE_COLUMNS],
                matches=matches)


def credit_lists_page(request: Request) -> Page:
    """Every province's red and black lists of `?year=` (this year by default), as the provinces sent them."""
    this_year = china_today().year
    raw = request.query_params.get("year", "").strip()
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= this_year else None
    years = range(this_year, this_year - 3, -1)
    if raw and year is None:
        return page(request, "credit_lists.html", status_code=400, province=request.app.state.province, year=None,
                    lists=None, years=years, bad_year=raw)
    year = year or this_year
    with Session(request.app.state.ctx.engine) as session:
        rows = credit_lists.listed_rows(session, credit_lists.CreditListsQuery(year=year))
    found = {"red": [], "black": []}
    for row in rows:
        found[row.listing].append({"name": row.name, "credit_code": row.credit_code, "score": row.score,
                                   "reasons": row.reasons, "listed_at": row.changed_at,
                                   "province": province_name(row.region_code)})
    return page(request, "credit_lists.html", province=request.app.state.province, year=year, lists=found,
                years=years, bad_year=None, thresholds=None)


def routes(settings: Settings) -> list[Route]:
    """The ministry's pages (none for a province); they come before a province's, which they replace."""
    if settings.role != Role.ministry:
        return []
    return [Route("/", cached(home), methods=["GET"]),
            Route("/institutions", cached(search), methods=["GET"]),
            Route("/institutions/{province}/{institution_id}", cached(institution), methods=["GET"]),
            Route("/figures", cached(figures_page), methods=["GET"]),
            Route("/credit-lists", cached(credit_lists_page), methods=["GET"])]

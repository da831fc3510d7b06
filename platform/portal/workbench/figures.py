"""The province's own figures (本省殡葬数据) in the workbench, for its administrator: the year's indicators, deaths by
month and by prefecture as charts with their tables, registration completeness and the plan's KPIs, counted as the
ministry counts them (registry.national.own_figures), with the statistics as CSV or XLSX files. Every figure comes
from the registry's API, which decides who may read it."""
from starlette.requests import Request
from starlette.responses import Response

from portal import catalog, charts
from portal.national import KPI_HEADINGS, kpi_cell, share
from portal.pages import china_today
from portal.render import province_name
from portal.workbench import registry_api
from portal.workbench.case_page import shown_time
from portal.workbench.staff import Staff
from portal.workbench.text import STAFF
from portal.workbench.views import message, render, staff_page
from registry.national import kpis
from registry.regions import describe

READ = "statistics:read"
NAV = [("/figures", "wb-figures", STAFF["nav_figures"])]
EXPORTS = {"deaths-county": ("deaths", {"level": "county"}), "deaths-cause": ("deaths", {"by": "category"}),
           "deaths-age": ("deaths", {"by": "age_band", "level": "prefecture"}),
           "cremations-month": ("cremations", {"by": "month"})}
FORMATS = ("csv", "xlsx")


def _year(request: Request) -> int | None:
    raw = request.query_params.get("year", "").strip()
    this_year = china_today().year
    if not raw:
        return this_year
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= this_year else None


def _prefecture(code: str) -> str:
    return (describe(code + "00") or {}).get("county") or code


@staff_page(READ)
async def figures_page(request: Request, staff: Staff) -> Response:
    year = _year(request)
    if year is None:
        return message(request, staff, heading=STAFF["figures_title"], text=STAFF["figures_bad_year"], status_code=400)
    asked = {"year": year}
    answers = {name: await registry_api.call(request, staff, "GET", f"/national/{path}", params=params)
               for name, path, params in (
                   ("as_of", "own-figures", {}), ("indicators", "indicators", asked),
                   ("months", "statistics/deaths", {**asked, "by": "month"}),
                   ("prefectures", "statistics/deaths", {**asked, "level": "prefecture"}),
                   ("completeness", "completeness", asked), ("kpis", "kpis", asked))}
    failed = next((answer for answer in answers.values() if not answer.ok), None)
    if failed is not None:
        return message(request, staff, heading=STAFF["figures_title"], text=STAFF["api_failed"],
                       status_code=failed.page_status)
    body = {name: answer.body for name, answer in answers.items()}
    months = {int(row["value"]): row["count"] for row in body["months"]["rows"]}
    prefectures = sorted(((row["area"], row["count"]) for row in body["prefectures"]["rows"]), key=lambda r: -r[1])
    count = catalog.TEXT["count"]
    month_chart = charts.bar_chart(
        [charts.Bar(STAFF["figures_month"].format(month=m), months.get(m, 0), count.format(count=months.get(m, 0)))
         for m in range(1, 13)],
        title=STAFF["figures_chart_months"].format(year=year), description=STAFF["figures_chart_months_desc"],
        chart_id="months-chart")
    prefecture_chart = charts.bar_chart(
        [charts.Bar(_prefecture(area), n, count.format(count=n)) for area, n in prefectures],
        title=STAFF["figures_chart_prefectures"].format(year=year),
        description=STAFF["figures_chart_prefectures_desc"], chart_id="prefectures-chart")
    slug = request.app.state.ctx.settings.tenant_slug
    own = [row for row in body["indicators"]["provinces"] if row["province"] == slug]
    completeness = body["completeness"]["provinces"]
    kpi_rows = [kpis.KpiRow(row["province"], row["province_code"], kpis.Kpi(row["kpi"]), row["value"], row["target"],
                            row["higher_is_better"], row["numerator"], row["denominator"], row["missing_years"])
                for row in body["kpis"]["rows"]]
    return render(request, "workbench/figures.html", staff=staff, current="wb-figures", extra_nav=NAV, year=year,
                  years=range(china_today().year, china_today().year - 16, -1), as_of=body["as_of"],
                  when=shown_time, indicators=own[0] if own else None,
                  completeness=completeness[0] if completeness else None, share=share,
                  charts=[month_chart, prefecture_chart], months=[(m, months.get(m, 0)) for m in range(1, 13)],
                  prefectures=[(_prefecture(area), n) for area, n in prefectures],
                  kpis=[(catalog.TEXT[KPI_HEADINGS[row.kpi][0]].format(**KPI_HEADINGS[row.kpi][1]), kpi_cell(row))
                        for row in kpi_rows],
                  exports=[(name, STAFF[f"figures_export_{name}"]) for name in EXPORTS], formats=FORMATS,
                  province_title=province_name(request.app.state.ctx.settings.tenant_code))


@staff_page(READ)
async def export(request: Request, staff: Staff) -> Response:
    """One of the province's statistics tables as a file, from the registry's export (audited there)."""
    name, file_format, year = (request.path_params["name"], request.query_params.get("format", "csv"),
                               _year(request))
    if name not in EXPORTS or file_format not in FORMATS or year is None:
        return message(request, staff, heading=STAFF["figures_title"], text=STAFF["figures_bad_export"],
                       status_code=404)
    metric, params = EXPORTS[name]
    answer = await registry_api.call(request, staff, "GET", f"/national/statistics/{metric}/export",
                                     params={**params, "year": year, "format": file_format})
    if not answer.ok:
        return message(request, staff, heading=STAFF["figures_title"], text=STAFF["api_failed"],
                       status_code=answer.page_status)
    return Response(answer.content, media_type=answer.headers.get("content-type"), headers={
        "Content-Disposition": f'attachment; filename="{name}-{year}.{file_format}"'})

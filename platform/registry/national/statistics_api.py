"""The ministry's statistics for decisions, from the counters kept at ingest (read only, audited)."""
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Response
from pydantic import BaseModel, ConfigDict
from pydantic import Field as Check

from registry.deps import API_PREFIX, ContextDep, FiguresReader, SessionDep
from registry.errors import Invalid
from registry.national import exports, statistics
from registry.national.models import PROVINCE_PATTERN
from registry.national.service import audit_read

router = APIRouter(prefix=f"{API_PREFIX}/national", tags=["national database"])


class Metric(StrEnum):
    deaths = "deaths"
    cremations = "cremations"
    certificates = "certificates"
    ashes_destinations = "ashes_destinations"


class Level(StrEnum):
    province = "province"
    prefecture = "prefecture"
    county = "county"


class Dimension(StrEnum):
    sex = "sex"
    age_band = "age_band"
    category = "category"
    place = "place"
    month = "month"


# the dimensions each metric is counted by (besides area and month)
DIMENSIONS_OF = {Metric.deaths: {"sex", "age_band", "category", "place", "month"},
                 Metric.cremations: {"month"}, Metric.certificates: {"category", "month"},
                 Metric.ashes_destinations: {"category", "month"}}


class StatisticsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Check(ge=1900, le=2200)
    month: int | None = Check(default=None, ge=1, le=12)
    province: str | None = Check(default=None, pattern=PROVINCE_PATTERN)
    level: Level = Level.province
    by: Dimension | None = None


class StatisticsRow(BaseModel):
    province: str
    area: str = Check(description="region code cut to the level: 2 (province), 4 (prefecture) or 6 (county) digits")
    value: str = Check(description="the value of the `by` dimension ('' without one)")
    count: int


class StatisticsTable(BaseModel):
    metric: Metric
    year: int
    month: int | None
    level: Level
    by: Dimension | None
    rows: list[StatisticsRow]


class Indicators(BaseModel):
    """One province's (or the nation's, province '') figures for a year."""
    province: str
    deaths: int
    cremations: int
    cremation_rate: float | None = Check(description="cremations / deaths; None without deaths")
    ashes_destinations: int
    eco_destinations: int
    eco_share: float | None = Check(description="节地生态安葬 destinations / all destinations; None without any")
    certificates_issued: int
    certificates_reissued: int
    certificates_cancelled: int


class IndicatorsTable(BaseModel):
    year: int
    provinces: list[Indicators]
    nation: Indicators


@router.get("/statistics/{metric}", response_model=StatisticsTable)
def statistics_table(metric: Metric, query: Annotated[StatisticsQuery, Query()], session: SessionDep, ctx: ContextDep,
                     principal: FiguresReader) -> StatisticsTable:
    """Counts of a metric for a year (or a month of it) per province, prefecture or county, optionally per value of
    one dimension (deaths: sex, age_band, category = cause, place; certificates: category = issued / reissued /
    cancelled; ashes_destinations: category = destination)."""
    if query.by is not None and query.by.value not in DIMENSIONS_OF[metric]:
        raise Invalid("by", "dimension", f"{metric.value} is not counted by {query.by.value}")
    rows = statistics.table(session, metric=metric.value, year=query.year, month=query.month,
                            province=query.province, level=query.level.value,
                            by=query.by.value if query.by else None)
    audit_read(session, ctx, principal, "national.statistics", {"metric": metric.value,
                **query.model_dump(mode="json", exclude_none=True)}, len(rows))
    return StatisticsTable(metric=metric, year=query.year, month=query.month, level=query.level, by=query.by,
                           rows=[StatisticsRow(**row) for row in rows])


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


class ExportQuery(StatisticsQuery):
    format: ExportFormat = ExportFormat.csv


EXPORT_TYPES = {ExportFormat.csv: "text/csv; charset=utf-8",
                ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.get("/statistics/{metric}/export", response_class=Response,
            responses={200: {"content": {t: {} for t in EXPORT_TYPES.values()},
                             "description": "the table as a file, Chinese headings"}})
def export_statistics(metric: Metric, query: Annotated[ExportQuery, Query()], session: SessionDep,
                      ctx: ContextDep, principal: FiguresReader) -> Response:
    """The same table as `/statistics/{metric}`, as a CSV or XLSX file to download; audited."""
    format = query.format
    table = statistics_table(metric, StatisticsQuery(**query.model_dump(exclude={"format"})), session, ctx,
                             principal)
    rows = [row.model_dump() for row in table.rows]
    name = f"{metric.value}-{query.year}{f'-{query.month:02d}' if query.month else ''}-{query.level.value}"
    body = exports.as_csv(rows) if format == ExportFormat.csv else exports.as_xlsx(rows, title=name)
    return Response(body, media_type=EXPORT_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{format.value}"'})


def _indicators(province: str, found: dict[str, dict[str, int]]) -> Indicators:
    deaths = sum(found["deaths"].values())
    cremations = sum(found["cremations"].values())
    destinations = found["ashes_destinations"]
    all_destinations = sum(destinations.values())
    eco = sum(count for kind, count in destinations.items() if kind in statistics.ECO_DESTINATIONS)
    certificates = found["certificates"]
    return Indicators(province=province, deaths=deaths, cremations=cremations,
                      cremation_rate=round(cremations / deaths, 4) if deaths else None,
                      ashes_destinations=all_destinations, eco_destinations=eco,
                      eco_share=round(eco / all_destinations, 4) if all_destinations else None,
                      certificates_issued=certificates.get("issued", 0),
                      certificates_reissued=certificates.get("reissued", 0),
                      certificates_cancelled=certificates.get("cancelled", 0))


class IndicatorsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Check(ge=1900, le=2200)


@router.get("/indicators", response_model=IndicatorsTable)
def indicators(query: Annotated[IndicatorsQuery, Query()], session: SessionDep, ctx: ContextDep,
               principal: FiguresReader) -> IndicatorsTable:
    """Per province and for the nation, for a year: deaths, cremations and the cremation rate, ashes destinations
    and the eco-burial share, certificates issued, reissued and cancelled."""
    by_metric = {"deaths": None, "cremations": None, "certificates": "category", "ashes_destinations": "category"}
    per_province: dict[str, dict[str, dict[str, int]]] = {}
    for metric, by in by_metric.items():
        for row in statistics.table(session, metric=metric, year=query.year, by=by):
            counted = per_province.setdefault(row["province"], {m: {} for m in by_metric})[metric]
            counted[row["value"]] = counted.get(row["value"], 0) + row["count"]
    nation: dict[str, dict[str, int]] = {m: {} for m in by_metric}
    for found in per_province.values():
        for metric, counted in found.items():
            for value, count in counted.items():
                nation[metric][value] = nation[metric].get(value, 0) + count
    table = IndicatorsTable(year=query.year, nation=_indicators("", nation),
                            provinces=[_indicators(p, per_province[p]) for p in sorted(per_province)])
    audit_read(session, ctx, principal, "national.indicators", {"year": query.year}, len(per_province))
    return table


def mount(app: FastAPI) -> None:
    app.include_router(router)

"""The ministry's registration completeness and KPI table (read only, audited), from the counters kept at ingest."""
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Response
from pydantic import BaseModel, ConfigDict
from pydantic import Field as Check

from registry.db_types import ChinaTime, utcnow
from registry.deps import API_PREFIX, ContextDep, FiguresReader, SessionDep
from registry.national import exports, kpis
from registry.national.service import audit_read
from registry.national.statistics_api import EXPORT_TYPES, ExportFormat

router = APIRouter(prefix=f"{API_PREFIX}/national", tags=["national database"])


class YearQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Check(ge=1900, le=2200)


class CompletenessExportQuery(YearQuery):
    format: ExportFormat = ExportFormat.csv


class CompletenessRow(BaseModel):
    province: str = Check(description="the province's slug; '' for the nation")
    province_code: str
    registered: int = Check(description="deaths registered in the year, by the day of death")
    expected: int | None = Check(description="population × crude death rate (yearbook); None without a figure")
    ratio: float | None = Check(description="registered / expected; None without an expected figure")
    source: str | None = Check(default=None, description="the yearbook edition and table the figure comes from")

    @classmethod
    def of(cls, row: kpis.Completeness) -> "CompletenessRow":
        return cls(province=row.province, province_code=row.province_code, registered=row.registered,
                   expected=row.expected, ratio=row.ratio, source=row.source)


class CompletenessTable(BaseModel):
    year: int
    provinces: list[CompletenessRow]
    nation: CompletenessRow = Check(description="over the provinces with an expected figure only")
    provinces_counted: int = Check(description="how many provinces the nation's ratio covers")


class KpiRowPublic(BaseModel):
    province: str
    province_code: str
    kpi: kpis.Kpi
    value: float | None = Check(description="a share (0-1), or for exchange_freshness the age in seconds; None: "
                                            "unknown (no expected figure, no active institution, never shipped)")
    target: float
    higher_is_better: bool
    status: kpis.Status
    numerator: int | None = Check(description="institutions online (or serving citizens online) / archived cases")
    denominator: int | None = Check(description="active institutions / expected deaths of the years")
    missing_years: list[int] = Check(description="backfill years without an expected figure, not counted")


class KpiTable(BaseModel):
    year: int
    as_of: ChinaTime
    online_next_target: float = Check(description="the plan's next stage for online institutions")
    rows: list[KpiRowPublic]


@router.get("/completeness", response_model=CompletenessTable)
def registration_completeness(query: Annotated[YearQuery, Query()], session: SessionDep, ctx: ContextDep,
                              principal: FiguresReader) -> CompletenessTable:
    """Per province and for the nation: deaths registered in the year against expected deaths (population ×
    crude death rate from the national statistical yearbook); a province without a yearbook figure has none."""
    rows, nation = kpis.completeness(session, year=query.year, own=ctx.settings.own_province)
    table = CompletenessTable(year=query.year, provinces=[CompletenessRow.of(row) for row in rows],
                              nation=CompletenessRow.of(nation), provinces_counted=nation.provinces_counted or 0)
    audit_read(session, ctx, principal, "national.completeness", {"year": query.year}, len(rows))
    return table


@router.get("/completeness/export", response_class=Response,
            responses={200: {"content": {t: {} for t in EXPORT_TYPES.values()},
                             "description": "the table as a file, Chinese headings, the nation last"}})
def export_completeness(query: Annotated[CompletenessExportQuery, Query()], session: SessionDep, ctx: ContextDep,
                        principal: FiguresReader) -> Response:
    """The completeness table as a CSV or XLSX file; audited."""
    table = registration_completeness(YearQuery(year=query.year), session, ctx, principal)
    rows = exports.completeness_rows(query.year, [row.model_dump() for row in (*table.provinces, table.nation)])
    name = f"completeness-{query.year}"
    body = exports.csv_file(exports.COMPLETENESS_HEADINGS, rows) if query.format == ExportFormat.csv else \
        exports.xlsx_file(exports.COMPLETENESS_HEADINGS, rows, title=name)
    return Response(body, media_type=EXPORT_TYPES[query.format],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{query.format.value}"'})


@router.get("/kpis", response_model=KpiTable)
def plan_kpis(query: Annotated[YearQuery, Query()], session: SessionDep, ctx: ContextDep,
              principal: FiguresReader) -> KpiTable:
    """The plan's targets per province: institutions online in the year (≥ 60 %), backfill of archived cases since
    2010 against expected deaths (≥ 95 %), age of the last accepted batch (≤ 24 h); each with pass / behind /
    unknown."""
    now = utcnow()
    rows = kpis.kpis(session, year=query.year, now=now, own=ctx.settings.own_province)
    table = KpiTable(year=query.year, as_of=now, online_next_target=kpis.ONLINE_NEXT_TARGET,
                     rows=[KpiRowPublic(**row.as_dict()) for row in rows])
    audit_read(session, ctx, principal, "national.kpis", {"year": query.year}, len(rows))
    return table


def mount(app: FastAPI) -> None:
    app.include_router(router)

"""The ministry's figures of online services per province and month (read only, audited), as JSON or a file."""
import uuid
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Response
from pydantic import BaseModel, ConfigDict
from pydantic import Field as Check
from sqlmodel import select

from registry.deps import API_PREFIX, ContextDep, FiguresReader, SessionDep
from registry.exchange.models import ExchangeCursor
from registry.national import exports, online_figures
from registry.national.models import PROVINCE_PATTERN
from registry.national.service import audit_read
from registry.national.statistics_api import EXPORT_TYPES, ExportFormat

router = APIRouter(prefix=f"{API_PREFIX}/national", tags=["national database"])

# the file's column headings, in the order of the figures
HEADINGS = {
    "province": "省份", "province_name": "省份名称", "month": "月份",
    "approvals_submitted": "审批申请数", "approvals_approved": "准予许可数", "approvals_rejected": "不予许可数",
    "approvals_refused": "不予受理数", "approvals_overdue": "超期办理数", "bookings_made": "预约数",
    "bookings_confirmed": "预约确认数", "bookings_cancelled": "预约取消数", "bookings_expired": "预约超时未确认数",
    "complaints_received": "投诉受理数", "complaints_answered": "投诉答复数", "complaints_upheld": "投诉属实数",
    "complaints_escalated": "投诉超期上报数", "ratings": "评价数", "rating_score_sum": "评分合计",
    "rating_average": "平均评分", "memorials_created": "网上纪念馆新建数", "memorials_removed": "网上纪念馆撤销数",
    "memorial_messages": "纪念留言数", "payments_paid": "缴费笔数", "payments_paid_fen": "缴费金额（分）",
    "payments_refunded": "退费笔数", "payments_refunded_fen": "退费金额（分）",
}


class OnlineQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Check(ge=1900, le=2200)
    month: int | None = Check(default=None, ge=1, le=12)
    province: str | None = Check(default=None, pattern=PROVINCE_PATTERN)
    institution_id: uuid.UUID | None = Check(default=None, description="one institution's figures only")


class OnlineExportQuery(OnlineQuery):
    format: ExportFormat = ExportFormat.csv


class OnlineFigures(BaseModel):
    province: str
    month: int
    approvals_submitted: int
    approvals_approved: int
    approvals_rejected: int = Check(description="不予许可 after review")
    approvals_refused: int = Check(description="不予受理: not accepted")
    approvals_overdue: int = Check(description="steps taken past their legal time limit, in the month taken")
    bookings_made: int
    bookings_confirmed: int
    bookings_cancelled: int
    bookings_expired: int = Check(description="holds that ran out unconfirmed")
    complaints_received: int
    complaints_answered: int
    complaints_upheld: int = Check(description="closed and found upheld (属实)")
    complaints_escalated: int = Check(description="not answered in time, sent up to the province")
    ratings: int
    rating_score_sum: int
    rating_average: float | None = Check(description="score sum / ratings; None without ratings")
    memorials_created: int
    memorials_removed: int
    memorial_messages: int
    payments_paid: int = Check(description="payment orders paid in the month (a later refund leaves it counted)")
    payments_paid_fen: int = Check(description="their amounts, in fen")
    payments_refunded: int = Check(description="payment orders refunded in the month")
    payments_refunded_fen: int = Check(description="their amounts, in fen")


class OnlineTable(BaseModel):
    year: int
    month: int | None
    rows: list[OnlineFigures] = Check(description="one per province and month with any figure, by province")


@router.get("/online-services", response_model=OnlineTable)
def online_services(query: Annotated[OnlineQuery, Query()], session: SessionDep, ctx: ContextDep,
                    principal: FiguresReader) -> OnlineTable:
    """Online services per province and month of a year (or one month; one province; one institution): approvals,
    bookings, complaints, ratings, memorials and payments (counts and amounts in fen), each counted in the month it
    happened."""
    rows = online_figures.figures(session, year=query.year, month=query.month, province=query.province,
                                  institution_id=query.institution_id)
    audit_read(session, ctx, principal, "national.online_services", query.model_dump(mode="json", exclude_none=True),
               len(rows))
    return OnlineTable(year=query.year, month=query.month, rows=[OnlineFigures(**row) for row in rows])


@router.get("/online-services/export", response_class=Response,
            responses={200: {"content": {t: {} for t in EXPORT_TYPES.values()},
                             "description": "the table as a file, Chinese headings"}})
def export_online_services(query: Annotated[OnlineExportQuery, Query()], session: SessionDep, ctx: ContextDep,
                           principal: FiguresReader) -> Response:
    """The same table as `/online-services`, as a CSV or XLSX file to download; audited."""
    table = online_services(OnlineQuery(**query.model_dump(exclude={"format"})), session, ctx, principal)
    codes = dict(session.exec(select(ExchangeCursor.province_slug, ExchangeCursor.province_code)).all())
    rows = [tuple(exports.area_name(codes.get(row.province, "")[:2]) if name == "province_name"
                  else row.model_dump()[name] for name in HEADINGS) for row in table.rows]
    name = f"online-services-{query.year}{f'-{query.month:02d}' if query.month else ''}"
    headings = tuple(HEADINGS.values())
    body = exports.csv_file(headings, rows) if query.format == ExportFormat.csv else \
        exports.xlsx_file(headings, rows, title=name)
    return Response(body, media_type=EXPORT_TYPES[query.format],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{query.format.value}"'})


def mount(app: FastAPI) -> None:
    app.include_router(router)

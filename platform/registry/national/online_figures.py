"""The ministry's figures of online services, read from the counters kept at ingest (registry.national.online_services):
per province and month, and the institutions that served citizens online (the plan's 90 % stage)."""
import uuid

from sqlalchemy import BigInteger, func
from sqlalchemy import select as sa_select
from sqlmodel import Session

from registry.national.online_models import NationalOnlineCount

# each figure: the counter's service and measure
FIGURES: dict[str, tuple[str, str]] = {
    "approvals_submitted": ("approval", "submitted"),
    "approvals_approved": ("approval", "approved"),
    "approvals_rejected": ("approval", "rejected"),  # 不予许可
    "approvals_refused": ("approval", "refused"),  # 不予受理
    "approvals_overdue": ("approval", "overdue"),  # a step taken past its legal time limit
    "bookings_made": ("booking", "made"),
    "bookings_confirmed": ("booking", "confirmed"),
    "bookings_cancelled": ("booking", "cancelled"),
    "bookings_expired": ("booking", "expired"),
    "complaints_received": ("complaint", "received"),
    "complaints_answered": ("complaint", "answered"),
    "complaints_upheld": ("complaint", "upheld"),
    "complaints_escalated": ("complaint", "escalated"),
    "ratings": ("rating", "rated"),
    "rating_score_sum": ("rating", "score"),
    "memorials_created": ("memorial", "created"),
    "memorials_removed": ("memorial", "removed"),
    "memorial_messages": ("memorial_message", "posted"),
    "payments_paid": ("payment", "paid"),
    "payments_paid_fen": ("payment", "paid_fen"),
    "payments_refunded": ("payment", "refunded"),
    "payments_refunded_fen": ("payment", "refunded_fen"),
}
_NAME_OF = {counter: name for name, counter in FIGURES.items()}
# online services an institution offers: citizens booked its halls and vehicles (or applied to it) online
SERVED = (("booking", "made"), ("approval", "submitted"))


def figures(session: Session, *, year: int, month: int | None = None, province: str | None = None,
            institution_id: uuid.UUID | None = None) -> list[dict]:
    """One row per province and month of `year` (or of one month), every figure in it (0 when none); a rating's
    average is its score sum over its count."""
    c = NationalOnlineCount.__table__.c
    query = sa_select(c.province_slug, c.month, c.service, c.measure, func.sum(c.count).cast(BigInteger)).where(
        c.year == year)
    if month is not None:
        query = query.where(c.month == month)
    if province is not None:
        query = query.where(c.province_slug == province)
    if institution_id is not None:
        query = query.where(c.institution == institution_id.hex)
    rows: dict[tuple[str, int], dict] = {}
    for slug, month_of, service, measure, count in session.execute(
            query.group_by(c.province_slug, c.month, c.service, c.measure)):
        name = _NAME_OF.get((service, measure))
        if name is None or not count:
            continue
        row = rows.setdefault((slug, month_of), {"province": slug, "month": month_of, **dict.fromkeys(FIGURES, 0)})
        row[name] = count
    for row in rows.values():
        row["rating_average"] = round(row["rating_score_sum"] / row["ratings"], 2) if row["ratings"] else None
    return [rows[key] for key in sorted(rows)]


def institutions_served(session: Session, *, year: int) -> dict[str, set[str]]:
    """Per province: the institutions (ids as hex) that citizens booked or applied to online in `year`."""
    c = NationalOnlineCount.__table__.c
    served: dict[str, set[str]] = {}
    for service, measure in SERVED:
        for slug, institution in session.execute(sa_select(c.province_slug, c.institution).where(
                c.year == year, c.service == service, c.measure == measure, c.institution != "").group_by(
                c.province_slug, c.institution).having(func.sum(c.count) > 0)):
            served.setdefault(slug, set()).add(institution)
    return served

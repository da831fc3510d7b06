"""Open and overdue approvals per kind on /metrics, counted at scrape time (one grouped query): never stale."""
from datetime import date

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine, case, func
from sqlmodel import Session, col, select

from registry.approvals.models import OPEN_STATUSES, Approval, ApprovalKind
from registry.db_types import today_in_china


class ApprovalsCollector:
    def __init__(self, engine: Engine):
        self._engine = engine

    def collect(self):
        try:
            with Session(self._engine) as session:
                counts = open_counts(session, today=today_in_china())
        except Exception:  # a down database (or one not migrated yet) shows as missing series; /readyz says why
            return
        open_ = GaugeMetricFamily("fsp_approvals_open", "Approvals waiting for a step of the administration, by kind",
                                  labels=["kind"])
        overdue = GaugeMetricFamily("fsp_approvals_overdue",
                                    "Open approvals past their legal time limit (working days), by kind",
                                    labels=["kind"])
        for kind, (total, late) in counts.items():
            open_.add_metric([kind.value], total)
            overdue.add_metric([kind.value], late)
        yield open_
        yield overdue


def open_counts(session: Session, *, today: date) -> dict[ApprovalKind, tuple[int, int]]:
    """Per kind: (open approvals, of which past their deadline); one grouped query, cheap enough for a scrape."""
    late = func.sum(case((col(Approval.due_on) < today, 1), else_=0))
    rows = session.exec(select(Approval.kind, func.count(), late).where(col(Approval.status).in_(OPEN_STATUSES))
                        .group_by(Approval.kind)).all()
    counts = {kind: (0, 0) for kind in ApprovalKind}
    counts.update({ApprovalKind(kind): (total, int(overdue or 0)) for kind, total, overdue in rows})
    return counts

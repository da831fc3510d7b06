"""The legal time limits of each approval step, in working days (registry.workdays), with their legal basis.

The one table: a step's deadline is `working_days` after the day it is counted from, that day not counted
(行政许可法 第八十二条: 期限以工作日计算，不含法定节假日).
"""
from dataclasses import dataclass
from datetime import date

from registry import workdays
from registry.approvals.models import ApprovalStatus


@dataclass(frozen=True)
class TimeLimit:
    working_days: int
    counted_from: str  # "submitted_on" or "accepted_on"
    basis: str


# what the administration owes while an application is in the status
TIME_LIMITS: dict[ApprovalStatus, TimeLimit] = {
    # accept or refuse within five days of receiving it, or say once what is missing
    ApprovalStatus.submitted: TimeLimit(5, "submitted_on", "《中华人民共和国行政许可法》第三十二条"),
    # the decision within twenty days of acceptance; the review is part of that time
    ApprovalStatus.accepted: TimeLimit(20, "accepted_on", "《中华人民共和国行政许可法》第四十二条"),
    ApprovalStatus.reviewed: TimeLimit(20, "accepted_on", "《中华人民共和国行政许可法》第四十二条"),
}


def due_on(status: ApprovalStatus, *, submitted_on: date, accepted_on: date | None) -> date | None:
    """The last day of the step the status waits for; None when nothing is owed (refused or decided)."""
    limit = TIME_LIMITS.get(status)
    if limit is None:
        return None
    start = submitted_on if limit.counted_from == "submitted_on" else accepted_on
    return workdays.add_working_days(start, limit.working_days)


def is_overdue(due: date | None, today: date) -> bool:
    """Past its deadline: the last day has gone by without the step."""
    return due is not None and today > due

"""The time limits of complaint handling, in working days (registry.workdays), each with its basis.

One table, so a province that sets other limits changes them here and the deadlines, the overdue sweep, the
counts and the pages all follow."""
from dataclasses import dataclass
from datetime import date

from registry import workdays


@dataclass(frozen=True)
class TimeLimit:
    working_days: int
    basis: str


TIME_LIMITS: dict[str, TimeLimit] = {
    # an answer from the institution (or the bureau) counted from the day the complaint was received; past it
    # the complaint goes up to the province (逾期未答复的，报省级民政部门督办)
    # a default, not a statute's number: the province sets its own under its complaint-handling rules
    "answer": TimeLimit(15, "默认期限，参照《信访工作条例》（2022）“自收到之日起15日内”的受理期限，"
                            "按工作日计算；各省依本省投诉处理规定调整"),
}


def answer_due(received_on: date) -> date:
    """The last day (China date) on which an answer is on time."""
    return workdays.add_working_days(received_on, TIME_LIMITS["answer"].working_days)

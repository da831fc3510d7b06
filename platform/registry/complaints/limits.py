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
    "answer": TimeLimit(15, "《信访工作条例》（2022）有关机关应自收到之日起15日内决定是否受理的做法，"
                            "按工作日计算；本省殡葬服务投诉处理办法的默认答复期限"),
}


def answer_due(received_on: date) -> date:
    """The last day (China date) on which an answer is on time."""
    return workdays.add_working_days(received_on, TIME_LIMITS["answer"].working_days)

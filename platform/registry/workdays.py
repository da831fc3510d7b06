"""Working days (工作日) for legal time limits: weekends and public holidays off, make-up working days (调休) on.

The holidays are the State Council General Office's yearly notice on public holiday arrangements (国务院办公厅关于
…年部分节假日安排的通知), entered here when it is published (each November for the year after). A year not entered
yet counts weekends only; `known(year)` says whether a limit in that year rests on the notice.
"""
from datetime import date, timedelta


def _days(first: str, last: str) -> frozenset[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return frozenset(start + timedelta(days=n) for n in range((end - start).days + 1))


# days off beyond weekends, per year, as each notice lists them
HOLIDAYS: dict[int, frozenset[date]] = {
    2025: frozenset().union(
        _days("2025-01-01", "2025-01-01"), _days("2025-01-28", "2025-02-04"), _days("2025-04-04", "2025-04-06"),
        _days("2025-05-01", "2025-05-05"), _days("2025-05-31", "2025-06-02"), _days("2025-10-01", "2025-10-08")),
    2026: frozenset().union(
        _days("2026-01-01", "2026-01-03"), _days("2026-02-15", "2026-02-23"), _days("2026-04-04", "2026-04-06"),
        _days("2026-05-01", "2026-05-05"), _days("2026-06-19", "2026-06-21"), _days("2026-09-25", "2026-09-27"),
        _days("2026-10-01", "2026-10-07")),
}
# weekend days worked instead (调休上班)
MAKEUP_WORKDAYS: dict[int, frozenset[date]] = {
    2025: frozenset(map(date.fromisoformat, ("2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"))),
    2026: frozenset(map(date.fromisoformat, ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20",
                                            "2026-10-10"))),
}


def known(year: int) -> bool:
    return year in HOLIDAYS


def is_working_day(day: date) -> bool:
    if day in MAKEUP_WORKDAYS.get(day.year, frozenset()):
        return True
    return day.weekday() < 5 and day not in HOLIDAYS.get(day.year, frozenset())


def add_working_days(start: date, count: int) -> date:
    """The `count`-th working day after `start` (a limit of 20 working days from a Friday submission ends 20
    working days later, the day of submission not counted)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    while count:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end is not after start)."""
    days, day = 0, start
    while day < end:
        day += timedelta(days=1)
        days += is_working_day(day)
    return days

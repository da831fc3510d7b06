"""Legal time limits in working days: weekends, holidays and make-up days as the State Council's notice sets them."""
from datetime import date

import pytest

from registry import workdays


def test_a_limit_skips_the_weekend():
    friday = date(2026, 3, 6)
    assert workdays.add_working_days(friday, 1) == date(2026, 3, 9)
    assert workdays.add_working_days(friday, 5) == date(2026, 3, 13)
    assert workdays.add_working_days(friday, 0) == friday


def test_the_spring_festival_is_off_and_its_make_up_saturday_is_worked():
    assert not workdays.is_working_day(date(2026, 2, 16))  # a Monday of the Spring Festival
    assert workdays.is_working_day(date(2026, 2, 14))  # the Saturday worked before it
    # submitted Friday 13 February: Saturday 14 counts, then nothing until Tuesday 24
    assert workdays.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)


def test_national_day_week_counts_as_no_working_days():
    assert workdays.working_days_between(date(2026, 9, 30), date(2026, 10, 7)) == 0
    assert workdays.working_days_between(date(2026, 9, 30), date(2026, 10, 9)) == 2  # Thursday 8 and Friday 9


def test_years_without_a_notice_count_weekends_only_and_say_so():
    assert workdays.known(2026) and not workdays.known(2031)
    assert workdays.add_working_days(date(2031, 10, 1), 1) == date(2031, 10, 2)


def test_between_and_add_agree():
    start = date(2025, 12, 24)
    for count in range(0, 40):
        assert workdays.working_days_between(start, workdays.add_working_days(start, count)) == count


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError):
        workdays.add_working_days(date(2026, 1, 5), -1)

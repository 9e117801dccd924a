"""The business-day calendar (rulebook §0.5, §2.2 ``BUSINESS_DAYS``; ADR 0060)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from statemachines import UTC, ClockError, NaiveDatetime
from statemachines.core.clock import BUSINESS_DAYS, BusinessCalendar

FRIDAY = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        (FRIDAY, 0, FRIDAY),
        (FRIDAY, 1, datetime(2026, 3, 9, 10, 0, tzinfo=UTC)),  # Monday
        (FRIDAY, 5, datetime(2026, 3, 13, 10, 0, tzinfo=UTC)),  # next Friday
        (SATURDAY, 1, datetime(2026, 3, 10, 0, 0, tzinfo=UTC)),  # Monday counted whole
        (SATURDAY, 5, datetime(2026, 3, 14, 0, 0, tzinfo=UTC)),  # end of next Friday
        (datetime(2026, 3, 2, 0, 0, tzinfo=UTC), 5, datetime(2026, 3, 7, 0, 0, tzinfo=UTC)),
        (
            datetime(2026, 3, 4, 23, 59, 59, tzinfo=UTC),
            10,
            datetime(2026, 3, 18, 23, 59, 59, tzinfo=UTC),
        ),
    ],
)
def test_business_days_count_only_time_on_weekdays(
    start: datetime, days: int, end: datetime
) -> None:
    assert BUSINESS_DAYS.add(start, days) == end


def test_a_holiday_is_skipped_like_a_weekend() -> None:
    calendar = BusinessCalendar([date(2026, 3, 9)])  # that Monday off

    assert not calendar.is_business_day(date(2026, 3, 9))
    assert calendar.add(FRIDAY, 1) == FRIDAY + timedelta(days=4)
    assert BUSINESS_DAYS.is_business_day(date(2026, 3, 9))
    assert repr(calendar) == "BusinessCalendar([2026-03-09])"


def test_five_business_days_are_never_less_than_five_days() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(24 * 14):
        end = BUSINESS_DAYS.add(moment, 5)
        assert timedelta(days=5) <= end - moment <= timedelta(days=7)
        moment += timedelta(hours=1)


@pytest.mark.parametrize("days", [-1, 1.5, True])
def test_a_count_of_business_days_is_a_whole_number(days: object) -> None:
    with pytest.raises(ClockError, match="whole number, 0 or more"):
        BUSINESS_DAYS.add(FRIDAY, days)  # type: ignore[arg-type]


def test_bad_holidays_and_naive_starts_are_refused() -> None:
    with pytest.raises(ClockError, match="a holiday is a date"):
        BusinessCalendar([FRIDAY])
    with pytest.raises(NaiveDatetime):
        BUSINESS_DAYS.add(datetime(2026, 3, 6, 10, 0), 1)  # noqa: DTZ001

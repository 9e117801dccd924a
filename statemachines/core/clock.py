"""Time as an input: the :class:`Clock` protocol, the wall clock and a manual clock.

This is the only module allowed to read the wall clock (ruff's banned-api rule
``TID251`` enforces it everywhere else). Every datetime the library accepts must
be timezone-aware; it is normalised to UTC.

>>> clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
>>> clock.advance(days=14).isoformat()
'2026-01-19T09:00:00+00:00'
>>> clock.set(datetime(2026, 1, 1, tzinfo=UTC))
Traceback (most recent call last):
...
statemachines.errors.ClockError: a manual clock never goes backwards: ...

Business days (rulebook §0.5, §2.2, ``BUSINESS_DAYS``) are Monday to Friday in UTC,
with no holidays unless a :class:`BusinessCalendar` is given some. A period of
*N* business days ends once *N* x 24 hours of business-day time have passed, so
five business days from a Friday at 10:00 end the next Friday at 10:00, and from
a Saturday they end at the start of the next Saturday (ADR 0060):

>>> print(format_utc(BUSINESS_DAYS.add(datetime(2026, 3, 6, 10, 0, tzinfo=UTC), 5)))
2026-03-13 10:00:00 UTC
>>> print(format_utc(BUSINESS_DAYS.add(datetime(2026, 3, 7, 10, 0, tzinfo=UTC), 5)))
2026-03-14 00:00:00 UTC
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable

from statemachines.errors import ClockError, NaiveDatetime

__all__ = [
    "BUSINESS_DAYS",
    "UTC",
    "BusinessCalendar",
    "Clock",
    "ManualClock",
    "SystemClock",
    "ensure_utc",
    "format_utc",
]


def ensure_utc(value: datetime, *, what: str = "datetime") -> datetime:
    """Return *value* in UTC, or raise :class:`NaiveDatetime` if it has no timezone."""
    raw: object = value  # callers without type checking can pass anything
    if isinstance(raw, datetime) and raw.tzinfo is UTC:  # the common case, checked first
        return raw
    if not isinstance(raw, datetime):
        msg = f"{what} must be a datetime, got {type(value).__name__} {value!r}"
        raise NaiveDatetime(msg)
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        msg = (
            f"{what} {value.isoformat()} has no timezone; "
            "pass an aware UTC datetime, e.g. datetime(..., tzinfo=UTC)"
        )
        raise NaiveDatetime(msg)
    if value.tzinfo is UTC:
        return value
    return value.astimezone(UTC)


def format_utc(value: datetime) -> str:
    """Format an aware datetime for people: ``2026-01-19 09:00:00 UTC``."""
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The wall clock, in UTC. Use it in production; use :class:`ManualClock` in tests."""

    __slots__ = ()

    def now(self) -> datetime:
        """Return the wall-clock time in UTC."""
        return datetime.now(tz=UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that moves only when told to, and never backwards."""

    __slots__ = ("_now",)

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start, what="start")

    def now(self) -> datetime:
        """Return the time the clock was last set to."""
        return self._now

    def set(self, to: datetime) -> datetime:
        """Move the clock to *to*, which must not be earlier than the current reading."""
        target = ensure_utc(to, what="target time")
        if target < self._now:
            msg = (
                "a manual clock never goes backwards: it reads "
                f"{format_utc(self._now)}, asked for {format_utc(target)}"
            )
            raise ClockError(msg)
        self._now = target
        return target

    def advance(
        self,
        *,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
        weeks: float = 0,
    ) -> datetime:
        """Move forward by the given amount of time and return the new reading."""
        step = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds, weeks=weeks)
        return self.set(self._now + step)

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()})"


_DAY = timedelta(days=1)


class BusinessCalendar:
    """Which UTC days are business days: Monday to Friday, minus *holidays*.

    A period of *N* business days is *N* x 24 hours of time that falls on business
    days, counted from a moment; time on weekends and holidays does not count.
    """

    __slots__ = ("holidays",)

    def __init__(self, holidays: Iterable[date] = ()) -> None:
        days = frozenset(holidays)
        for day in days:
            raw: object = day  # callers without type checking can pass anything
            if not isinstance(raw, date) or isinstance(raw, datetime):
                msg = f"a holiday is a date, got {type(day).__name__} {day!r}"
                raise ClockError(msg)
        self.holidays = days

    def is_business_day(self, day: date) -> bool:
        """True for Monday to Friday, unless *day* is a holiday."""
        return day.weekday() < 5 and day not in self.holidays

    def add(self, start: datetime, days: int) -> datetime:
        """The moment *days* business days after *start* (UTC)."""
        raw: object = days
        if isinstance(raw, bool) or not isinstance(raw, int) or days < 0:
            msg = f"a number of business days is a whole number, 0 or more, not {days!r}"
            raise ClockError(msg)
        moment = ensure_utc(start, what="start")
        left = days * _DAY
        while left:
            midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0) + _DAY
            if self.is_business_day(moment.date()):
                room = midnight - moment
                if left <= room:
                    return moment + left
                left -= room
            moment = midnight
        return moment

    def __repr__(self) -> str:
        days = ", ".join(sorted(d.isoformat() for d in self.holidays))
        return f"BusinessCalendar([{days}])" if days else "BusinessCalendar()"


BUSINESS_DAYS = BusinessCalendar()
"""The default calendar: Monday to Friday UTC, no holidays (rulebook §2.4 ``BUSINESS_DAYS``)."""

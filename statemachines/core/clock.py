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
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from statemachines.errors import ClockError, NaiveDatetime

__all__ = ["UTC", "Clock", "ManualClock", "SystemClock", "ensure_utc", "format_utc"]


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

"""Checks of an aggregate's fields when it is built: the right types, read off its type hints.

An aggregate calls :func:`check_fields` from ``__attrs_post_init__``, so a constructor (and
a snapshot being loaded) refuses a wrong value with one
:class:`~statemachines.errors.InvalidInput` naming the field, before anything uses it:

* every field holds its annotated type: enums, :class:`~statemachines.core.money.Money`,
  strings, booleans (a bool is not an int, an int is not a bool), tuples of their item
  type, ``None`` only where the hint allows it;
* integers are counts, never negative;
* datetimes are aware and in UTC;
* amounts are in the aggregate's currency (its ``currency``).

Events change fields only through the machine's checked transitions, so nothing is checked
again when a field is set: the hot path pays nothing.

>>> import attrs
>>> @attrs.define
... class Jar:
...     id: str
...     coins: int = 0
...     def __attrs_post_init__(self) -> None:
...         check_fields(self)
>>> Jar("J-1", coins=-2)
Traceback (most recent call last):
...
statemachines.errors.InvalidInput: Jar.coins is a count, never negative; got -2
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

import attrs

from statemachines.core.money import Money
from statemachines.errors import InvalidInput, NaiveDatetime

__all__ = ["LOADER_CHECKED", "check_fields"]

Check = Callable[[Any], str | None]
"""Why a value does not fit, or ``None``."""

_ZERO = timedelta(0)


def _got(value: Any) -> str:
    return f"got {type(value).__name__} {value!r}"


def _instance(kind: type) -> Check:
    label = kind.__name__

    def check(value: Any) -> str | None:
        return None if isinstance(value, kind) else f"must be {label}, {_got(value)}"

    return check


def _exactly(kind: type) -> Check:
    label = kind.__name__

    def check(value: Any) -> str | None:
        return None if type(value) is kind else f"must be {label}, {_got(value)}"

    return check


def _count(value: Any) -> str | None:
    if type(value) is not int:
        return f"must be a whole number, {_got(value)}"
    return None if value >= 0 else f"is a count, never negative; got {value}"


def _moment(value: Any) -> str | None:
    if not isinstance(value, datetime):
        return f"must be a datetime, {_got(value)}"
    offset = value.utcoffset()
    if offset is None:
        return f"must be an aware datetime in UTC, got the naive {value.isoformat()}"
    return None if offset == _ZERO else f"must be in UTC, got {value.isoformat()}"


def _optional(inner: Check) -> Check:
    def check(value: Any) -> str | None:
        return None if value is None else inner(value)

    return check


def _items(inner: Check) -> Check:
    def check(value: Any) -> str | None:
        if type(value) is not tuple:
            return f"must be a tuple, {_got(value)}"
        for i, item in enumerate(value):
            problem = inner(item)
            if problem is not None:
                return f"[{i}] {problem}"
        return None

    return check


def _fixed(checks: tuple[Check, ...]) -> Check:
    def check(value: Any) -> str | None:
        if type(value) is not tuple or len(value) != len(checks):
            return f"must be a tuple of {len(checks)}, {_got(value)}"
        for i, (item, inner) in enumerate(zip(value, checks, strict=True)):
            problem = inner(item)
            if problem is not None:
                return f"[{i}] {problem}"
        return None

    return check


def _anything(value: Any) -> str | None:
    return None


def _check_for(hint: Any) -> Check:  # noqa: PLR0911  (one return per kind of hint)
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return _optional(_check_for(args[0]))
        return _anything
    if origin is tuple:
        items = typing.get_args(hint)
        if len(items) == 2 and items[1] is Ellipsis:
            return _items(_check_for(items[0]))
        return _fixed(tuple(_check_for(item) for item in items))
    if origin is list:
        return _exactly(list)
    if hint is bool or hint is str:
        return _exactly(hint)
    if hint is int:
        return _count
    if hint is datetime:
        return _moment
    if hint is Money:
        return _exactly(Money)
    if isinstance(hint, type) and (issubclass(hint, enum.Enum) or attrs.has(hint)):
        return _instance(hint)
    return _anything


_PLANS: dict[type, tuple[tuple[str, Check], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, Check], ...]:
    plan = _PLANS.get(cls)
    if plan is None:
        hints = typing.get_type_hints(cls)
        fields = attrs.fields(cls)
        plan = _PLANS[cls] = tuple((f.name, _check_for(hints[f.name])) for f in fields)
    return plan


LOADER_CHECKED: ContextVar[bool] = ContextVar("statemachines_loader_checked", default=False)
"""True while the snapshot loader builds aggregates (in this thread or task only): it has
read every field with a strict hook of its own type and checks the amounts' currency
(:mod:`statemachines.core.snapshots`), so :func:`check_fields` would only repeat it."""


def check_fields(obj: Any) -> None:
    """Raise :class:`InvalidInput` for the first field of *obj* that does not fit its hint."""
    if LOADER_CHECKED.get():
        return
    cls = type(obj)
    for name, check in _plan(cls):
        value = getattr(obj, name)
        problem = check(value)
        if problem is not None:
            kind = NaiveDatetime if "naive" in problem else InvalidInput
            raise _named(kind(f"{cls.__name__}.{name} {problem}"), name, problem)
    currency = getattr(obj, "currency", None)
    if type(currency) is not str:
        return
    for name, _ in _plan(cls):
        value = getattr(obj, name)
        if type(value) is Money and value.currency != currency:
            problem = f"{value} is in {value.currency}, but {obj.id} counts in {currency}"
            raise _named(InvalidInput(f"{cls.__name__}.{name}: {problem}"), name, problem)


def _named(error: InvalidInput, field: str, problem: str) -> InvalidInput:
    """*error*, carrying the field it is about and the problem alone (a snapshot's loader
    reports them as the field path and its reason)."""
    error.field = field  # type: ignore[attr-defined]
    error.problem = problem  # type: ignore[attr-defined]
    return error

"""One cattrs converter for the library's values, and the paths of the errors it finds.

Snapshots (:mod:`statemachines.core.snapshots`) and scenario files
(:mod:`statemachines.publish.scenarios`) both read JSON-like data into typed values
through :func:`make_converter`. It is stricter than cattrs' defaults: a ``str`` field
takes only a string (``5`` is not turned into ``"5"``), an ``int`` only an int (``True``
and ``"2"`` are refused), a list only a list, an object exactly the keys of its class.
Amounts, aware UTC datetimes, enums, deadlines and actors have hooks of their own.

A value that cannot be read raises a cattrs validation error (an exception group);
:func:`problems` turns it into ``(path, reason)`` pairs such as
``("history[1].event", "milestone has no event 'teleport'")``.

>>> from statemachines.core.money import Money
>>> conv = make_converter()
>>> conv.structure({"cents": 500, "currency": "USD"}, Money)
Money(500, 'USD')
>>> conv.unstructure(Money(500))
{'cents': 500, 'currency': 'USD'}
>>> try:
...     conv.structure(["5", 6], tuple[int, ...])
... except Exception as err:
...     print(problems(err))
[('[0]', "expected int, got str '5'")]
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.fns import identity
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

from statemachines.core.actors import Actor, Role
from statemachines.core.clock import UTC
from statemachines.core.engine import Deadline
from statemachines.core.money import Money
from statemachines.errors import InvalidInput

__all__ = [
    "Invalid",
    "Remembered",
    "enum_hook",
    "fields_message",
    "iso",
    "make_converter",
    "problems",
    "read_datetime",
]

Hook = Callable[[Any, Any], Any]


class Invalid(ValueError):
    """A value a hook cannot read: *text* says why, *where* is the path below the value."""

    def __init__(self, text: str, where: tuple[str | int, ...] = ()) -> None:
        super().__init__(text)
        self.text = text
        self.where = where


# --------------------------------------------------------------------------- error paths


def _join(path: str, step: str | int) -> str:
    if isinstance(step, int):
        return f"{path}[{step}]"
    return f"{path}.{step}" if path else step


def problems(exc: BaseException, path: str = "") -> list[tuple[str, str]]:  # noqa: PLR0911  (one case per kind of error)
    """Every ``(path, reason)`` in a structuring error, in the order the fields were read."""
    if isinstance(exc, ClassValidationError):
        with_notes, without = exc.group_exceptions()
        found = [p for sub, note in with_notes for p in problems(sub, _join(path, note.name))]
        return found + [p for sub in without for p in problems(sub, path)]
    if isinstance(exc, IterableValidationError):
        with_index, rest = exc.group_exceptions()
        found = [p for sub, note in with_index for p in problems(sub, _join(path, note.index))]
        return found + [p for sub in rest for p in problems(sub, path)]
    if isinstance(exc, Invalid):
        for step in exc.where:
            path = _join(path, step)
        return [(path, exc.text)]
    if isinstance(exc, ForbiddenExtraKeysError):
        return [(path, f"unexpected field(s) {', '.join(map(repr, sorted(exc.extra_fields)))}")]
    if isinstance(exc, KeyError):
        return [(path, f"missing field {exc.args[0]!r}")]
    field = getattr(exc, "field", None)
    if isinstance(exc, InvalidInput) and isinstance(field, str):
        return [(_join(path, field), str(getattr(exc, "problem", exc)))]
    return [(path, str(exc))]


def fields_message(what: str, expected: Iterable[str], given: Iterable[Any]) -> str:
    """Say which keys of an object are missing or unexpected."""
    want, got = list(expected), set(given)
    missing = [n for n in want if n not in got]
    extra = sorted(map(str, got - set(want)))
    parts = []
    if missing:
        parts.append(f"missing field(s) {', '.join(map(repr, missing))}")
    if extra:
        parts.append(f"unexpected field(s) {', '.join(map(repr, extra))}")
    return f"{what}: {'; '.join(parts)}" if what else "; ".join(parts)


def _got(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


# --------------------------------------------------------------------------- value hooks


def _strict(kind: type) -> Hook:
    name = kind.__name__

    def hook(value: Any, _: Any) -> Any:
        if type(value) is kind:
            return value
        msg = f"expected {name}, got {_got(value)}"
        raise Invalid(msg)

    return hook


def _count(value: Any, _: Any) -> int:
    if type(value) is int and value >= 0:
        return value
    if type(value) is int:
        msg = f"expected a count (0 or more), got {value}"
        raise Invalid(msg)
    msg = f"expected int, got {_got(value)}"
    raise Invalid(msg)


_AMOUNTS: dict[tuple[int, str], Money] = {}


def _money(value: Any, _: Any) -> Money:
    if type(value) is not dict:
        msg = f'expected an amount like {{"cents": 500, "currency": "USD"}}, got {_got(value)}'
        raise Invalid(msg)
    if len(value) != 2 or "cents" not in value or "currency" not in value:
        msg = f'an amount has exactly "cents" and "currency", got {sorted(value)}'
        raise Invalid(msg)
    cents, currency = value["cents"], value["currency"]
    if type(cents) is int and type(currency) is str:
        # Amounts are immutable and the same few recur (zero most of all): share them.
        known = _AMOUNTS.get((cents, currency))
        if known is not None:
            return known
    try:
        money = Money(cents, currency)
    except ValueError as err:
        raise Invalid(str(err)) from None
    if len(_AMOUNTS) > 50_000:
        _AMOUNTS.clear()
    _AMOUNTS[cents, currency] = money
    return money


K = TypeVar("K")
V = TypeVar("V")


class Remembered(dict[K, V]):
    """A dict that computes a missing value with *compute* and keeps it, emptied when it
    holds *size* values: for the few moments and texts a process keeps meeting. A hit is a
    plain dict look-up (``__missing__`` runs only on a miss); a *compute* that raises
    keeps nothing.

    >>> lengths = Remembered(len, size=2)
    >>> lengths["ab"], lengths["abc"], len(lengths)
    (2, 3, 2)
    >>> lengths["a"], len(lengths)
    (1, 1)
    """

    __slots__ = ("compute", "size")

    def __init__(self, compute: Callable[[K], V], size: int = 4_096) -> None:
        super().__init__()
        self.compute = compute
        self.size = size

    def __missing__(self, key: K) -> V:
        value = self.compute(key)
        if len(self) >= self.size:
            self.clear()
        self[key] = value
        return value


def iso(moment: datetime) -> str:
    """``moment.isoformat()``, remembered for UTC moments: a command writes the same moment
    several times (its decision, the fields it stamps, the deadlines it sets, its event),
    and a datetime keeps its hash once computed, so a look-up costs a tenth of formatting."""
    if moment.tzinfo is not UTC:  # equal instants in other offsets have other texts
        return moment.isoformat()
    return _TEXTS[moment]


def read_datetime(value: Any) -> datetime:
    """An ISO-8601 text with a UTC offset, as an aware UTC datetime; else :class:`Invalid`.

    A text read before gives the same (immutable) datetime back, whose hash :func:`iso`
    finds computed when the aggregate is written again.
    """
    if type(value) is not str:
        msg = f"expected an ISO-8601 timestamp with a UTC offset, got {_got(value)}"
        raise Invalid(msg)
    return _MOMENTS[value]


def _parse_datetime(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        msg = f"{value!r} is not an ISO-8601 timestamp"
        raise Invalid(msg) from None
    if parsed.tzinfo is UTC:  # "+00:00" parses to the UTC singleton: the common case
        return parsed
    if parsed.tzinfo is None:
        msg = f"timestamp {value!r} has no UTC offset; naive times are not accepted"
        raise Invalid(msg)
    return parsed.astimezone(UTC)


_TEXTS = Remembered(datetime.isoformat)
_MOMENTS = Remembered(_parse_datetime)


def _datetime(value: Any, _: Any) -> datetime:
    return read_datetime(value)


def enum_hook(kind: type[enum.Enum], what: str = "") -> Hook:
    """Structure an enum from its value; the error lists the values (``what`` names them)."""
    members = {m.value: m for m in kind}
    allowed = ", ".join(str(v) if what else repr(v) for v in members)
    text = f"is not {what} ({allowed})" if what else f"is not one of {allowed}"

    def hook(value: Any, _: Any) -> Any:
        try:
            return members[value]
        except (KeyError, TypeError):
            msg = f"{value!r} {text}"
            raise Invalid(msg) from None

    return hook


def _enum_value(value: enum.Enum) -> Any:
    return value._value_


_ACTORS: dict[tuple[str, Role, str | None], Actor] = {}
_ROLES = enum_hook(Role)


def _actor(value: Any, _: Any) -> Actor:
    # The same few people act in thousands of decisions: share one Actor per person and
    # role (actors are immutable), which saves memory when many aggregates load.
    if type(value) is not dict:
        msg = f"expected an actor object, got {_got(value)}"
        raise Invalid(msg)
    if len(value) != 3 or "id" not in value or "role" not in value or "party" not in value:
        msg = f"an actor has id, role and party, got {sorted(value)}"
        raise Invalid(msg)
    key, party = value["id"], value["party"]
    if type(key) is not str or not key:
        msg = f"expected a non-empty str, got {_got(key)}"
        raise Invalid(msg, ("id",))
    if party is not None and type(party) is not str:
        msg = f"expected str or null, got {_got(party)}"
        raise Invalid(msg, ("party",))
    try:
        role = _ROLES(value["role"], Role)
    except Invalid as bad:
        raise Invalid(bad.text, ("role",)) from None
    actor = _ACTORS.get((key, role, party))
    if actor is None:
        if len(_ACTORS) > 50_000:
            _ACTORS.clear()
        actor = _ACTORS[key, role, party] = Actor(key, role, party)
    return actor


def _deadline(value: Any, _: Any) -> Deadline:
    if type(value) is not dict:
        msg = f"expected a deadline object, got {_got(value)}"
        raise Invalid(msg)
    if len(value) != 3 or "key" not in value or "event" not in value or "due" not in value:
        msg = f'a deadline has "key", "event" and "due", got {sorted(value)}'
        raise Invalid(msg)
    key, event = value["key"], value["event"]
    if type(key) is not str:
        msg = f"expected str, got {_got(key)}"
        raise Invalid(msg, ("key",))
    if type(event) is not str:
        msg = f"expected str, got {_got(event)}"
        raise Invalid(msg, ("event",))
    try:
        due = read_datetime(value["due"])
    except Invalid as bad:
        raise Invalid(bad.text, ("due",)) from None
    return Deadline(key, event, due)


def _dump_deadline(d: Deadline) -> dict[str, Any]:
    return {"key": d.key, "event": d.event, "due": iso(d.due)}


# --------------------------------------------------------------------------- shapes


def _optional(hint: Any) -> Any | None:
    """The inner type of ``X | None``, or ``None`` for any other hint."""
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        args = typing.get_args(hint)
        inner = [a for a in args if a is not type(None)]
        if len(args) == 2 and len(inner) == 1:
            return inner[0]
    return None


def _is_tuple(hint: Any) -> bool:
    return typing.get_origin(hint) is tuple


def _tuple_items(hint: Any) -> tuple[Any, ...] | Any:
    """``X`` for ``tuple[X, ...]``; the tuple of item types for ``tuple[X, Y]``."""
    args = typing.get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    return args


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        msg = f"expected a list, got {_got(value)}"
        raise Invalid(msg)
    return value


def _structure_tuple(conv: cattrs.Converter, hint: Any) -> Hook:
    items = _tuple_items(hint)
    if isinstance(items, tuple):  # a fixed-length tuple: tuple[str, str]
        hooks = [conv.get_structure_hook(t) for t in items]

        def fixed(value: Any, _: Any) -> tuple[Any, ...]:
            if len(_list(value)) != len(hooks):
                msg = f"expected a list of {len(hooks)} items, got {len(value)}"
                raise Invalid(msg)
            return _each(value, hooks, items)

        return fixed
    hook = conv.get_structure_hook(items)

    def many(value: Any, _: Any) -> tuple[Any, ...]:
        try:
            return tuple([hook(v, items) for v in _list(value)])
        except Exception:
            return _each(_list(value), [hook] * len(value), [items] * len(value))

    return many


def _each(value: list[Any], hooks: list[Hook], kinds: Iterable[Any]) -> tuple[Any, ...]:
    out, errors = [], []
    for i, (item, hook, kind) in enumerate(zip(value, hooks, kinds, strict=True)):
        try:
            out.append(hook(item, kind))
        except Exception as err:
            note = IterableValidationNote(f"Structuring item @ index {i}", i, kind)
            err.__notes__ = [*getattr(err, "__notes__", []), note]
            errors.append(err)
    if errors:
        msg = "while structuring a list"
        raise IterableValidationError(msg, errors, tuple)
    return tuple(out)


def _unstructure_tuple(conv: cattrs.Converter, hint: Any) -> Callable[[Any], Any]:
    items = _tuple_items(hint)
    if isinstance(items, tuple):
        hooks = [conv.get_unstructure_hook(t) for t in items]
        return lambda value: [h(v) for h, v in zip(hooks, value, strict=True)]
    if items in (str, int, bool):
        return list
    hook = conv.get_unstructure_hook(items)
    return lambda value: [hook(v) for v in value]


def _structure_optional(conv: cattrs.Converter, hint: Any) -> Hook:
    inner = _optional(hint)
    hook = conv.get_structure_hook(inner)

    def optional(value: Any, _: Any) -> Any:
        return None if value is None else hook(value, inner)

    return optional


def _unstructure_optional(conv: cattrs.Converter, hint: Any) -> Callable[[Any], Any]:
    inner = _optional(hint)
    if inner in (str, int, bool):
        return identity  # cattrs writes the attribute itself, with no call
    hook = conv.get_unstructure_hook(inner)
    return lambda value: None if value is None else hook(value)


def _structure_record(conv: cattrs.Converter, kind: type) -> Hook:
    # A frozen attrs value (a billing week, a payment): exactly its fields, by name.
    names = [f.name for f in attrs.fields(kind)]
    keys = frozenset(names)
    inner: Hook = make_dict_structure_fn(kind, conv, _cattrs_forbid_extra_keys=False)
    what = f"a {kind.__name__} has the fields {sorted(names)}"

    def record(value: Any, _: Any) -> Any:
        if type(value) is not dict:
            msg = f"expected an object, got {_got(value)}"
            raise Invalid(msg)
        if value.keys() != keys:
            raise Invalid(fields_message(what, names, value))
        return inner(value, kind)

    return record


def make_converter(*, counts: bool = False) -> cattrs.Converter:
    """A strict converter with the library's value hooks.

    With *counts*, every ``int`` is a count and must be 0 or more (snapshots: their
    integers are submissions, minutes and hours, never signed).
    """
    conv = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    conv.register_structure_hook(str, _strict(str))
    conv.register_structure_hook(bool, _strict(bool))
    conv.register_structure_hook(int, _count if counts else _strict(int))
    conv.register_structure_hook(Money, _money)
    conv.register_unstructure_hook(Money, Money.to_dict)
    conv.register_structure_hook(datetime, _datetime)
    conv.register_unstructure_hook(datetime, iso)
    conv.register_structure_hook(Deadline, _deadline)
    conv.register_unstructure_hook(Deadline, _dump_deadline)
    conv.register_structure_hook(Actor, _actor)
    conv.register_unstructure_hook(Actor, Actor.to_dict)
    conv.register_structure_hook_factory(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), enum_hook
    )
    conv.register_unstructure_hook_factory(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), lambda _: _enum_value
    )
    conv.register_structure_hook_factory(_is_tuple, lambda t: _structure_tuple(conv, t))
    conv.register_unstructure_hook_factory(_is_tuple, lambda t: _unstructure_tuple(conv, t))
    conv.register_structure_hook_factory(
        lambda t: _optional(t) is not None, lambda t: _structure_optional(conv, t)
    )
    conv.register_unstructure_hook_factory(
        lambda t: _optional(t) is not None, lambda t: _unstructure_optional(conv, t)
    )
    conv.register_structure_hook_factory(attrs.has, lambda t: _structure_record(conv, t))
    conv.register_unstructure_hook_factory(attrs.has, lambda t: make_dict_unstructure_fn(t, conv))
    return conv

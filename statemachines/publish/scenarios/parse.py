"""Reading the values of a scenario (times, spans, amounts, roles, actors) and its converter.

The same readers serve the command line's ``--at``, ``--actor`` and ``--with``. The
converter is the library's (:func:`statemachines.core.convert.make_converter`) with
scenario-friendly hooks: amounts as text (``"200.00"``), times from YAML timestamps,
spans of time, and objects that may leave out fields that have defaults.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import cattrs
from cattrs import BaseValidationError
from cattrs.gen import make_dict_structure_fn, override

from statemachines.core.actors import SYSTEM, Actor, Role
from statemachines.core.clock import UTC, ManualClock
from statemachines.core.convert import Invalid, make_converter, problems
from statemachines.core.engine import SPECS_BY_MODEL, MachineSpec, Workflow
from statemachines.core.money import Money
from statemachines.errors import InvalidInput

__all__ = [
    "CONVERTER",
    "ScenarioError",
    "build",
    "convert_argument",
    "describe",
    "parse_actor",
    "parse_money",
    "parse_role",
    "parse_span",
    "parse_time",
    "spec_of",
    "structure_hook",
    "workflow_for",
]


class ScenarioError(Exception):
    """A scenario file cannot be read or names something that does not exist."""

    def __init__(self, text: str, where: str = "") -> None:
        super().__init__(f"{where}: {text}" if where else text)
        self.where = where
        self.text = text


# --------------------------------------------------------------------------- values


def parse_time(value: Any, what: str = "time") -> datetime:
    """An aware UTC datetime from YAML or command-line text; naive times are refused."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        day = value.isoformat()
        msg = f"{what} {day} is a date; give a time with a UTC offset, e.g. {day}T09:00:00Z"
        raise ScenarioError(msg)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            msg = f"{what} {value!r} is not an ISO-8601 time such as 2026-03-02T09:00:00Z"
            raise ScenarioError(msg) from None
    else:
        msg = f"{what} must be an ISO-8601 time, got {type(value).__name__} {value!r}"
        raise ScenarioError(msg)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        msg = f"{what} {parsed.isoformat()} has no UTC offset; write it as {parsed.isoformat()}Z"
        raise ScenarioError(msg)
    return parsed.astimezone(UTC)


_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*(weeks?|w|days?|d|hours?|h|minutes?|min|m|seconds?|s)\b")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_span(value: Any) -> timedelta:
    """``"14 days"``, ``"2d 3h"`` or ``"1 week"`` as a timedelta."""
    text = str(value).strip().lower()
    parts = list(_SPAN.finditer(text))
    if not parts or _SPAN.sub("", text).replace(",", "").replace("and", "").strip():
        msg = f"{value!r} is not a span of time such as '14 days' or '2d 3h'"
        raise ScenarioError(msg)
    total = timedelta()
    for part in parts:
        unit = "min" if part.group(2) == "min" else part.group(2)[0]
        key = "minutes" if unit == "min" else _UNITS[unit]
        total += timedelta(**{key: float(part.group(1))})
    return total


def parse_money(value: Any, currency: str = "USD") -> Money:
    """``"200.00"``, ``"US$200.00"``, ``"150.00 EUR"`` or ``{cents, currency}`` as Money."""
    if isinstance(value, Money):
        return value
    if isinstance(value, Mapping) and set(value) == {"cents", "currency"}:
        try:
            return Money(value["cents"], value["currency"])
        except InvalidInput as err:
            raise ScenarioError(str(err)) from None
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(?:US\$)?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([A-Z]{3})?\s*", value)
        if match:
            try:
                return Money.of(
                    Decimal(match.group(1).replace(",", "")), match.group(2) or currency
                )
            except InvalidInput as err:
                msg = str(err)
                raise ScenarioError(msg) from None
    msg = f'an amount is text such as "200.00" or "150.00 EUR", got {value!r}'
    raise ScenarioError(msg)


_ROLE_NAMES = {r.value: r for r in Role} | {r.label: r for r in Role}


def parse_role(text: str) -> Role:
    """A role by value (``client_owner``), label or §2.1 code (``CO``)."""
    from statemachines.publish.diagrams import ROLE_CODES  # noqa: PLC0415  (avoid an import cycle)

    key = text.strip()
    role = _ROLE_NAMES.get(key.lower()) or {c.lower(): r for r, c in ROLE_CODES.items()}.get(
        key.lower()
    )
    if role is None:
        roles = ", ".join(r.value for r in Role)
        msg = f"unknown role {text!r}; roles are {roles}"
        raise ScenarioError(msg)
    return role


def parse_actor(text: str, aggregate: Any = None) -> Actor:
    """``ROLE[:ID[:PARTY]]`` as an :class:`Actor`.

    A missing id or party is guessed from *aggregate*: the first of its own
    values (client, freelancer, ...) that its machine would accept for that
    role. When nothing fits, the role's name stands in and the machine says why.
    """
    role_text, _, rest = text.partition(":")
    role = parse_role(role_text)
    actor_id, _, party = rest.partition(":")
    if role is Role.SYSTEM:
        return SYSTEM
    if actor_id and party:
        return Actor(actor_id, role, party=party)
    guessed = _guess_actor(role, aggregate, actor_id or None)
    if guessed is not None:
        return guessed
    return Actor(actor_id or role.value, role, party=party or None)


def _guess_actor(role: Role, aggregate: Any, actor_id: str | None) -> Actor | None:
    if aggregate is None:
        return None
    spec = spec_of(aggregate)
    values = [
        v
        for f in attrs.fields(type(aggregate))
        if f.name not in {"state", "history"}
        for v in [getattr(aggregate, f.name)]
        if isinstance(v, str) and v
    ]
    ids = [actor_id] if actor_id else [role.value, *values]
    edges = [e for e in spec.edges if role in e.roles]
    for candidate in ids:
        for party in [candidate, *values, None]:
            actor = Actor(candidate, role, party=party)
            if spec.authorize is None or any(
                spec.authorize(aggregate, actor, e) is None for e in edges
            ):
                return actor
    return None


def spec_of(aggregate: Any) -> MachineSpec[Any, Any]:
    """The machine of *aggregate*."""
    try:
        return SPECS_BY_MODEL[type(aggregate)]
    except KeyError:
        msg = f"{type(aggregate).__name__} is not the aggregate of any machine"
        raise ScenarioError(msg) from None


def _subclasses(cls: type) -> Iterator[type]:
    subs: list[type] = cls.__subclasses__()
    for sub in subs:
        yield sub
        yield from _subclasses(sub)


def workflow_for(spec: MachineSpec[Any, Any], clock: ManualClock) -> Workflow[Any, Any]:
    """The workflow class the machine's module defines, or a plain one for its spec."""
    for cls in _subclasses(Workflow):
        if getattr(cls, "spec", None) is spec:
            try:
                return typing.cast(Workflow[Any, Any], cls(clock=clock))
            except TypeError:
                break
    plain = type(f"{spec.name.title()}Workflow", (Workflow,), {"spec": spec})
    return typing.cast(Workflow[Any, Any], plain(clock=clock))


# --------------------------------------------------------------------------- the converter


def _hook(read: Any) -> Any:
    def hook(value: Any, _: Any) -> Any:
        try:
            return read(value)
        except ScenarioError as err:
            raise Invalid(err.text) from None

    return hook


def structure_hook(cls: type, conv: cattrs.Converter, **hooks: Any) -> Any:
    """A structuring function for an attrs class, reading each field's YAML ``key``.

    Fields marked ``internal`` (set by the loader) and an aggregate's ``history`` cannot be
    given; unknown keys are refused; fields with defaults may be left out. *hooks* give
    fields their own structuring functions.
    """
    overrides: dict[str, Any] = {name: override(struct_hook=hook) for name, hook in hooks.items()}
    for field in attrs.fields(cls):
        if field.metadata.get("internal") or (field.name == "history" and cls in SPECS_BY_MODEL):
            overrides[field.name] = override(omit=True)
        elif "key" in field.metadata:
            overrides[field.name] = override(rename=field.metadata["key"])
    return make_dict_structure_fn(cls, conv, _cattrs_forbid_extra_keys=True, **overrides)


def _records(conv: cattrs.Converter) -> None:
    def factory(cls: type) -> Any:
        inner = structure_hook(cls, conv)

        def record(value: Any, kind: Any) -> Any:
            if not isinstance(value, Mapping):
                msg = f"expected a mapping of the fields of a {cls.__name__}, got {value!r}"
                raise Invalid(msg)
            return inner(value, kind)

        return record

    conv.register_structure_hook_factory(attrs.has, factory)


CONVERTER = make_converter()
"""The scenario converter: the library's, with amounts as text and lenient objects."""
CONVERTER.register_structure_hook(Money, _hook(parse_money))
CONVERTER.register_structure_hook(datetime, _hook(parse_time))
CONVERTER.register_structure_hook(timedelta, _hook(parse_span))
_records(CONVERTER)


def describe(err: BaseException) -> tuple[str, str]:
    """The first problem of a converter error: its field path and what is wrong."""
    if isinstance(err, ScenarioError):
        return "", err.text
    found = problems(err)
    return found[0] if found else ("", str(err))


def convert(value: Any, hint: Any) -> Any:
    """Structure *value* as *hint* with the scenario converter, or raise :class:`ScenarioError`."""
    try:
        return CONVERTER.structure(value, hint)
    except (BaseValidationError, ScenarioError, TypeError, ValueError) as err:
        path, text = describe(err)
        raise ScenarioError(f"{path}: {text}" if path else text) from None


def convert_argument(value: Any, types: tuple[type, ...], what: str) -> Any:
    """An event argument from YAML or command-line text, tried against each accepted type."""
    errors = []
    for kind in types:
        try:
            return convert(value, kind)
        except ScenarioError as err:
            errors.append(err.text)
    msg = f"{what}: {errors[0]}"
    raise ScenarioError(msg)


def build(model: type, fields: Mapping[str, Any], what: str) -> Any:
    """Build an aggregate (or value) of *model* from YAML fields."""
    try:
        return CONVERTER.structure(dict(fields), model)
    except (BaseValidationError, ScenarioError, TypeError, ValueError) as err:
        path, text = describe(err)
        where = f"{what}.{path}" if path else what
        known = ", ".join(f.name for f in attrs.fields(model) if f.name not in {"history"})
        hint = f"; {model.__name__} has {known}" if "unexpected field" in text else ""
        msg = f"{where}: {text}{hint}"
        raise ScenarioError(msg) from None

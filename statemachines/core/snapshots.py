"""Snapshots: aggregates to JSON-safe dicts and back, with a schema name and version.

A snapshot holds every field of the aggregate, its state, its pending deadlines
and its full history. Restoring never resets anything to an initial value:
the state is the saved one. Reading goes through the library's cattrs converter
(:mod:`statemachines.core.convert`), with one generated hook per machine.

A snapshot is read only if it could have been written: a malformed one, or one that
breaks what the machine guarantees (a history that does not lead to the state, a
deadline no timer of the machine handles, amounts in two currencies, a negative
count, or an invariant the machine module registered with :func:`register_invariants`)
raises :class:`~statemachines.errors.SnapshotError` naming the field, and nothing is
created.

>>> from statemachines import Milestone, Money
>>> ms = Milestone(id="M-1", contract="C-1", client="co-1", freelancer="fl-1", amount=Money(900))
>>> data = to_dict(ms)
>>> data["schema"], data["version"], data["state"], data["amount"]
('statemachines/milestone', 1, 'draft', {'cents': 900, 'currency': 'USD'})
>>> from_dict(data) == ms
True
>>> from_dict({**data, "state": "lost"})
Traceback (most recent call last):
...
statemachines.errors.SnapshotError: milestone snapshot, field 'state': 'lost' is not a state ...
>>> from_dict({**data, "released": {"cents": 900, "currency": "EUR"}})
Traceback (most recent call last):
...
statemachines.errors.SnapshotError: milestone snapshot, field 'released': EUR 9.00 is in EUR, ...
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable
from typing import Any

import attrs
from cattrs import BaseValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from statemachines.core.actors import Actor
from statemachines.core.convert import (
    Invalid,
    enum_hook,
    fields_message,
    iso,
    make_converter,
    problems,
    read_datetime,
)
from statemachines.core.engine import EMPTY, SPECS, SPECS_BY_MODEL, Decision, MachineSpec
from statemachines.core.fields import LOADER_CHECKED
from statemachines.core.money import Money
from statemachines.errors import SnapshotError

__all__ = [
    "Invariant",
    "broken_invariants",
    "from_dict",
    "has_invariants",
    "register_invariants",
    "to_dict",
]

PREFIX = "statemachines/"
JSON = dict[str, Any]
Invariant = Callable[[Any], list[str]]
"""A check of one aggregate: the problems it finds, as sentences (none: it holds)."""

_CONVERTER = make_converter(counts=True)
_LOADERS: dict[type, Callable[[Any, Any], Any]] = {}
"""Each model's structure hook, looked up once (``structure`` dispatches on every call)."""
_INVARIANTS: dict[type, tuple[Invariant, ...]] = {}


def register_invariants(model: type, invariants: Iterable[Invariant]) -> None:
    """Check every snapshot of *model* that :func:`from_dict` reads with *invariants*.

    The machine modules register their aggregates' invariants (the ones the checkers
    use) here, since the engine layer may not import them.
    """
    _INVARIANTS[model] = tuple(invariants)


# --------------------------------------------------------------------------- dumping


def to_dict(aggregate: Any) -> JSON:
    """Return a JSON-safe snapshot of *aggregate* (any machine's)."""
    if type(aggregate) not in SPECS_BY_MODEL:
        msg = f"{type(aggregate).__name__} is not the aggregate of any machine"
        raise SnapshotError(msg)
    dump: Callable[[Any], JSON] = _CONVERTER.get_unstructure_hook(type(aggregate))
    return dump(aggregate)


def _dump_history(history: list[Decision]) -> list[JSON]:
    return [
        {
            "at": iso(d.at),
            "actor": {"id": d.actor.id, "role": d.actor.role._value_, "party": d.actor.party},
            "event": d.event,
            "source": d.source._value_,
            "target": d.target._value_,
            "payload": dict(d.payload),
            "deadline": d.deadline,
        }
        for d in history
    ]


def _dumper(model: type) -> Callable[[Any], JSON]:
    spec = SPECS_BY_MODEL[model]
    head = {"schema": PREFIX + spec.name, "version": spec.version}
    fields: Callable[[Any], JSON] = make_dict_unstructure_fn(
        model, _CONVERTER, history=override(unstruct_hook=_dump_history)
    )

    def dump(aggregate: Any) -> JSON:
        out = head.copy()
        out.update(fields(aggregate))
        return out

    return dump


# --------------------------------------------------------------------------- loading


def from_dict(data: Any, *, invariants: bool = True) -> Any:
    """Rebuild an aggregate from :func:`to_dict` output, or raise :class:`SnapshotError`.

    With ``invariants=False`` the machine's registered invariants are not run (every other
    check is): for a snapshot this library verified when it wrote it, such as a row the
    SQLite store wrote and finds unchanged (see its ``checked`` column, ADR 0028).
    """
    if type(data) is not dict:
        msg = f"a snapshot is a JSON object, got {type(data).__name__}"
        raise SnapshotError(msg)
    schema = data.get("schema")
    name = schema[len(PREFIX) :] if isinstance(schema, str) and schema.startswith(PREFIX) else None
    spec = SPECS.get(name) if name else None
    if spec is None:
        known = ", ".join(sorted(PREFIX + n for n in SPECS))
        msg = f"unknown snapshot schema {schema!r}; expected one of {known}"
        raise SnapshotError(msg)
    model = spec.model
    load = _LOADERS.get(model)
    if load is None:
        load = _LOADERS[model] = _CONVERTER.get_structure_hook(model)
    token = LOADER_CHECKED.set(True)  # every field is read by a strict hook: see _loader
    try:
        aggregate = load(data, model)
    except (BaseValidationError, TypeError, ValueError) as err:
        found = problems(err)
        pieces = [f"field {path!r}: {text}" if path else text for path, text in found]
        msg = f"{spec.name} snapshot{', ' if found[0][0] else ': '}{'; '.join(pieces)}"
        raise SnapshotError(msg) from None
    finally:
        LOADER_CHECKED.reset(token)
    if not invariants:
        return aggregate
    broken = _broken(aggregate)
    if broken:
        msg = f"{spec.name} snapshot {aggregate.id!r} breaks its invariants: {'; '.join(broken)}"
        raise SnapshotError(msg)
    return aggregate


def has_invariants(model: type) -> bool:
    """True when :func:`from_dict` runs registered invariants on snapshots of *model*."""
    return bool(_INVARIANTS.get(model))


def broken_invariants(aggregate: Any) -> list[str]:
    """The registered invariants *aggregate* breaks, as sentences (none: they hold)."""
    return _broken(aggregate)


def _broken(aggregate: Any) -> list[str]:
    found = []
    for invariant in _INVARIANTS.get(type(aggregate), ()):
        try:
            found += invariant(aggregate)
        except Exception:
            doc = (invariant.__doc__ or invariant.__name__).strip().splitlines()[0]
            found.append(f"cannot hold: {doc}")
    return found


_DECISION = ("at", "actor", "event", "source", "target", "payload", "deadline")
_DECISION_KEYS = frozenset(_DECISION)
_new_tuple = tuple.__new__


def _history_loader(spec: MachineSpec[Any, Any]) -> Callable[[Any, Any], list[Decision]]:
    """Read a history and check it against the machine's table as it goes: each decision
    is a row of the table, starts where the one before ended, and names a deadline only
    if its event is a timer (the loader checks that the last one ends in the state)."""
    events = frozenset(spec.events)
    moves = frozenset(
        (source, event, edge.target)
        for source in spec.states
        for event in spec.events
        for edge in spec.edges_from(source, event)
    )
    timers = frozenset(e for e in spec.events if spec.is_timer(e))
    state = enum_hook(spec.states, f"a state of {spec.name}")
    actor = _CONVERTER.get_structure_hook(Actor)

    def load(value: Any, _: Any) -> list[Decision]:
        if type(value) is not list:
            msg = f"expected a list of decisions, got {type(value).__name__}"
            raise Invalid(msg)
        out = []
        before = None
        for i, item in enumerate(value):
            if type(item) is not dict or item.keys() != _DECISION_KEYS:
                got = sorted(item) if type(item) is dict else type(item).__name__
                msg = f"a decision has the fields {sorted(_DECISION)}, got {got}"
                raise Invalid(msg, (i,))
            event = item["event"]
            if type(event) is not str or event not in events:
                msg = f"{spec.name} has no event {event!r}"
                raise Invalid(msg, (i, "event"))
            payload, deadline = item["payload"], item["deadline"]
            if type(payload) is not dict:
                msg = f"expected an object, got {payload!r}"
                raise Invalid(msg, (i, "payload"))
            if deadline is not None and type(deadline) is not str:
                msg = f"expected str or null, got {deadline!r}"
                raise Invalid(msg, (i, "deadline"))
            field = "at"
            try:
                at = read_datetime(item["at"])
                field = "actor"
                who = actor(item["actor"], None)
                field = "source"
                source = state(item["source"], None)
                field = "target"
                target = state(item["target"], None)
            except Invalid as bad:
                raise Invalid(bad.text, (i, field, *bad.where)) from None
            if before is not None and source is not before:
                msg = (
                    f"starts from {source.value}, but the decision before it ended in "
                    f"{before.value}"
                )
                raise Invalid(msg, (i, "source"))
            if (source, event, target) not in moves:
                msg = f"{spec.name} cannot go from {source.value} to {target.value} by {event!r}"
                raise Invalid(msg, (i,))
            if deadline is not None and event not in timers:
                msg = f"{event!r} is not fired by a deadline, yet names deadline {deadline!r}"
                raise Invalid(msg, (i, "deadline"))
            before = target
            out.append(
                _new_tuple(Decision, (at, who, event, source, target, payload or EMPTY, deadline))
            )
        return out

    return load


def _loader(model: type) -> Callable[[Any, Any], Any]:
    spec = SPECS_BY_MODEL[model]
    names = ["schema", "version", *(f.name for f in attrs.fields(model))]
    keys = frozenset(names)
    schema = PREFIX + spec.name
    fields: Callable[[Any, Any], Any] = make_dict_structure_fn(
        model,
        _CONVERTER,
        _cattrs_forbid_extra_keys=False,  # the keys are checked below, all at once
        state=override(struct_hook=enum_hook(spec.states, f"a state of {spec.name}")),
        history=override(struct_hook=_history_loader(spec)),
    )
    stray = _amounts(model)
    # The currency every amount is in: the aggregate's own, or its first amount's.
    hints = typing.get_type_hints(model)
    sets_currency = (
        "currency"
        if "currency" in names
        else next((n for n in names[2:] if hints[n] is Money), None)
    )

    def load(value: Any, _: Any) -> Any:
        if type(value) is not dict:
            msg = f"expected a {spec.name} snapshot (an object), got {type(value).__name__}"
            raise Invalid(msg)
        version = value.get("version")
        if version != spec.version or type(version) is not int:
            msg = f"version {version!r} is not supported; this library reads version {spec.version}"
            raise Invalid(msg, ("version",))
        if value.keys() != keys:
            raise Invalid(fields_message("", names, value))
        if value["schema"] != schema:
            msg = f"expected {schema!r}, got {value['schema']!r}"
            raise Invalid(msg, ("schema",))
        aggregate = fields(value, model)
        _check_deadlines(spec, aggregate)
        history = aggregate.history
        if history and aggregate.state is not history[-1].target:
            msg = f"{aggregate.state.value}, but the history ends in {history[-1].target.value}"
            raise Invalid(msg, ("state",))
        if stray is not None and sets_currency is not None:
            currency = getattr(aggregate, sets_currency)
            _check_currency(aggregate, stray, getattr(currency, "currency", currency))
        return aggregate

    return load


def _check_deadlines(spec: MachineSpec[Any, Any], aggregate: Any) -> None:
    keys: set[str] = set()
    for i, deadline in enumerate(aggregate.deadlines):
        if not spec.is_timer(deadline.event):
            timers = ", ".join(e for e in spec.events if spec.is_timer(e)) or "none"
            msg = f"{spec.name} has no timer event {deadline.event!r} (its timers: {timers})"
            raise Invalid(msg, ("deadlines", i, "event"))
        if deadline.key in keys:
            msg = f"a second deadline keyed {deadline.key!r}"
            raise Invalid(msg, ("deadlines", i, "key"))
        keys.add(deadline.key)


# Where the amounts of a class are, found once from its field types: a function that
# returns the first amount (with its path) whose currency is not the one given.
Stray = tuple[tuple[str | int, ...], Money]
Amounts = Callable[[Any, str], Stray | None]


def _amounts(model: type) -> Amounts | None:
    """The stray-currency finder of *model*, or ``None`` when it holds no amount."""
    hints = typing.get_type_hints(model)
    plan: list[tuple[str, Amounts | None, bool]] = []  # (field, inner finder, a tuple of them)
    for field in attrs.fields(model):
        hint = hints[field.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        many = typing.get_origin(hint) is tuple
        if args and (many or len(args) == 1):  # tuple[X, ...] or X | None
            hint = args[0]
        if hint is Money:
            plan.append((field.name, None, many))
        elif attrs.has(hint):
            inner = _amounts(hint)
            if inner is not None:
                plan.append((field.name, inner, many))
    if not plan:
        return None

    def stray(value: Any, currency: str) -> Stray | None:
        for name, inner, many in plan:
            got = getattr(value, name)
            if got is None:
                continue
            for i, item in enumerate(got) if many else ((None, got),):
                where: tuple[str | int, ...] = (name,) if i is None else (name, i)
                if inner is None:
                    if item.currency != currency:
                        return where, item
                else:
                    found = inner(item, currency)
                    if found is not None:
                        return (*where, *found[0]), found[1]
        return None

    return stray


def _check_currency(aggregate: Any, stray: Amounts, currency: str) -> None:
    found = stray(aggregate, currency)
    if found is not None:
        where, money = found
        msg = f"{money} is in {money.currency}, but {aggregate.id} counts in {currency}"
        raise Invalid(msg, where)


def _is_aggregate(kind: Any) -> bool:
    return kind in SPECS_BY_MODEL


_CONVERTER.register_structure_hook_factory(_is_aggregate, _loader)
_CONVERTER.register_unstructure_hook_factory(_is_aggregate, _dumper)

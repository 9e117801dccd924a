"""The hand-written snapshot walker of v0.1 (``statemachines/core/snapshots.py`` at
commit ``c8d5d5c``), kept unchanged as the anchor of ``bench_snapshots.py``.

It reads the same format as :mod:`statemachines.core.snapshots`; only its speed is of
interest here. Do not use it for anything else.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from statemachines.core.actors import Actor, Role
from statemachines.core.clock import UTC
from statemachines.core.engine import EMPTY, SPECS, SPECS_BY_MODEL, Deadline, Decision, MachineSpec
from statemachines.core.money import Money
from statemachines.errors import SnapshotError

__all__ = ["from_dict", "to_dict"]

PREFIX = "statemachines/"
JSON = dict[str, Any]


def _spec_for(model: type) -> MachineSpec[Any, Any]:
    for spec in SPECS.values():
        if spec.model is model:
            return spec
    msg = f"{model.__name__} is not the aggregate of any machine"
    raise SnapshotError(msg)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(model: type) -> dict[str, Any]:
    hints = _HINTS.get(model)
    if hints is None:
        hints = _HINTS[model] = typing.get_type_hints(model)
    return hints


# --------------------------------------------------------------------------- dumping


def to_dict(aggregate: Any) -> JSON:
    """Return a JSON-safe snapshot of *aggregate* (any machine's)."""
    spec = _spec_for(type(aggregate))
    out: JSON = {"schema": PREFIX + spec.name, "version": spec.version}
    hints = _hints(spec.model)
    for field in attrs.fields(spec.model):
        value = getattr(aggregate, field.name)
        if field.name == "history":
            out["history"] = [_dump_decision(d) for d in value]
        else:
            out[field.name] = _dump(value, hints[field.name])
    return out


def _dump(value: Any, hint: Any) -> Any:  # noqa: PLR0911  (one return per kind of value)
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, Money):
        return value.to_dict()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Deadline):
        return {"key": value.key, "event": value.event, "due": value.due.isoformat()}
    if isinstance(value, tuple):
        args = typing.get_args(hint)
        inner = args[0] if args else Any
        return [_dump(v, inner) for v in value]
    if isinstance(value, Mapping):
        args = typing.get_args(hint)
        inner = args[1] if len(args) == 2 else Any
        return {str(k): _dump(v, inner) for k, v in value.items()}
    if attrs.has(type(value)):
        if type(value) in SPECS_BY_MODEL:
            return to_dict(value)
        return _dump_value(value)
    msg = f"cannot snapshot a {type(value).__name__}"
    raise SnapshotError(msg)


def _dump_value(value: Any) -> JSON:
    # A frozen attrs value kept inside an aggregate (a billing week, a payment):
    # its fields, by name, with no schema of its own.
    hints = _hints(type(value))
    return {f.name: _dump(getattr(value, f.name), hints[f.name]) for f in attrs.fields(type(value))}


def _dump_decision(d: Decision) -> JSON:
    return {
        "at": d.at.isoformat(),
        "actor": d.actor.to_dict(),
        "event": d.event,
        "source": d.source.value,
        "target": d.target.value,
        "payload": dict(d.payload),
        "deadline": d.deadline,
    }


# --------------------------------------------------------------------------- loading


class _Bad(Exception):
    def __init__(self, path: str, text: str) -> None:
        super().__init__(text)
        self.path = path
        self.text = text


def from_dict(data: Any) -> Any:
    """Rebuild an aggregate from :func:`to_dict` output, or raise :class:`SnapshotError`."""
    if not isinstance(data, Mapping):
        msg = f"a snapshot is a JSON object, got {type(data).__name__}"
        raise SnapshotError(msg)
    schema = data.get("schema")
    name = schema[len(PREFIX) :] if isinstance(schema, str) and schema.startswith(PREFIX) else None
    spec = SPECS.get(name) if name else None
    if spec is None:
        known = ", ".join(sorted(PREFIX + n for n in SPECS))
        msg = f"unknown snapshot schema {schema!r}; expected one of {known}"
        raise SnapshotError(msg)
    try:
        return _load_aggregate(spec, data, "")
    except _Bad as bad:
        where = f", field {bad.path!r}" if bad.path else ""
        msg = f"{spec.name} snapshot{where}: {bad.text}"
        raise SnapshotError(msg) from None


def _load_aggregate(spec: MachineSpec[Any, Any], data: Mapping[str, Any], path: str) -> Any:
    version = data.get("version")
    if version != spec.version:
        raise _Bad(
            _join(path, "version"),
            f"version {version!r} is not supported; this library reads version {spec.version}",
        )
    names = [f.name for f in attrs.fields(spec.model)]
    given = set(data) - {"schema", "version"}
    missing = [n for n in names if n not in given]
    if missing:
        raise _Bad(path, f"missing field(s) {', '.join(map(repr, missing))}")
    extra = sorted(given - set(names))
    if extra:
        raise _Bad(path, f"unexpected field(s) {', '.join(map(repr, extra))}")
    hints = _hints(spec.model)
    kwargs: dict[str, Any] = {}
    for name in names:
        where = _join(path, name)
        if name == "history":
            kwargs[name] = _load_history(spec, data[name], where)
        elif name == "state":
            kwargs[name] = _load_state(spec, data[name], where)
        else:
            kwargs[name] = _load(data[name], hints[name], where)
    try:
        return spec.model(**kwargs)
    except (TypeError, ValueError) as err:
        raise _Bad(path, str(err)) from None


def _join(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def _load_state(spec: MachineSpec[Any, Any], value: Any, path: str) -> enum.Enum:
    try:
        state: enum.Enum = spec.states(value)
    except ValueError:
        states = ", ".join(s.value for s in spec.states)
        raise _Bad(path, f"{value!r} is not a state of {spec.name} ({states})") from None
    return state


def _expect(value: Any, kind: type | tuple[type, ...], path: str, what: str) -> None:
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise _Bad(path, f"expected {what}, got {type(value).__name__} {value!r}")


_SHAPES: dict[Any, tuple[Any, tuple[Any, ...]]] = {}


def _shape(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    # typing.get_origin/get_args are slow and the same few hints recur in every snapshot.
    shape = _SHAPES.get(hint)
    if shape is None:
        shape = _SHAPES[hint] = (typing.get_origin(hint), typing.get_args(hint))
    return shape


def _load(value: Any, hint: Any, path: str) -> Any:  # noqa: PLR0911, PLR0912  (one per kind)
    if hint is str or hint is int or hint is bool:  # the most common case first
        _expect(value, hint, path, hint.__name__)
        return value
    origin, args = _shape(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _load(value, inner[0], path)
        raise _Bad(path, f"cannot read a value of type {hint}")
    if hint is str or hint is int or hint is bool:
        _expect(value, hint, path, hint.__name__)
        return value
    if hint is Money:
        _expect(value, dict, path, 'an amount like {"cents": 500, "currency": "USD"}')
        if set(value) != {"cents", "currency"}:
            raise _Bad(path, f'an amount has exactly "cents" and "currency", got {sorted(value)}')
        try:
            return Money(value["cents"], value["currency"])
        except ValueError as err:
            raise _Bad(path, str(err)) from None
    if hint is datetime:
        return _load_datetime(value, path)
    if hint is Deadline:
        _expect(value, dict, path, "a deadline object")
        if set(value) != {"key", "event", "due"}:
            raise _Bad(path, f'a deadline has "key", "event" and "due", got {sorted(value)}')
        _expect(value["key"], str, _join(path, "key"), "str")
        _expect(value["event"], str, _join(path, "event"), "str")
        return Deadline(value["key"], value["event"], _load_datetime(value["due"], path))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in hint)
            raise _Bad(path, f"{value!r} is not one of {allowed}") from None
    if origin is tuple:
        _expect(value, list, path, "a list")
        inner = args[0]
        return tuple(_load(v, inner, _join(path, i)) for i, v in enumerate(value))
    if origin is dict or origin is Mapping:
        _expect(value, dict, path, "an object")
        return {k: _load(v, args[1], _join(path, k)) for k, v in value.items()}
    if isinstance(hint, type) and attrs.has(hint):
        _expect(value, dict, path, "an object")
        for spec in SPECS.values():
            if spec.model is hint:
                return _load_aggregate(spec, value, path)
        return _load_value(hint, value, path)
    raise _Bad(path, f"cannot read a value of type {hint}")


def _load_value(kind: type, value: Any, path: str) -> Any:
    names = [f.name for f in attrs.fields(kind)]
    if set(value) != set(names):
        raise _Bad(path, f"a {kind.__name__} has the fields {sorted(names)}, got {sorted(value)}")
    hints = _hints(kind)
    kwargs = {name: _load(value[name], hints[name], _join(path, name)) for name in names}
    try:
        return kind(**kwargs)
    except (TypeError, ValueError) as err:
        raise _Bad(path, str(err)) from None


def _load_datetime(value: Any, path: str) -> datetime:
    _expect(value, str, path, "an ISO-8601 timestamp with a UTC offset")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Bad(path, f"{value!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise _Bad(path, f"timestamp {value!r} has no UTC offset; naive times are not accepted")
    return parsed.astimezone(UTC)


_ACTORS: dict[tuple[str, Role, str | None], Actor] = {}


def _actor(key: str, role: Role, party: str | None) -> Actor:
    # The same few people act in thousands of decisions: share one Actor per person
    # and role (actors are immutable), which saves memory when many aggregates load.
    actor = _ACTORS.get((key, role, party))
    if actor is None:
        if len(_ACTORS) > 50_000:
            _ACTORS.clear()
        actor = _ACTORS[key, role, party] = Actor(key, role, party)
    return actor


def _load_history(spec: MachineSpec[Any, Any], value: Any, path: str) -> list[Decision]:
    _expect(value, list, path, "a list of decisions")
    out = []
    keys = {"at", "actor", "event", "source", "target", "payload", "deadline"}
    for i, item in enumerate(value):
        where = _join(path, i)
        _expect(item, dict, where, "a decision object")
        if set(item) != keys:
            raise _Bad(where, f"a decision has the fields {sorted(keys)}, got {sorted(item)}")
        actor = item["actor"]
        _expect(actor, dict, _join(where, "actor"), "an actor object")
        if set(actor) != {"id", "role", "party"}:
            raise _Bad(
                _join(where, "actor"), f"an actor has id, role and party, got {sorted(actor)}"
            )
        _expect(actor["id"], str, _join(where, "actor.id"), "str")
        party = actor["party"]
        if party is not None:
            _expect(party, str, _join(where, "actor.party"), "str or null")
        event = item["event"]
        _expect(event, str, _join(where, "event"), "str")
        if event not in spec.events:
            raise _Bad(_join(where, "event"), f"{spec.name} has no event {event!r}")
        payload = item["payload"]
        _expect(payload, dict, _join(where, "payload"), "an object")
        deadline = item["deadline"]
        if deadline is not None:
            _expect(deadline, str, _join(where, "deadline"), "str or null")
        out.append(
            Decision(
                _load_datetime(item["at"], _join(where, "at")),
                _actor(actor["id"], _load(actor["role"], Role, _join(where, "actor.role")), party),
                event,
                _load_state(spec, item["source"], _join(where, "source")),
                _load_state(spec, item["target"], _join(where, "target")),
                payload or EMPTY,
                deadline,
            )
        )
    return out

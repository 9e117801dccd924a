"""The JSON Schema of scenario files, generated from their types.

:func:`schema` walks :class:`~statemachines.publish.scenarios.model.Scenario` and the
aggregate classes of every machine (for the fields of ``world``), so that an editor
completes and checks a scenario file as it is written. ``python -m statemachines
render`` writes it to ``docs/scenario.schema.json``; ``render --check`` fails when the
committed file is stale.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from statemachines.core.engine import SPECS
from statemachines.core.money import Money
from statemachines.publish.scenarios.model import Expect, Scenario, Step

__all__ = ["SCHEMA_PATH", "schema", "schema_text"]

SCHEMA_PATH = Path("docs") / "scenario.schema.json"
"""Where ``render`` writes the schema, relative to the project root."""

_MONEY = {
    "anyOf": [
        {
            "type": "string",
            "pattern": r"^\s*(US\$)?\s*[0-9][0-9,]*(\.[0-9]+)?\s*([A-Z]{3})?\s*$",
            "description": 'An amount as text: "200.00", "US$1,250.50" or "150.00 EUR".',
        },
        {
            "type": "object",
            "properties": {
                "cents": {"type": "integer", "minimum": 0},
                "currency": {"type": "string"},
            },
            "required": ["cents", "currency"],
            "additionalProperties": False,
        },
    ]
}
_TIME = {
    "type": "string",
    "format": "date-time",
    "description": "An ISO-8601 time with a UTC offset, e.g. 2026-03-02T09:00:00Z.",
}


def _type(hint: Any) -> dict[str, Any]:  # noqa: PLR0911  (one case per kind of type)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        inner = [_type(a) for a in args if a is not type(None)]
        options = [*inner, {"type": "null"}] if type(None) in args else inner
        return options[0] if len(options) == 1 else {"anyOf": options}
    if hint is str:
        return {"type": "string"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is Money:
        return _MONEY
    if hint is datetime:
        return _TIME
    if hint is timedelta:
        return {"type": "string"}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"enum": [m.value for m in hint]}
    if origin is tuple:
        items = args[0] if len(args) == 2 and args[1] is Ellipsis else None
        if items is None:
            return {"type": "array", "prefixItems": [_type(a) for a in args], "items": False}
        return {"type": "array", "items": _type(items)}
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        values = args[1] if len(args) == 2 else Any
        return {"type": "object", "additionalProperties": {} if values is Any else _type(values)}
    if isinstance(hint, type) and attrs.has(hint):
        return {"$ref": f"#/$defs/{hint.__name__}"}
    return {}


def _object(cls: type, *, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required = []
    for field in attrs.fields(cls):
        meta = field.metadata
        if meta.get("internal") or field.name in skip:
            continue
        key = meta.get("key", field.name)
        prop = dict(meta.get("schema") or _type(hints[field.name]))
        if meta.get("doc"):
            prop["description"] = meta["doc"]
        properties[key] = prop
        if field.default is attrs.NOTHING:
            required.append(key)
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if cls.__doc__:
        out["description"] = cls.__doc__.strip().splitlines()[0]
    if required:
        out["required"] = required
    out["additionalProperties"] = False
    return out


def _values(classes: list[type]) -> dict[str, Any]:
    # The attrs values an aggregate's fields hold (a billing week, a payment), transitively.
    defs: dict[str, Any] = {}
    todo = list(classes)
    while todo:
        cls = todo.pop()
        for hint in typing.get_type_hints(cls).values():
            for kind in (hint, *typing.get_args(hint), *_nested(hint)):
                if isinstance(kind, type) and attrs.has(kind) and kind.__name__ not in defs:
                    if kind in {s.model for s in SPECS.values()}:
                        continue
                    defs[kind.__name__] = _object(kind)
                    todo.append(kind)
    return defs


def _nested(hint: Any) -> list[Any]:
    return [a for arg in typing.get_args(hint) for a in typing.get_args(arg)]


def _world() -> dict[str, Any]:
    machines = []
    for name, spec in sorted(SPECS.items()):
        entry = _object(spec.model, skip=frozenset({"history"}))
        entry["properties"] = {"machine": {"const": name}, **entry["properties"]}
        # The id is the world's key unless given.
        entry["required"] = ["machine", *(k for k in entry.get("required", []) if k != "id")]
        entry["description"] = f"A {name}: {spec.description}".strip().removesuffix(":")
        machines.append(entry)
    return {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"oneOf": machines},
        "description": "The aggregates at the start, by id (the id is also the aggregate's id).",
    }


def schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a scenario file."""
    root = _object(Scenario)
    models = [spec.model for spec in SPECS.values()]
    defs = {
        "Step": _object(Step),
        "Expect": _object(Expect),
        "World": _world(),
        **dict(sorted(_values(models).items())),
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "statemachines scenario",
        **root,
        "properties": {
            **root["properties"],
            "steps": {**root["properties"]["steps"], "minItems": 1},
        },
        "$defs": defs,
    }


def schema_text() -> str:
    """The schema as the committed file holds it (sorted keys, two-space indent)."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"

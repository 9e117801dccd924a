"""Event arguments as history keeps them: JSON-safe on the way in, typed on the way back."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from statemachines.core.clock import ensure_utc
from statemachines.core.money import Money
from statemachines.errors import InvalidPayload

__all__ = ["from_json", "to_json"]


def to_json(value: Any) -> Any:
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, Money):
        return value.to_dict()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    msg = f"cannot record argument of type {type(value).__name__}"
    raise InvalidPayload(msg)


def from_json(value: Any, types: tuple[type, ...]) -> Any:
    if value is None or (isinstance(value, str | int | bool) and type(value) in types):
        return value
    for kind in types:
        if kind is Money and isinstance(value, dict):
            return Money(value["cents"], value["currency"])
        if kind is datetime and isinstance(value, str):
            return ensure_utc(datetime.fromisoformat(value))
        if issubclass(kind, enum.Enum):
            return kind(value)
    msg = f"cannot read recorded argument {value!r} as {'/'.join(t.__name__ for t in types)}"
    raise InvalidPayload(msg)

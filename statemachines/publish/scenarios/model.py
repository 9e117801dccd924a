"""The typed structure of a scenario file: what :func:`load` reads and the JSON Schema shows.

Each field's metadata says how it is written in YAML (``key`` when it differs from the
name, as ``with``), what it means (``doc``), and, for the few that accept more than one
shape (``expect: funded`` or a mapping), the JSON Schema of what they accept
(``schema``). :mod:`~statemachines.publish.scenarios.schema` turns these classes into
``docs/scenario.schema.json``; the loader structures files into them through the
library's converter.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

__all__ = ["Engine", "Expect", "Scenario", "Step"]

_RULE_IDS = {
    "anyOf": [
        {"type": "array", "items": {"type": "string"}},
        {"type": "string"},
        {"type": "boolean"},
    ]
}


def _doc(text: str, **more: Any) -> dict[str, Any]:
    return {"doc": text, **more}


class Engine(enum.Enum):
    """What moves the world's aggregates."""

    AUTO = "auto"
    """The marketplace when it holds every machine of the world, else one workflow each."""
    MARKETPLACE = "marketplace"
    """Every event through the marketplace (its guards see each other's facts)."""
    WORKFLOWS = "workflows"
    """One workflow per aggregate; nothing crosses aggregates."""


@attrs.frozen
class Expect:
    """What must hold after a step (``expect: funded`` is short for ``{state: funded}``)."""

    state: str | None = attrs.field(default=None, metadata=_doc("The state of the aggregate."))
    refused: tuple[str, ...] | None = attrs.field(
        default=None,
        metadata=_doc(
            "The event is refused, by exactly these rule IDs ([MS-1]); true: by any rule.",
            schema=_RULE_IDS,
        ),
    )
    not_permitted: bool = attrs.field(
        default=False, metadata=_doc("The actor may not fire the event.")
    )
    illegal: bool = attrs.field(default=False, metadata=_doc("The event is not legal now."))
    invalid: bool = attrs.field(default=False, metadata=_doc("The event's arguments are bad."))
    fields: Mapping[str, Any] = attrs.field(
        factory=dict,
        metadata=_doc('Field values of the aggregate; amounts as "200.00" or "150.00 EUR".'),
    )
    fired: tuple[str, ...] | None = attrs.field(
        default=None, metadata=_doc("The deadlines that fired on the way (event or event@id).")
    )
    states: Mapping[str, str] = attrs.field(
        factory=dict, metadata=_doc("States of other aggregates, by id.")
    )
    on: str | None = attrs.field(
        default=None, metadata=_doc("The aggregate to check, when not the step's own.")
    )

    @property
    def outcome(self) -> str | None:
        """The outcome expected of the event: ``refused``, ``not_permitted``, ... or ``None``."""
        if self.refused is not None:
            return "refused"
        return next((k for k in ("not_permitted", "illegal", "invalid") if getattr(self, k)), None)


@attrs.frozen
class Step:
    """One step: the clock may move, one event may fire, and expectations are checked."""

    at: datetime | None = attrs.field(
        default=None, metadata=_doc("Move the clock to this time (with a UTC offset).")
    )
    after: timedelta | None = attrs.field(
        default=None,
        metadata=_doc(
            "Move the clock on by this span ('14 days', '2d 3h').",
            schema={"type": "string", "pattern": r"^\s*\d"},
        ),
    )
    actor: str | None = attrs.field(
        default=None,
        metadata=_doc("Who fires the event: a name from actors, or ROLE[:ID[:PARTY]]."),
    )
    do: str | None = attrs.field(default=None, metadata=_doc("The event to fire."))
    on: str | None = attrs.field(
        default=None, metadata=_doc("The aggregate, by id (optional in a one-aggregate world).")
    )
    arguments: Mapping[str, Any] = attrs.field(
        factory=dict, metadata=_doc("The event's arguments.", key="with")
    )
    expect: Expect = attrs.field(
        factory=Expect,
        metadata=_doc(
            "What must hold afterwards: a state name, or a mapping.",
            schema={"anyOf": [{"type": "string"}, {"$ref": "#/$defs/Expect"}]},
        ),
    )
    fire_due: bool = attrs.field(
        default=True, metadata=_doc("false: hold back the deadlines due by now for this step.")
    )
    note: str | None = attrs.field(default=None, metadata=_doc("A comment shown to nobody."))
    number: int = attrs.field(default=0, metadata={"internal": True})
    """Its position in the file, from 1 (set by the loader)."""
    line: int = attrs.field(default=0, metadata={"internal": True})
    """The line of the file it starts on (set by the loader)."""


@attrs.frozen
class Scenario:
    """A scenario file: a world at a start time, and the steps played on it."""

    title: str = attrs.field(metadata=_doc("What the scenario shows, in one line.", key="scenario"))
    start: datetime = attrs.field(metadata=_doc("When the clock starts (with a UTC offset)."))
    world: Mapping[str, Mapping[str, Any]] = attrs.field(
        metadata=_doc(
            "The aggregates at the start, by id: each names its machine and its fields.",
            schema={"$ref": "#/$defs/World"},
        )
    )
    steps: tuple[Step, ...] = attrs.field(metadata=_doc("What happens, in order."))
    actors: Mapping[str, str] = attrs.field(
        factory=dict,
        metadata=_doc("Names for actors: ROLE[:ID[:PARTY]], e.g. client_owner:ana:co-1."),
    )
    engine: Engine = attrs.field(default=Engine.AUTO, metadata=_doc("What moves the world."))
    path: Path = attrs.field(default=Path(), metadata={"internal": True})
    """The file it was read from (set by the loader)."""

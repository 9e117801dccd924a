"""Domain events and outcomes: what a command caused, as the outbox and the caller see it.

Every accepted decision, cascades included, becomes a domain event, and so does
every aggregate a command creates (``created``, carrying its first snapshot).
The store gives each event a global sequence number in the transaction that
commits it; a consumer reads the events after its cursor, in order
(:meth:`statemachines.marketplace.market.Marketplace.events`).

An :class:`Outcome` is what handling one command returns: its events (so every
decision of the cascade, in order) or the error that refused it. A command sent
again with the same ``command_id`` gets the stored outcome back.

>>> from datetime import datetime
>>> from statemachines import SYSTEM, UTC
>>> from statemachines.machines.job import JobState
>>> d = Decision(datetime(2026, 3, 2, tzinfo=UTC), SYSTEM, "expire", JobState.OPEN,
...              JobState.EXPIRED)
>>> load_decision("job", dump_decision(d)) == d
True
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

import attrs

from statemachines import errors
from statemachines.core.actors import Actor, Role
from statemachines.core.clock import UTC
from statemachines.core.convert import iso
from statemachines.core.engine import EMPTY, SPECS, Decision
from statemachines.errors import (
    NotPermitted,
    SnapshotError,
    StatemachinesError,
    TransitionError,
    TransitionRefused,
    Violation,
)
from statemachines.marketplace import errors as service_errors

__all__ = [
    "Change",
    "NewEvent",
    "Outcome",
    "StoredEvent",
    "dump_decision",
    "dump_error",
    "load_decision",
    "load_error",
]

CREATED = "created"
"""The name of the event that records a new aggregate (its first snapshot)."""


class Change(NamedTuple):
    """One accepted decision of a command's cascade: which aggregate, and the decision."""

    kind: str
    key: str
    decision: Decision


class NewEvent(NamedTuple):
    """An event a unit of work hands its store to record (the store numbers it)."""

    kind: str
    key: str
    position: int
    """The decision's index in the aggregate's history; for ``created``, the history's length."""
    at: datetime
    decision: Decision | None
    snapshot: Mapping[str, Any] | None
    """For ``created``: the aggregate as it was created (``to_dict``)."""


@attrs.frozen
class StoredEvent:
    """A domain event as recorded, with its place in the global order."""

    seq: int
    kind: str
    key: str
    position: int
    name: str
    """The machine event (``post``, ``settle``, ...) or ``created``."""
    at: datetime
    decision: Decision | None = None
    snapshot: Mapping[str, Any] | None = None
    command_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-safe data, for another service."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "key": self.key,
            "position": self.position,
            "name": self.name,
            "at": self.at.isoformat(),
            "decision": None if self.decision is None else dump_decision(self.decision),
            "snapshot": None if self.snapshot is None else dict(self.snapshot),
            "command_id": self.command_id,
        }


@attrs.frozen
class Outcome:
    """What one command did: its events in order, or the error that refused it."""

    events: tuple[StoredEvent, ...] = ()
    error: StatemachinesError | None = None
    command_id: str | None = None
    repeated: bool = False
    """True when the outcome was stored earlier: the command had been handled already."""

    @property
    def changes(self) -> tuple[Change, ...]:
        """Every decision the command caused, the cascade included, in order."""
        return tuple(
            Change(e.kind, e.key, e.decision) for e in self.events if e.decision is not None
        )

    @property
    def decisions(self) -> tuple[Decision, ...]:
        """The decisions of :attr:`changes`, without their aggregates."""
        return tuple(e.decision for e in self.events if e.decision is not None)

    @property
    def created(self) -> tuple[tuple[str, str], ...]:
        """The aggregates the command created, as (kind, key)."""
        return tuple((e.kind, e.key) for e in self.events if e.name == CREATED)

    @property
    def ok(self) -> bool:
        """True when the command was accepted."""
        return self.error is None

    def result(self) -> Decision | None:
        """The command's own decision (the first); raises the refusal if there was one."""
        if self.error is not None:
            raise self.error
        for e in self.events:
            if e.decision is not None:
                return e.decision
        return None


# --------------------------------------------------------------------------- decisions


def dump_decision(d: Decision) -> dict[str, Any]:
    """A decision as JSON-safe data, in the snapshot format of a history entry."""
    actor = d.actor
    return {
        "at": iso(d.at),
        "actor": {"id": actor.id, "role": actor.role._value_, "party": actor.party},
        "event": d.event,
        "source": d.source._value_,
        "target": d.target._value_,
        "payload": dict(d.payload),
        "deadline": d.deadline,
    }


def load_decision(kind: str, data: Mapping[str, Any]) -> Decision:
    """The inverse of :func:`dump_decision`, for a decision of machine *kind*."""
    try:
        states = SPECS[kind].states
        actor = data["actor"]
        return Decision(
            datetime.fromisoformat(data["at"]).astimezone(UTC),
            Actor(actor["id"], Role(actor["role"]), actor["party"]),
            data["event"],
            states(data["source"]),
            states(data["target"]),
            data["payload"] or EMPTY,
            data["deadline"],
        )
    except (KeyError, TypeError, ValueError) as err:
        msg = f"a stored {kind} decision is malformed ({err}): {dict(data)!r}"
        raise SnapshotError(msg) from None


# --------------------------------------------------------------------------- errors


def dump_error(err: StatemachinesError) -> dict[str, Any]:
    """A refusal (or rejected input) as JSON-safe data, so a repeated command gets it back."""
    out: dict[str, Any] = {"type": type(err).__name__, "message": str(err)}
    if isinstance(err, TransitionError):
        out.update(machine=err.machine, state=err.state, event=err.event)
    if isinstance(err, NotPermitted):
        out.update(actor=err.actor, allowed_roles=list(err.allowed_roles))
    if isinstance(err, TransitionRefused):
        out["violations"] = [[v.rule_id, v.reason, _plain(v.data)] for v in err.violations]
    if isinstance(err, service_errors.AlreadyExists):
        out.update(kind=err.kind, key=err.key)
    return out


def _plain(data: Mapping[str, object]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | int | bool | None) else str(v) for k, v in data.items()}


def load_error(data: Mapping[str, Any]) -> StatemachinesError:
    """The inverse of :func:`dump_error`: a new exception of the same type and message."""
    name = str(data.get("type"))
    message = str(data.get("message"))
    if name == "AlreadyExists":
        return service_errors.AlreadyExists(data["kind"], data["key"])
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, StatemachinesError)):
        return StatemachinesError(message)
    machine, state, event = (str(data.get(k)) for k in ("machine", "state", "event"))
    if issubclass(cls, TransitionRefused):
        violations = [Violation(r, reason, d) for r, reason, d in data["violations"]]
        return cls(message, machine=machine, state=state, event=event, violations=violations)
    if issubclass(cls, NotPermitted):
        return cls(
            message,
            machine=machine,
            state=state,
            event=event,
            actor=data["actor"],
            allowed_roles=data["allowed_roles"],
        )
    if issubclass(cls, TransitionError):
        return cls(message, machine=machine, state=state, event=event)
    return cls(message)

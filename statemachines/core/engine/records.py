"""The engine's records: what guards return and read, deadlines, decisions, attempts, verdicts.

These are the values that pass between the tables, the workflow and callers:
a guard's :class:`Reason` (built with :func:`fail`), the :class:`Context` it
reads, an aggregate's :class:`Deadline` rows and its history of
:class:`Decision` rows, the workflow's audit trail of :class:`Attempt` rows, and
the :class:`Verdict` that ``explain`` returns.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

import attrs

from statemachines.core.actors import Actor
from statemachines.errors import NotPermitted, StatemachinesError, TransitionRefused

__all__ = [
    "EMPTY",
    "Aggregate",
    "Attempt",
    "Context",
    "Deadline",
    "Decision",
    "Reason",
    "Verdict",
    "fail",
]

EMPTY: Mapping[str, Any] = MappingProxyType({})
"""A shared, immutable empty payload (most events carry no arguments)."""


class Aggregate(Protocol):
    """What the engine needs of an aggregate: an id, a state, deadlines and a history."""

    id: str
    state: Any
    deadlines: tuple[Deadline, ...]
    history: list[Decision]


class Reason(NamedTuple):
    """What a guard returns when it says no: a readable sentence and the facts behind it."""

    text: str
    data: Mapping[str, object] = EMPTY


# Named tuples built on the hot path skip their generated (Python) ``__new__``.
_tuple = tuple.__new__


def fail(text: str, **data: object) -> Reason:
    """Build a :class:`Reason`; guards ``return fail("...", amount=...)`` to refuse."""
    return _tuple(Reason, (text, MappingProxyType(data) if data else EMPTY))


class Context(NamedTuple):
    """Who fires the event, when, and with which arguments. Guards read only this."""

    now: datetime
    actor: Actor
    payload: Mapping[str, Any] = EMPTY
    facts: Any = None
    """Read-only facts about *other* aggregates that the workflow supplies
    (:meth:`Workflow.facts`), e.g. an account's obligations; ``None`` by default."""


@attrs.frozen(slots=True)
class Deadline:
    """A moment at which the platform fires *event* on the aggregate (data, not a thread)."""

    key: str
    """Unique per aggregate; setting a deadline with the same key supersedes the old one."""
    event: str
    """The timer event fired when it falls due."""
    due: datetime
    """When it falls due (UTC)."""

    @staticmethod
    def put(deadlines: tuple[Deadline, ...], new: Deadline) -> tuple[Deadline, ...]:
        """Return *deadlines* with *new* added, replacing any deadline with the same key."""
        if not deadlines:
            return (new,)
        kept = [d for d in deadlines if d.key != new.key]
        kept.append(new)
        kept.sort(key=operator.attrgetter("due", "key"))
        return tuple(kept)

    @staticmethod
    def drop(deadlines: tuple[Deadline, ...], key: str) -> tuple[Deadline, ...]:
        """Return *deadlines* without the one keyed *key* (a cancelled deadline never fires)."""
        if len(deadlines) == 1:
            return () if deadlines[0].key == key else deadlines
        return tuple(d for d in deadlines if d.key != key)


class Decision(NamedTuple):
    """One accepted transition, as kept in an aggregate's append-only history."""

    at: datetime
    actor: Actor
    event: str
    source: enum.Enum
    target: enum.Enum
    payload: Mapping[str, Any] = EMPTY
    """The event's arguments in JSON-safe form (amounts as ``{"cents", "currency"}``)."""
    deadline: str | None = None
    """The key of the deadline this decision fired, for timer events."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Decision:
        # A recorded decision never changes (its payload is a read-only mapping): a copy
        # of a history shares its decisions, as copying an aggregate must not fail.
        return self


class Attempt(NamedTuple):
    """A refused, illegal or failed attempt, kept in a workflow's audit trail."""

    at: datetime
    aggregate: str
    actor: Actor
    event: str
    state: str
    outcome: str
    """``illegal``, ``not_permitted``, ``refused``, ``invalid`` or ``failed``."""
    rule_ids: tuple[str, ...]
    message: str


@attrs.frozen
class Verdict:
    """What would happen if *actor* fired *event* now: the target, or the error and its reasons."""

    event: str
    target: enum.Enum | None
    error: StatemachinesError | None = None

    @property
    def allowed(self) -> bool:
        """True when the event would be accepted."""
        return self.error is None

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Rule IDs that refuse the event or turn the actor away (empty when allowed, illegal
        or invalid)."""
        error = self.error
        return error.rule_ids if isinstance(error, TransitionRefused | NotPermitted) else ()

    def __str__(self) -> str:
        if self.error is None:
            assert self.target is not None
            return f"{self.event}: allowed -> {self.target.value}"
        return f"{self.event}: {type(self.error).__name__}: {self.error}"

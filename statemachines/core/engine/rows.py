"""The rows of a machine table: edges and what they carry (guards, effects, timers, branches).

An :class:`Edge` names its event, source states, target, the roles that may
fire it (with the rule IDs that say so), its :class:`Guard` rows (each bound to
a rule ID), its :class:`Effect` rows, the :class:`Param` arguments it takes and,
for deadline-driven edges, the :class:`Timer` that fires it. A
:class:`Forbidden` row documents why an event is refused from some states.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs

from statemachines.core.actors import Role
from statemachines.core.engine.records import Context, Reason

__all__ = [
    "MISSING",
    "Apply",
    "Branch",
    "Check",
    "Edge",
    "Effect",
    "Forbidden",
    "Guard",
    "Param",
    "Timer",
]

S = TypeVar("S", bound=enum.Enum)

Check = Callable[[Any, Context], Reason | None]
Apply = Callable[[Any, Context], None]


@attrs.frozen
class Guard:
    """A pure check bound to the rule it enforces; returns ``None`` or a :class:`Reason`."""

    rule_id: str
    check: Check
    uses: tuple[str, ...] = ()
    """Event arguments the check reads; it is skipped by :meth:`Workflow.available`
    when the caller did not give them."""

    def __str__(self) -> str:
        # transitions labels diagram conditions with str() for non-functions.
        return self.rule_id


@attrs.frozen
class Effect:
    """A change an edge makes to the aggregate, with the rule that asks for it."""

    rule_id: str | None
    apply: Apply

    def __str__(self) -> str:
        return self.rule_id or str(getattr(self.apply, "__name__", "effect"))


@attrs.frozen
class Timer:
    """Marks an edge as fired by the platform when a deadline of the same event falls due."""

    rule_id: str
    label: str
    """When it fires, in words for diagrams: ``"14 days after the latest submission"``."""


@attrs.frozen
class Branch:
    """Chooses between edges sharing a source and an event (e.g. ending with funds held or not)."""

    label: str
    test: Callable[[Any, Context], bool]

    def __call__(self, event: Any) -> bool:
        """Adapter for ``transitions`` conditions (``send_event=True``)."""
        return self.test(event.model, event.kwargs["ctx"])

    def __str__(self) -> str:
        return self.label


MISSING: Any = object()


@attrs.frozen
class Param:
    """An argument an event takes."""

    name: str
    types: tuple[type, ...]
    default: Any = MISSING
    doc: str = ""

    @property
    def required(self) -> bool:
        """True when the caller must give it."""
        return self.default is MISSING


@attrs.frozen
class Edge(Generic[S]):
    """One row of a machine table."""

    event: str
    sources: tuple[S, ...]
    target: S
    roles: frozenset[Role]
    role_rules: tuple[str, ...] = ()
    """Rule IDs that decide who may fire the event."""
    guards: tuple[Guard, ...] = ()
    effects: tuple[Effect, ...] = ()
    params: tuple[Param, ...] = ()
    timer: Timer | None = None
    branch: Branch | None = None
    summary: str = ""
    """What the edge does, in one line, for the catalogue."""

    @property
    def who_rules(self) -> tuple[str, ...]:
        """The rules that say who may fire it: its role rules, or its timer's rule."""
        if self.role_rules or self.timer is None:
            return self.role_rules
        return (self.timer.rule_id,)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Every rule ID this edge cites, in table order and without repeats."""
        ids = [*self.role_rules, *(g.rule_id for g in self.guards)]
        ids += [e.rule_id for e in self.effects if e.rule_id]
        if self.timer:
            ids.append(self.timer.rule_id)
        return tuple(dict.fromkeys(ids))


@attrs.frozen
class Forbidden(Generic[S]):
    """A documented refusal: *event* exists but a rule forbids it from these states.

    Where the rulebook says *why* an event cannot happen in a state (an active
    milestone cannot be edited, MS-3), the caller gets a
    :class:`~statemachines.errors.TransitionRefused` citing that rule instead of
    a bare :class:`~statemachines.errors.IllegalTransition`. Nothing is drawn.
    """

    event: str
    sources: tuple[S, ...]
    roles: frozenset[Role]
    rule_id: str
    reason: Check
    """Returns the reason (it always refuses)."""

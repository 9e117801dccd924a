"""Exceptions raised by :mod:`statemachines`.

Every "no" this library says is one of these, never a bare ``False``. The tree
follows the decision a caller has to make::

    StatemachinesError
    ├── DefinitionError          a machine table is malformed (raised at import time)
    ├── InvalidInput             a value was rejected before anything happened (ValueError)
    │   ├── NaiveDatetime        a datetime without a timezone
    │   ├── ClockError           time would go backwards
    │   ├── CurrencyMismatch     two amounts in different currencies
    │   ├── InvalidAmount        a negative, zero or non-integer amount
    │   ├── InvalidPayload       unknown, missing or mistyped event arguments
    │   └── SnapshotError        a saved aggregate could not be restored
    └── TransitionError          an event was not applied; the aggregate is unchanged
        ├── IllegalTransition    no edge for this event from the current state
        │   └── UnknownEvent     the machine has no such event at all
        ├── NotPermitted         the actor's role or party may not fire this event (rule IDs)
        └── TransitionRefused    an edge exists, but business rules said no

A :class:`TransitionRefused` carries every violated rule (no short-circuit), each
with its rule ID, a sentence a support agent can read to the user, and
structured data for programs. A :class:`NotPermitted` carries the rule that decides
who may act, the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from types import MappingProxyType
from typing import NamedTuple


class StatemachinesError(Exception):
    """Base class for every exception this package raises on purpose."""


class DefinitionError(StatemachinesError, TypeError):
    """A machine table is inconsistent (unknown state, duplicate edge, exits from a terminal)."""


class InvalidInput(StatemachinesError, ValueError):
    """A value handed to the library was rejected; nothing was changed."""


class NaiveDatetime(InvalidInput):
    """A datetime without timezone information was given where UTC is required."""


class ClockError(InvalidInput):
    """A clock or a decision would move time backwards."""


class CurrencyMismatch(InvalidInput):
    """Two amounts in different currencies were combined or compared."""


class InvalidAmount(InvalidInput):
    """An amount is negative, zero where a positive one is required, or not an integer."""


class InvalidPayload(InvalidInput):
    """An event was given arguments it does not take, lacks one it needs, or got a wrong type."""


class SnapshotError(InvalidInput):
    """A snapshot is malformed: unknown schema or version, unknown state, bad or missing field."""


class Violation(NamedTuple):
    """One rule that refused a transition, in words fit for the person who asked."""

    rule_id: str
    """The rulebook ID of the rule, e.g. ``"MS-REVIEW-1"``."""

    reason: str
    """A sentence a support agent can read to the user, with the offending values in it."""

    data: Mapping[str, object] = MappingProxyType({})
    """The same facts for programs (amounts in minor units, timestamps, ids)."""

    def __str__(self) -> str:
        return f"[{self.rule_id}] {self.reason}"


_RULE_ID = itemgetter(0)
_new_exception = BaseException.__new__


class TransitionError(StatemachinesError):
    """An event could not be applied. The aggregate is exactly as it was before."""

    def __init__(self, message: str, *, machine: str, state: str, event: str) -> None:
        super().__init__(message)
        self.machine = machine
        self.state = state
        self.event = event


class IllegalTransition(TransitionError):
    """The machine has no edge for *event* from *state*: a bug in the caller or a stale UI."""


class UnknownEvent(IllegalTransition):
    """The machine does not define *event* at all."""


class _CitesRules:
    """What :class:`NotPermitted` and :class:`TransitionRefused` share: the rules that said no."""

    violations: tuple[Violation, ...]

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The IDs of the violated rules, in the order the table lists them."""
        return tuple(map(_RULE_ID, self.violations))

    @property
    def reasons(self) -> tuple[str, ...]:
        """The readable reasons, one per violation."""
        return tuple(v.reason for v in self.violations)


class NotPermitted(_CitesRules, TransitionError):
    """The actor may not fire this event on this aggregate (wrong role or wrong party).

    Like a refusal, it cites the rules that decide who may act (``violations``: normally
    one, with its rule ID, a reason a support agent can read, and data for programs).
    """

    def __init__(
        self,
        message: str,
        *,
        machine: str,
        state: str,
        event: str,
        actor: str,
        allowed_roles: Sequence[str],
        violations: Sequence[Violation] = (),
    ) -> None:
        super().__init__(message, machine=machine, state=state, event=event)
        self.actor = actor
        self.allowed_roles = tuple(allowed_roles)
        self.violations = tuple(violations)


class TransitionRefused(_CitesRules, TransitionError):
    """An edge exists but one or more business rules refused it; ``violations`` is never empty."""

    def __init__(
        self,
        message: str,
        *,
        machine: str,
        state: str,
        event: str,
        violations: Sequence[Violation],
    ) -> None:
        if not violations:
            msg = "TransitionRefused needs at least one violation"
            raise ValueError(msg)
        super().__init__(message, machine=machine, state=state, event=event)
        self.violations = tuple(violations)


def refused(
    message: str, machine: str, state: str, event: str, violations: Sequence[Violation]
) -> TransitionRefused:
    """Build a :class:`TransitionRefused` as its constructor would, at a third of the cost.

    Refusals are built on the engine's hot path, and an exception class with a
    Python ``__init__`` taking keywords is slow to call; this sets the same
    attributes on a bare instance. *violations* must not be empty.
    """
    err = _new_exception(TransitionRefused, message)
    err.machine = machine
    err.state = state
    err.event = event
    err.violations = tuple(violations)
    return err

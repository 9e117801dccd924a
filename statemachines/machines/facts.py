"""Facts that the account, team, job and proposal machines read about one another.

Each of these machines decides from its own aggregate plus a few facts about
other aggregates: the state of the account that would post a job, the
contracts that make a member the contact person, and so on. A
:class:`FactsWorkflow` is given a function that supplies those facts for each
attempt; the marketplace passes its own, tests pass a lambda.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from statemachines.core.clock import Clock
from statemachines.core.engine import (
    Aggregate,
    AuditSink,
    Context,
    Guard,
    Reason,
    Workflow,
    fail,
)

__all__ = ["FROZEN", "AccountStates", "FactsWorkflow", "Parties", "starts_nothing"]

S = TypeVar("S", bound=enum.Enum)
A = TypeVar("A", bound=Aggregate)

AccountStates = Mapping[str, str]
"""Account id -> account state value (``"active"``, ``"closing"``, ...)."""

FROZEN = frozenset({"closing", "suspended", "closed"})
"""Account states in which nothing new starts (ACC-FREEZE-D); ``deactivated`` is
refused too, under ACC-DEACT-1 where the profile's hiding is the reason (INV-ACC-9)."""


class FactsWorkflow(Workflow[S, A]):
    """A workflow whose guards read ``ctx.facts`` from a supplied function."""

    def __init__(
        self,
        *,
        clock: Clock,
        facts: Callable[[Any, datetime], Any] | None = None,
        audit: AuditSink | None = None,
    ) -> None:
        super().__init__(clock=clock, audit=audit)
        self.source = facts

    def facts(self, aggregate: A, now: datetime) -> Any:
        """The facts for *aggregate* at *now*, or ``None`` when no source was given."""
        return None if self.source is None else self.source(aggregate, now)


def _state(facts: Any, account: str) -> str:
    if isinstance(facts, Mapping):
        return str(facts.get(account, "active"))
    states = getattr(facts, "accounts", None)
    if isinstance(states, Mapping):
        return str(states.get(account, "active"))
    return "active"


Parties = Callable[[Any], Iterable[tuple[str, str]]]
"""The accounts an event would start something for, each with what it would do."""


def _refuse(
    facts: Any, parties: Iterable[tuple[str, str]], states: frozenset[str]
) -> Reason | None:
    found = [(acc, _state(facts, acc), what) for acc, what in parties]
    found = [f for f in found if f[1] in states]
    if not found:
        return None
    text = "; ".join(
        f"account {acc} is {state}{' and hidden' if state == 'deactivated' else ''}, "
        f"so it cannot {what}"
        for acc, state, what in found
    )
    return fail(text, accounts={acc: state for acc, state, _ in found})


def starts_nothing(parties: Parties, *, hidden: bool = True) -> tuple[Guard, ...]:
    """The guards of an event that starts something (INV-ACC-9): every party of it
    that is frozen refuses it.

    *parties* names, for an aggregate, each account the event would start something
    for and what that account would do. A party that is closing, suspended or closed
    refuses under ACC-FREEZE-D (ADR 0031). A deactivated party refuses under
    ACC-DEACT-1 on proposals and offers (a hidden profile neither sends nor receives
    them, ADR 0017), or under ACC-FREEZE-D elsewhere (*hidden* false).
    """
    frozen = FROZEN if hidden else FROZEN | {"deactivated"}

    def not_frozen(agg: Any, ctx: Context) -> Reason | None:
        return _refuse(ctx.facts, parties(agg), frozen)

    if not hidden:
        return (Guard("ACC-FREEZE-D", not_frozen),)

    def not_hidden(agg: Any, ctx: Context) -> Reason | None:
        return _refuse(ctx.facts, parties(agg), frozenset({"deactivated"}))

    return Guard("ACC-FREEZE-D", not_frozen), Guard("ACC-DEACT-1", not_hidden)

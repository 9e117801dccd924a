"""Facts that the account, team, job and proposal machines read about one another.

Each of these machines decides from its own aggregate plus a few facts about
other aggregates: the state of the account that would post a job, the
contracts that make a member the contact person, and so on. A
:class:`FactsWorkflow` is given a function that supplies those facts for each
attempt; the marketplace passes its own, tests pass a lambda.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from statemachines.core.clock import Clock
from statemachines.core.engine import Aggregate, AuditSink, Reason, Workflow, fail

__all__ = ["AccountStates", "FactsWorkflow", "account_frozen", "account_hidden"]

S = TypeVar("S", bound=enum.Enum)
A = TypeVar("A", bound=Aggregate)

AccountStates = Mapping[str, str]
"""Account id -> account state value (``"active"``, ``"closing"``, ...)."""

FROZEN = frozenset({"closing", "suspended", "closed"})
"""Account states in which nothing new starts (ACC-FREEZE-D)."""


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


def account_frozen(facts: Any, account: str, what: str) -> Reason | None:
    """ACC-FREEZE-D: refuse *what* for an account that is closing, suspended or closed."""
    state = _state(facts, account)
    if state in FROZEN:
        return fail(f"account {account} is {state}, so it cannot {what}", account_state=state)
    return None


def account_hidden(facts: Any, account: str, what: str) -> Reason | None:
    """ACC-DEACT-1: refuse *what* for an account that is deactivated (hidden)."""
    if _state(facts, account) == "deactivated":
        return fail(
            f"account {account} is deactivated and hidden, so it cannot {what}",
            account_state="deactivated",
        )
    return None

"""The invariants the search checks in every state, re-checked only where a step changed.

A step changes one or two aggregates; the state it left was checked. Each invariant
reads some kinds of aggregate (and perhaps the time and the store's records), listed in
:data:`READS`: when none of what it reads changed since a check it passed, it passes again,
and :class:`Checks` does not run it. A contract's invariants read only the contract (its
milestones and history included, as :mod:`statemachines.machines.invariants` promises), so
they run again only for a contract that changed.

Two things keep that honest. :data:`READS` is a premise, like the state key's: a share of the
steps (:attr:`~statemachines.verify.world.Bounds.full_check`), new states and states seen
before alike, is checked in full, so a read the table forgets is still caught there
(``tests/verify/test_checks.py`` shows broken guards caught with every read forgotten).
And what a check passed is remembered by the versions of what it read
(:attr:`~statemachines.verify.world.Saved.version`), which are given by content: the same
version is the same fields, history and children.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from statemachines.machines.invariants import CONTRACT_INVARIANTS, TIMED_CONTRACT_INVARIANTS
from statemachines.marketplace.invariants import ACCOUNT_INVARIANTS
from statemachines.marketplace.market import KINDS, Marketplace
from statemachines.verify.invariants import offers_start_contracts
from statemachines.verify.key import key_premises

__all__ = ["READS", "Checks"]

_EVERYTHING = frozenset({*KINDS, "contact", "past_due", "now"})

READS: dict[str, frozenset[str]] = {
    "inv_acc_1_closed_is_absorbing": frozenset({"account"}),
    "inv_acc_2_only_owners_close": frozenset({"account"}),
    # the obligations: contracts (and their contact person), proposals, jobs, members, debts
    # (not the balances, the only part that depends on the time)
    "inv_acc_3_no_closure_with_live_obligations": _EVERYTHING - {"now"},
    "inv_acc_4_combined_accounts_move_together": frozenset({"account"}),
    "inv_acc_5_agency_closure_keeps_the_owner": frozenset(
        {"account", "membership", "contract", "proposal"}
    ),
    "inv_acc_6_reactivation_is_bounded": frozenset({"account"}),
    "inv_acc_7_reactivation_token": frozenset({"account"}),
    "inv_acc_8_team_accounts": frozenset({"account", "membership"}),
    # payments, refunds (contracts) and withdrawals (accounts); pending money turns available
    "inv_money_10_balances": frozenset({"account", "contract", "now"}),
    "inv_team_1_contact_person_never_removed": frozenset({"membership", "contract", "contact"}),
    "inv_team_2_owner_always_a_member": frozenset({"account", "membership"}),
    "inv_time_4_company_closure_timing": frozenset({"account", "contract"}),
    # the checker's own
    "offers_start_contracts": frozenset({"contract", "proposal", "contact"}),
    "key_premises": frozenset({"account", "contract", "now"}),
}
"""What each whole-marketplace invariant reads: kinds of aggregate, ``contact`` and
``past_due`` (the store's records) and ``now`` (the time)."""

Whole = Callable[[Marketplace, datetime], list[str]]
"""An invariant of the whole marketplace at a moment."""

_WHOLE: tuple[tuple[str, Whole], ...] = (
    *((inv.__name__, lambda market, now, inv=inv: inv(market)) for inv in ACCOUNT_INVARIANTS),
    ("key_premises", key_premises),
)


KEEP = 5_000_000
"""How many passed checks are remembered at most (all are forgotten when there are more)."""


class Checks:
    """Runs the invariants of a state, skipping those whose inputs a passed check saw."""

    def __init__(self, *, jobs: int = 0, initial_contracts: int = 0) -> None:
        self.whole = list(_WHOLE)
        if jobs:
            self.whole.append(
                (
                    "offers_start_contracts",
                    lambda market, now: offers_start_contracts(market, initial_contracts),
                )
            )
        self.reads = dict(READS)
        self._groups: list[tuple[tuple[str, ...], list[Whole]]] | None = None
        self.passed: set[tuple[Any, ...]] = set()
        self.run = 0
        """Invariant evaluations made."""
        self.reused = 0
        """Invariant evaluations skipped: nothing they read changed since one passed."""

    def state(
        self, market: Marketplace, now: datetime, versions: Mapping[int, int], *, full: bool
    ) -> list[str]:
        """The problems of the world as it is (its aggregates at *versions*) at *now*; with
        *full*, every invariant runs (and what passes is remembered)."""
        if len(self.passed) >= KEEP:
            self.passed.clear()  # memory stays bounded; what was dropped runs again
        problems: list[str] = []
        store = market.store
        for c in store.values("contract"):
            version = versions[id(c)]
            memo: tuple[Any, ...] = ("contract", version)
            if full or memo not in self.passed:
                found = [p for inv in CONTRACT_INVARIANTS for p in inv(c)]
                self.run += len(CONTRACT_INVARIANTS)
                problems += found
                if not found:
                    self.passed.add(memo)
            else:
                self.reused += len(CONTRACT_INVARIANTS)
            memo = ("timed", version, now)
            if full or memo not in self.passed:
                found = [p for inv in TIMED_CONTRACT_INVARIANTS for p in inv(c, now)]
                self.run += len(TIMED_CONTRACT_INVARIANTS)
                problems += found
                if not found:
                    self.passed.add(memo)
            else:
                self.reused += len(TIMED_CONTRACT_INVARIANTS)
        inputs = _Inputs(market, now, versions)
        for reads, group in self.groups():
            memo = (reads, *[inputs.one(what) for what in reads])
            if not full and memo in self.passed:
                self.reused += len(group)
                continue
            found = [p for inv in group for p in inv(market, now)]
            self.run += len(group)
            problems += found
            if not found:
                self.passed.add(memo)
        return problems

    def groups(
        self,
    ) -> list[tuple[tuple[str, ...], list[Callable[[Marketplace, datetime], list[str]]]]]:
        """The whole-marketplace invariants, grouped by what they read (one memo a group)."""
        if self._groups is None:
            by: dict[tuple[str, ...], list[Whole]] = {}
            for name, inv in self.whole:
                by.setdefault(tuple(sorted(self.reads[name])), []).append(inv)
            self._groups = list(by.items())
        return self._groups


class _Inputs:
    """What the invariants may read, as hashable values, each made once per state."""

    def __init__(self, market: Marketplace, now: datetime, versions: Mapping[int, int]) -> None:
        self.market = market
        self.now = now
        self.versions = versions
        self.made: dict[str, Any] = {}

    def one(self, what: str) -> Any:
        value = self.made.get(what)
        if value is None:
            if what == "now":
                value = self.now
            elif what in KINDS:
                versions = self.versions
                value = tuple([versions[id(a)] for a in self.market.store.values(what)])
            else:  # a kind of record the store keeps beside the aggregates
                items = self.market.store._items.get(what, {})  # type: ignore[attr-defined]
                value = tuple(sorted((k, repr(v)) for k, v in items.items()))
            self.made[what] = value
        return value

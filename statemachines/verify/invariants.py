"""The invariants the checker adds to the rulebook's: those of one step, and of offers.

The rulebook's §6 invariants of one state live beside the machines
(:mod:`statemachines.machines.invariants`, :mod:`statemachines.marketplace.invariants`).
The ones here compare two states (before and after a step: :data:`STEP_INVARIANTS`, fed
by :func:`states_of` and :func:`moneys_of`), or tie a contract to the offer that started
it (:func:`offers_start_contracts`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from statemachines.machines.account.table import Account
from statemachines.machines.contract.table import Contract
from statemachines.machines.proposal import ProposalState
from statemachines.machines.team import Membership
from statemachines.marketplace.market import Marketplace

__all__ = [
    "STEP_INVARIANTS",
    "StepPart",
    "moneys_of",
    "offers_start_contracts",
    "states_of",
    "step_closed_stays_closed",
    "step_money_never_shrinks",
    "step_no_way_back",
    "step_part",
    "step_problems",
]

_KINDS = ("account", "membership", "contract")
"""The kinds :func:`states_of` and :func:`moneys_of` read (job states are not comparable
with the step invariants' names: a job is ``closed`` and reposted)."""


def step_closed_stays_closed(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """INV-ACC-1, step-wise: an account closed before a step is closed after it."""
    return [
        f"account {k} left closed for {after.get(k)}"
        for k, v in before.items()
        if v == "closed" and after.get(k) != "closed"
    ]


_AFTER_END = {"ending", "ended", "refunded"}
_DONE_MS = {"approved", "cancelled"}


def step_no_way_back(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """INV-CTR-1 and MS-6, step-wise: no contract goes back to work after its end, and an
    approved or cancelled milestone stays so."""
    problems = []
    for k, v in before.items():
        now = after.get(k)
        if v in _AFTER_END and now not in _AFTER_END:
            problems.append(f"contract {k} went from {v} back to {now}")
        if v in _DONE_MS and now != v:
            problems.append(f"milestone {k} went from {v} to {now}")
    return problems


def step_money_never_shrinks(
    before: Mapping[str, tuple[int, int]], after: Mapping[str, tuple[int, int]]
) -> list[str]:
    """INV-MONEY-6, step-wise: what escrow released and what was refunded never go down."""
    return [
        f"contract {k}: released/refunded went from {v} to {after[k]}"
        for k, v in before.items()
        if k in after and (after[k][0] < v[0] or after[k][1] < v[1])
    ]


STEP_INVARIANTS: tuple[Callable[..., list[str]], ...] = (
    step_closed_stays_closed,
    step_no_way_back,
    step_money_never_shrinks,
)
"""Invariants of one step, defined here because they compare two states: each takes the
states (or amounts) by aggregate id before and after the step (see :func:`states_of`)."""


def offers_start_contracts(market: Marketplace, initial: int) -> list[str]:
    """Every accepted offer started exactly one contract, with the proposal's parties and
    the member who sent the offer as its contact person (TEAM-2); the world's first
    *initial* contracts were there from the start."""
    started = sorted(
        (
            (c.client, c.freelancer, c.agency, c.member, market._contact(c.id))
            for c in list(market.store.values("contract"))[initial:]
        ),
        key=repr,
    )
    accepted = sorted(
        (
            (
                p.company,
                p.freelancer,
                p.agency,
                p.author,
                next((d.actor.id for d in p.history if d.event == "send_offer"), None),
            )
            for p in market.store.values("proposal")
            if p.state is ProposalState.ACCEPTED
        ),
        key=repr,
    )
    if started == accepted:
        return []
    return [f"accepted offers {accepted} but contracts started {started}"]


def states_of(market: Marketplace) -> dict[str, str]:
    """The state of every account, membership, contract and milestone, by id (for
    :data:`STEP_INVARIANTS`)."""
    out: dict[str, str] = {}
    for kind in _KINDS:
        for agg in market.store.values(kind):
            out[agg.id] = agg.state.value
            if isinstance(agg, Contract):
                for ms in agg.milestones:
                    out[ms.id] = ms.state.value
    return out


def moneys_of(market: Marketplace) -> dict[str, tuple[int, int]]:
    """Per contract: cents released from escrow and refunded (for
    :func:`step_money_never_shrinks`)."""
    return {
        c.id: (c.escrow_released.cents, c.refunds_total.cents)
        for c in market.store.values("contract")
    }


class StepPart(NamedTuple):
    """What the step invariants read of one aggregate (see :func:`step_part`)."""

    states: tuple[tuple[str, str], ...]
    """(id, state) of the aggregate and of its milestones; empty for the kinds
    :func:`states_of` leaves out."""
    money: tuple[str, tuple[int, int]] | None
    """A contract's (id, (cents released, cents refunded)); None for the other kinds."""


_NO_PART = StepPart((), None)


def step_part(agg: Any) -> StepPart:
    """What :func:`states_of` and :func:`moneys_of` read of *agg* alone (the step invariants
    of a step that changed only some aggregates compare only theirs)."""
    if isinstance(agg, Contract):
        states = ((agg.id, agg.state.value), *((ms.id, ms.state.value) for ms in agg.milestones))
        return StepPart(states, (agg.id, (agg.escrow_released.cents, agg.refunds_total.cents)))
    if isinstance(agg, Account | Membership):
        return StepPart(((agg.id, agg.state.value),), None)
    return _NO_PART


def step_problems(before: Iterable[StepPart], after: Iterable[StepPart]) -> list[str]:
    """The :data:`STEP_INVARIANTS` of a step, read from the parts of the aggregates it may
    have changed, before and after it (an aggregate it left alone passes them: its state
    and its money are what they were)."""
    states_before = {k: v for part in before for k, v in part.states}
    moneys_before = dict(part.money for part in before if part.money is not None)
    after = list(after)
    states_after = {k: v for part in after for k, v in part.states}
    moneys_after = dict(part.money for part in after if part.money is not None)
    return [
        *step_closed_stays_closed(states_before, states_after),
        *step_no_way_back(states_before, states_after),
        *step_money_never_shrinks(moneys_before, moneys_after),
    ]

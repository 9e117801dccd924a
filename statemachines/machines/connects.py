"""Connects: the credits a freelancer's or an agency's proposals spend, and when they come back.

A :class:`ConnectsWallet` belongs to a freelancer or to an agency; an agency's
members all spend from the agency's wallet (TEAM-8). A proposal spends Connects
once, from a balance that holds them (CONNECTS-D). They come back, once, only when
the client cancels the project before any contract is made or the platform
removes the post for breaking its terms (JOB-4); never when the freelancer
withdraws, the client declines or hires someone else, or the post expires
(PROP-3). The marketplace says why a proposal ended when it asks for a return.

>>> from datetime import datetime
>>> from statemachines import SYSTEM, Actor, ManualClock, Role, UTC
>>> ledger = ConnectsLedger(clock=ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)))
>>> w = ConnectsWallet(id="fl-1", owner="fl-1", balance=20)
>>> _ = ledger.fire(w, "spend", Actor("fl-1", Role.FREELANCER), proposal="P-1", connects=6)
>>> print(ledger.explain(w, "return_connects", SYSTEM, proposal="P-1",
...                      reason=ReturnReason.EXPIRED).error.reasons[0])
Connects are not returned when the post expired without a hire
>>> _ = ledger.fire(w, "return_connects", SYSTEM, proposal="P-1",
...                 reason=ReturnReason.CLIENT_CANCELLED)
>>> w.balance, w.returned
(20, ('P-1',))
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from statemachines.core.actors import Actor, Role
from statemachines.core.engine import (
    Context,
    Deadline,
    Decision,
    Edge,
    Effect,
    Guard,
    MachineSpec,
    Param,
    Reason,
    Workflow,
    fail,
)

__all__ = ["CONNECTS", "ConnectsLedger", "ConnectsState", "ConnectsWallet", "ReturnReason"]


class ConnectsState(enum.Enum):
    """Whether the wallet is in use; the values are the persisted form."""

    OPEN = "open"
    """In use: proposals spend from it and returns go back into it."""
    CLOSED = "closed"
    """The account or agency closed (final)."""


C = ConnectsState


class ReturnReason(enum.Enum):
    """Why a proposal's job or the proposal itself came to an end."""

    CLIENT_CANCELLED = "client_cancelled"
    """The client removed the post before any contract was made (JOB-4: returned)."""
    REMOVED_FOR_TERMS = "removed_for_terms"
    """The platform removed the post for breaking its terms (JOB-4: returned)."""
    WITHDRAWN = "withdrawn"
    """The freelancer withdrew the proposal (PROP-3: kept)."""
    DECLINED = "declined"
    """The client declined it (PROP-3: kept)."""
    HIRED_SOMEONE_ELSE = "hired_someone_else"
    """The client hired another freelancer (PROP-3: kept)."""
    EXPIRED = "expired"
    """The post expired without a hire (PROP-3, JOB-2: kept)."""


RETURNED = frozenset({ReturnReason.CLIENT_CANCELLED, ReturnReason.REMOVED_FOR_TERMS})
_KEPT_BECAUSE = {
    ReturnReason.WITHDRAWN: "the freelancer withdrew the proposal",
    ReturnReason.DECLINED: "the client declined the proposal",
    ReturnReason.HIRED_SOMEONE_ELSE: "the client hired someone else",
    ReturnReason.EXPIRED: "the post expired without a hire",
}


@attrs.define(eq=True)
class ConnectsWallet:
    """The Connects of one freelancer or one agency."""

    id: str
    owner: str
    """The freelancer's account, or the agency."""
    agency: bool = False
    state: ConnectsState = ConnectsState.OPEN
    balance: int = 0
    spent: tuple[tuple[str, int], ...] = ()
    """(proposal, Connects) for every proposal that spent some."""
    returned: tuple[str, ...] = ()
    """The proposals whose Connects came back (JOB-4), each once."""
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    def spent_on(self, proposal: str) -> int:
        """What *proposal* spent (0 if it spent nothing)."""
        return dict(self.spent).get(proposal, 0)


# --------------------------------------------------------------------------- guards


def _positive(w: ConnectsWallet, ctx: Context) -> Reason | None:
    n: int = ctx.payload["connects"]
    if n <= 0:
        return fail(f"a number of Connects is more than 0, not {n}", connects=n)
    return None


def _enough(w: ConnectsWallet, ctx: Context) -> Reason | None:
    n: int = ctx.payload["connects"]
    if n > w.balance:
        return fail(
            f"{w.owner} has {w.balance} Connects; the proposal needs {n}",
            balance=w.balance,
            needed=n,
        )
    return None


def _first_spend(w: ConnectsWallet, ctx: Context) -> Reason | None:
    proposal: str = ctx.payload["proposal"]
    if w.spent_on(proposal):
        return fail(f"proposal {proposal} already spent {w.spent_on(proposal)} Connects")
    return None


def _returnable(w: ConnectsWallet, ctx: Context) -> Reason | None:
    reason: ReturnReason = ctx.payload["reason"]
    if reason not in RETURNED:
        return fail(f"Connects are not returned when {_KEPT_BECAUSE[reason]}", reason=reason.value)
    return None


def _returned_once(w: ConnectsWallet, ctx: Context) -> Reason | None:
    proposal: str = ctx.payload["proposal"]
    if not w.spent_on(proposal):
        return fail(f"proposal {proposal} spent no Connects from {w.owner}'s balance")
    if proposal in w.returned:
        return fail(f"the Connects of proposal {proposal} were already returned")
    return None


# --------------------------------------------------------------------------- effects


def _add(w: ConnectsWallet, ctx: Context) -> None:
    w.balance += ctx.payload["connects"]


def _spend(w: ConnectsWallet, ctx: Context) -> None:
    n: int = ctx.payload["connects"]
    w.balance -= n
    w.spent = (*w.spent, (ctx.payload["proposal"], n))


def _give_back(w: ConnectsWallet, ctx: Context) -> None:
    proposal: str = ctx.payload["proposal"]
    w.balance += w.spent_on(proposal)
    w.returned = (*w.returned, proposal)


# --------------------------------------------------------------------------- permissions


HOLDERS = frozenset({Role.FREELANCER, Role.AGENCY_OWNER, Role.BUSINESS_MANAGER, Role.AGENCY_MEMBER})
"""TEAM-8: any agency member spends the agency's Connects; a freelancer spends their own."""
SYS = frozenset({Role.SYSTEM})


def _authorize(w: ConnectsWallet, actor: Actor, edge: Edge[Any] | None) -> str | None:
    if actor.role in (Role.SYSTEM, Role.SUPPORT):
        return None
    if actor.role is Role.FREELANCER:
        ok = not w.agency and actor.id == w.owner
    else:
        ok = w.agency and actor.party == w.owner
    return None if ok else f"these are the Connects of {w.owner!r}, not of {actor}"


PROPOSAL = Param("proposal", (str,), doc="the proposal")
CONNECTS_PARAM = Param("connects", (int,), doc="how many Connects")

CONNECTS: MachineSpec[ConnectsState, ConnectsWallet] = MachineSpec(
    name="connects",
    description="A freelancer's or agency's Connects: spent on proposals, returned by JOB-4.",
    states=ConnectsState,
    initial=C.OPEN,
    terminal=(C.CLOSED,),
    model=ConnectsWallet,
    authorize=_authorize,
    edges=(
        Edge(
            "add",
            (C.OPEN,),
            C.OPEN,
            HOLDERS | SYS,
            ("TEAM-8",),
            guards=(Guard("CONNECTS-D", _positive, uses=("connects",)),),
            effects=(Effect("CONNECTS-D", _add),),
            params=(CONNECTS_PARAM,),
            summary="Connects are bought or granted.",
        ),
        Edge(
            "spend",
            (C.OPEN,),
            C.OPEN,
            HOLDERS,
            ("TEAM-8",),
            guards=(
                Guard("CONNECTS-D", _positive, uses=("connects",)),
                Guard("CONNECTS-D", _enough, uses=("connects",)),
                Guard("CONNECTS-D", _first_spend, uses=("proposal",)),
            ),
            effects=(Effect("CONNECTS-D", _spend),),
            params=(PROPOSAL, CONNECTS_PARAM),
            summary="A proposal spends Connects (an agency's members spend the agency's).",
        ),
        Edge(
            "return_connects",
            (C.OPEN,),
            C.OPEN,
            SYS,
            ("JOB-4",),
            guards=(
                Guard("PROP-3", _returnable, uses=("reason",)),
                Guard("JOB-4", _returned_once, uses=("proposal",)),
            ),
            effects=(Effect("JOB-4", _give_back),),
            params=(PROPOSAL, Param("reason", (ReturnReason,), doc="why the proposal ended")),
            summary="A cancelled or removed post gives its proposals' Connects back, once.",
        ),
        Edge(
            "close",
            (C.OPEN,),
            C.CLOSED,
            SYS,
            ("CONNECTS-D",),
            summary="The account or agency closed.",
        ),
    ),
)


class ConnectsLedger(Workflow[ConnectsState, ConnectsWallet]):
    """Fires Connects events: ``ledger.fire(w, "spend", fl, proposal="P-1", connects=6)``."""

    spec = CONNECTS

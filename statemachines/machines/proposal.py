"""Proposal: draft -> submitted -> withdrawn / declined / offer_pending -> accepted (§5.11).

A freelancer's (or agency's) open proposals and pending offers block its
closure (ACC-CLOSE-FL-3, ACC-CLOSE-AG-4). Withdrawing is allowed until an offer
arrives (PROP-1); after that the offer is declined or accepted. Neither
withdrawing nor declining costs anything (PROP-2). Accepting an offer is where
the marketplace starts a contract.

Submitting may cost Connects (its ``connects`` argument, 0 by default): the
freelancer's or the agency's balance must hold them (CONNECTS-D, TEAM-8), and the
marketplace spends them from the wallet in the same unit of work (ADR 0077).

>>> from datetime import datetime
>>> from statemachines import Actor, ManualClock, Role, UTC
>>> clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
>>> flow = ProposalFlow(clock=clock)
>>> p = Proposal(id="P-1", job="J-4", company="co-1", freelancer="fl-1")
>>> fl = Actor("fl-1", Role.FREELANCER)
>>> _ = flow.fire(p, "submit", fl)
>>> _ = flow.fire(p, "send_offer", Actor("ana", Role.CLIENT_OWNER, party="co-1"))
>>> print(flow.explain(p, "withdraw", fl).error.violations[0])
[PROP-1] an offer was made on proposal P-1, so it can no longer be withdrawn; decline the
offer instead
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from statemachines.core.actors import CLIENT_DECIDERS, Actor, Role
from statemachines.core.engine import (
    Context,
    Deadline,
    Decision,
    Edge,
    Effect,
    Forbidden,
    Guard,
    MachineSpec,
    Param,
    Reason,
    fail,
)
from statemachines.core.fields import check_fields
from statemachines.machines.facts import FactsWorkflow, starts_nothing

__all__ = ["PROPOSAL", "Proposal", "ProposalFlow", "ProposalState"]


class ProposalState(enum.Enum):
    """Where a proposal is; the values are the persisted form."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    DECLINED = "declined"
    OFFER_PENDING = "offer_pending"
    ACCEPTED = "accepted"
    OFFER_DECLINED = "offer_declined"


P = ProposalState
OPEN = frozenset({P.SUBMITTED, P.OFFER_PENDING})
"""States that block the freelancer's or agency's closure."""


@attrs.define(eq=True)
class Proposal:
    """One proposal on a job post, and the offer that may follow it."""

    id: str
    job: str
    company: str
    """The client company that posted the job."""
    freelancer: str
    """The freelancer's account, or the agency, that proposes."""
    agency: bool = False
    author: str | None = None
    """The agency member who wrote it (agency proposals)."""
    state: ProposalState = ProposalState.DRAFT
    submitted_at: datetime | None = None
    closed_at: datetime | None = None
    penalty: bool = False
    """Always False: withdrawing or declining costs nothing (PROP-2)."""
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        check_fields(self)


def _job_open(facts: Any, job: str) -> bool:
    jobs = getattr(facts, "jobs", None)
    return True if jobs is None else jobs.get(job, "open") == "open"


def _writer(p: Proposal) -> tuple[tuple[str, str], ...]:
    return ((p.freelancer, "send proposals"),)


def _offer_parties(p: Proposal) -> tuple[tuple[str, str], ...]:
    return ((p.company, "make offers"), (p.freelancer, "receive offers"))


def _accept_parties(p: Proposal) -> tuple[tuple[str, str], ...]:
    return ((p.freelancer, "accept offers"), (p.company, "start contracts"))


def _post_open(p: Proposal, ctx: Context) -> Reason | None:
    if _job_open(ctx.facts, p.job):
        return None
    return fail(f"job post {p.job} is not open, so it takes no proposals", job=p.job)


def _connects_held(p: Proposal, ctx: Context) -> Reason | None:
    """CONNECTS-D: the Connects a proposal costs come from a balance that holds them.

    The balances are facts (``facts.connects``: freelancer or agency -> Connects held);
    without them (a machine used on its own) only the price itself is checked.
    """
    needed: int = ctx.payload["connects"]
    if needed < 0:
        return fail(f"a proposal costs 0 Connects or more, not {needed}", connects=needed)
    balances = getattr(ctx.facts, "connects", None)
    if needed == 0 or balances is None:
        return None
    held: int = balances.get(p.freelancer, 0)
    if needed <= held:
        return None
    who = f"agency {p.freelancer}" if p.agency else p.freelancer
    return fail(
        f"proposal {p.id} needs {needed} Connects and {who} has {held or 'none'}",
        needed=needed,
        balance=held,
    )


def _offer_made(p: Proposal, ctx: Context) -> Reason:
    return fail(
        f"an offer was made on proposal {p.id}, so it can no longer be withdrawn; "
        "decline the offer instead"
    )


def _stamp_submitted(p: Proposal, ctx: Context) -> None:
    p.submitted_at = ctx.now


def _close_free_of_charge(p: Proposal, ctx: Context) -> None:
    p.closed_at = ctx.now
    p.penalty = False


def _stamp_closed(p: Proposal, ctx: Context) -> None:
    p.closed_at = ctx.now


CLIENT = CLIENT_DECIDERS
REVIEWERS = CLIENT_DECIDERS | {Role.SOURCING_MEMBER}
"""TEAM-5: source-talent-only members review proposals but do not hire."""
WRITERS = frozenset({Role.FREELANCER, Role.AGENCY_OWNER, Role.BUSINESS_MANAGER, Role.AGENCY_MEMBER})
"""TEAM-8: any agency member may send agency proposals."""
ANSWERERS = frozenset({Role.FREELANCER, Role.AGENCY_OWNER, Role.BUSINESS_MANAGER})
"""TEAM-8: only business managers (and the owner) answer offers for an agency."""


def _authorize(p: Proposal, actor: Actor, edge: Edge[Any] | None) -> str | None:
    role = actor.role
    if role in (Role.SYSTEM, Role.SUPPORT):
        return None
    if role in REVIEWERS:
        if actor.party != p.company:
            return f"proposal {p.id} was sent to {p.company!r}, not {actor.party!r}"
        return None
    if role is Role.FREELANCER:
        mine = not p.agency and actor.id == p.freelancer
    else:
        mine = p.agency and actor.party == p.freelancer
    return None if mine else f"proposal {p.id} belongs to {p.freelancer!r}, not {actor}"


PROPOSAL: MachineSpec[ProposalState, Proposal] = MachineSpec(
    name="proposal",
    description="A proposal on a job post, withdrawable until an offer arrives.",
    states=ProposalState,
    initial=P.DRAFT,
    terminal=(P.WITHDRAWN, P.DECLINED, P.ACCEPTED, P.OFFER_DECLINED),
    model=Proposal,
    authorize=_authorize,
    edges=(
        Edge(
            "submit",
            (P.DRAFT,),
            P.SUBMITTED,
            WRITERS,
            ("TEAM-8",),
            guards=(
                *starts_nothing(_writer),
                Guard("JOB-1", _post_open),
                Guard("CONNECTS-D", _connects_held, uses=("connects",)),
            ),
            effects=(Effect(None, _stamp_submitted),),
            params=(Param("connects", (int,), 0, "the Connects it costs, spent when it is sent"),),
            summary="Send the proposal to the client; it spends the Connects it costs.",
        ),
        Edge(
            "withdraw",
            (P.SUBMITTED,),
            P.WITHDRAWN,
            WRITERS,
            ("PROP-1",),
            effects=(Effect("PROP-2", _close_free_of_charge),),
            summary="Withdraw before any offer, at no cost.",
        ),
        Edge(
            "decline",
            (P.SUBMITTED,),
            P.DECLINED,
            REVIEWERS,
            ("TEAM-5",),
            effects=(Effect(None, _stamp_closed),),
            summary="The client declines the proposal.",
        ),
        Edge(
            "send_offer",
            (P.SUBMITTED,),
            P.OFFER_PENDING,
            CLIENT,
            ("TEAM-5",),
            guards=starts_nothing(_offer_parties),
            summary="The client offers a contract.",
        ),
        Edge(
            "accept_offer",
            (P.OFFER_PENDING,),
            P.ACCEPTED,
            ANSWERERS,
            ("TEAM-8",),
            guards=starts_nothing(_accept_parties),
            effects=(Effect(None, _stamp_closed),),
            summary="Accept the offer; the marketplace starts the contract.",
        ),
        Edge(
            "decline_offer",
            (P.OFFER_PENDING,),
            P.OFFER_DECLINED,
            ANSWERERS,
            ("TEAM-8",),
            effects=(Effect("PROP-2", _close_free_of_charge),),
            summary="Decline the offer, at no cost.",
        ),
    ),
    forbidden=(Forbidden("withdraw", (P.OFFER_PENDING,), WRITERS, "PROP-1", _offer_made),),
)


class ProposalFlow(FactsWorkflow[ProposalState, Proposal]):
    """Fires proposal events; its guards read the accounts' states and the job's."""

    spec = PROPOSAL

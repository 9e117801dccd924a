"""Fixed-price dispute: filed -> client's answer -> mediation -> arbitration offer -> award (§5.7).

The freelancer side disputes held money in two cases only (FPD-1): the client
ended the contract with money still held (case *a*: within the escrow-refund
request's 7 days, FPD-2, after leaving feedback for the client, FB-6), or the
client does not release a milestone whose work was delivered (case *b*: opened
through support on a running contract, MS-DSP-1; released money is never
disputed, MS-DSP-2, CTR-END-11). Clients never file one (FPD-10). A dormant
contract's disputed release (DORM-1) starts directly in mediation.

The client has 5 business days (FPD-3): accepting or silence releases the money
to the freelancer side (FPD-4); declining needs a reason and evidence that can
never be changed (FPD-5). Mediation lasts at most 30 days; a mediator's proposal
binds no one and both sides have 2 days to accept it. Failing that, each side
has 7 days to pay its share of the arbitration fee (FPD-6, FPD-7): both pay, and
the arbitrator's award binds them; one pays, and the money goes to that side;
neither, and it goes back to the client. A side that does not comply with an
award has its accounting entity suspended (FPD-8, SUSP-2).

The dispute moves no money: :attr:`FixedDispute.to_freelancer` and
:attr:`FixedDispute.to_client` (which add up to the disputed amount, INV-MONEY-4)
are what the contract must release and return, and :attr:`FixedDispute.suspend`
names the accounts to suspend.

>>> from datetime import datetime, timedelta
>>> from statemachines import Actor, ManualClock, Money, Role, UTC
>>> clock = ManualClock(datetime(2026, 3, 6, 10, 0, tzinfo=UTC))  # a Friday
>>> disputes = FixedDisputes(clock=clock)
>>> d = FixedDispute(id="D-1", contract="C-1", client="co-1", freelancer="fl-1",
...                  case=DisputeCase.ENDED_WITH_FUNDS, amount=Money(15_000),
...                  ended_at=clock.now() - timedelta(days=1),
...                  freelancer_feedback_at=clock.now())
>>> _ = disputes.fire(d, "file", Actor("fl-1", Role.FREELANCER))
>>> print(d.respond_by)
2026-03-13 10:00:00+00:00
>>> _ = disputes.advance(d, d.respond_by)
>>> d.state.value, d.resolution.value, d.to_freelancer
('resolved', 'client_silent', Money(15000, 'USD'))
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from statemachines.core.actors import CLIENT_DECIDERS, Actor, Role
from statemachines.core.clock import BUSINESS_DAYS, format_utc
from statemachines.core.engine import (
    Branch,
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
    Timer,
    Workflow,
    fail,
)
from statemachines.core.money import Money
from statemachines.machines.contract.values import Side, side_of
from statemachines.machines.sides import side_problem
from statemachines.rules.fixed_dispute import (
    ARBITRATION_ACCEPT,
    ARBITRATION_FEE,
    FP_DISPUTE_CLIENT_RESPONSE,
    FP_DISPUTE_FILE_WINDOW,
    FP_RESOLUTION_RESPONSE,
    MEDIATION_MAX,
    PLATFORM_FEE_ABOVE,
    PLATFORM_FEE_SHARE,
)

__all__ = [
    "FIXED_DISPUTE",
    "DisputeCase",
    "FixedDispute",
    "FixedDisputeState",
    "FixedDisputes",
    "Resolution",
    "fee_shares",
]

ANSWER = "answer"
"""The key of the client's 5-business-day deadline (FPD-3)."""
CAP = "mediation-cap"
"""The key of the 30-day mediation cap (FPD-5)."""
PROPOSAL = "proposal"
"""The key of the 2 days to accept a proposal (FPD-5)."""
OFFER = "arbitration-offer"
"""The key of the 7 days to pay for arbitration (FPD-6)."""


class FixedDisputeState(enum.Enum):
    """Where a fixed-price dispute is; the values are the persisted form."""

    DRAFT = "draft"
    """Being prepared; nothing is filed yet."""
    AWAITING_CLIENT = "awaiting_client"
    """Filed: the client has 5 business days to accept or decline (FPD-3)."""
    MEDIATION = "mediation"
    """The client declined with reason and evidence: a mediator works on it (FPD-5)."""
    AWAITING_ACCEPTANCE = "awaiting_acceptance"
    """The mediator proposed a split; both sides have 2 days to accept (FPD-5)."""
    ARBITRATION_OFFER = "arbitration_offer"
    """Mediation failed: each side has 7 days to pay its arbitration fee (FPD-6)."""
    ARBITRATION = "arbitration"
    """Both paid: the arbitrator decides (FPD-6, FPD-7)."""
    AWARDED = "awarded"
    """The arbitrator decided; the award binds both sides (FPD-6, FPD-8)."""
    RESOLVED = "resolved"
    """Settled without an award (final)."""


F = FixedDisputeState


class DisputeCase(enum.Enum):
    """Why the money is disputed (FPD-1, DORM-1)."""

    ENDED_WITH_FUNDS = "ended_with_funds"
    """Case (a): the client ended the contract while money was held."""
    NOT_RELEASED = "not_released"
    """Case (b): the client does not release a milestone whose work was delivered."""
    DORMANT = "dormant"
    """The client disputed a dormant contract's release (DORM-1): mediation at once."""


class Resolution(enum.Enum):
    """How the disputed money was settled."""

    CLIENT_ACCEPTED = "client_accepted"
    CLIENT_SILENT = "client_silent"
    PROPOSAL_ACCEPTED = "proposal_accepted"
    SETTLED = "settled"
    """Both sides agreed in mediation; the mediator recorded it."""
    FREELANCER_PAID_FEE = "freelancer_paid_fee"
    """Only the freelancer side paid for arbitration: the money goes to it."""
    CLIENT_PAID_FEE = "client_paid_fee"
    """Only the client paid for arbitration: the money goes back to it."""
    NO_FEE_PAID = "no_fee_paid"
    """Neither side paid: the money goes back to the client."""
    AWARD = "award"


REVIEWING = ("submitted", "resubmitted", "changes_requested")
"""Milestone states in which delivered work waits for the client's payment (MS-DSP-1)."""
RELEASED = ("approved",)
"""Milestone states whose money was released (MS-DSP-2, CTR-END-11)."""


def _zero() -> Money:
    return Money(0)


def fee_shares(amount: Money, fee: Money = ARBITRATION_FEE) -> tuple[Money, Money, Money]:
    """FPD-7: (the platform's part, the freelancer side's share, the client's share) of *fee*.

    The platform pays 1/:data:`PLATFORM_FEE_SHARE` of the fee for disputes over
    :data:`PLATFORM_FEE_ABOVE`; the sides split the rest, the client paying the odd cent.

    >>> [str(m) for m in fee_shares(Money(50_000))]
    ['US$0.00', 'US$100.00', 'US$100.00']
    >>> [str(m) for m in fee_shares(Money(250_000))]
    ['US$100.00', 'US$50.00', 'US$50.00']
    """
    currency = amount.currency
    platform = fee.cents // PLATFORM_FEE_SHARE if amount.cents > PLATFORM_FEE_ABOVE.cents else 0
    rest = fee.cents - platform
    freelancer = rest // 2
    return (
        Money(platform, currency),
        Money(freelancer, currency),
        Money(rest - freelancer, currency),
    )


@attrs.define(eq=True)
class FixedDispute:
    """A dispute about money held on a fixed-price contract."""

    id: str
    contract: str
    client: str
    freelancer: str
    """The freelancer's account, or the agency that holds the contract."""
    case: DisputeCase
    amount: Money
    """The held money in dispute."""
    agency: bool = False
    milestone: str | None = None
    """Case (b): the milestone not released."""
    milestone_state: str | None = None
    """Case (b): that milestone's state when the dispute was prepared."""
    ended_at: datetime | None = None
    """Case (a): when the client ended the contract."""
    freelancer_feedback_at: datetime | None = None
    """Case (a): when the freelancer side left feedback for the client (FB-6)."""
    state: FixedDisputeState = FixedDisputeState.DRAFT
    filed_at: datetime | None = None
    filed_by: str | None = None
    reason: str = ""
    """The client's reason for declining (FPD-5)."""
    evidence: tuple[str, ...] = ()
    """The client's evidence, fixed once given (FPD-5)."""
    declined_at: datetime | None = None
    proposed_to_freelancer: Money = attrs.field(factory=_zero)
    proposed_to_client: Money = attrs.field(factory=_zero)
    accepted_by: tuple[Side, ...] = ()
    """The sides that accepted the mediator's proposal."""
    freelancer_fee: Money = attrs.field(factory=_zero)
    """The freelancer side's share of the arbitration fee (FPD-7)."""
    client_fee: Money = attrs.field(factory=_zero)
    """The client's share of the arbitration fee (FPD-7)."""
    platform_fee: Money = attrs.field(factory=_zero)
    """The part of the fee the platform pays (FPD-7)."""
    fees_paid: tuple[Side, ...] = ()
    resolution: Resolution | None = None
    to_freelancer: Money = attrs.field(factory=_zero)
    to_client: Money = attrs.field(factory=_zero)
    resolved_at: datetime | None = None
    non_compliant: tuple[Side, ...] = ()
    suspend: tuple[str, ...] = ()
    """Accounts the platform must suspend for not complying with the award (FPD-8, SUSP-2)."""
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def currency(self) -> str:
        """The contract's currency."""
        return self.amount.currency

    def _due(self, key: str) -> datetime | None:
        return next((d.due for d in self.deadlines if d.key == key), None)

    @property
    def respond_by(self) -> datetime | None:
        """When the client's 5 business days end, while they run."""
        return self._due(ANSWER)

    @property
    def mediation_ends(self) -> datetime | None:
        """When mediation reaches its 30-day cap, while it runs."""
        return self._due(CAP)

    @property
    def proposal_due(self) -> datetime | None:
        """When the 2 days to accept the proposal end."""
        return self._due(PROPOSAL)

    @property
    def offer_due(self) -> datetime | None:
        """When the 7 days to pay for arbitration end."""
        return self._due(OFFER)


# --------------------------------------------------------------------------- branches


def _other_side(ctx: Context) -> Side:
    return Side.CLIENT if side_of(ctx.actor) is Side.FREELANCER else Side.FREELANCER


def _other_accepted(d: FixedDispute, ctx: Context) -> bool:
    return _other_side(ctx) in d.accepted_by


def _other_not_accepted(d: FixedDispute, ctx: Context) -> bool:
    return not _other_accepted(d, ctx)


def _other_paid(d: FixedDispute, ctx: Context) -> bool:
    return _other_side(ctx) in d.fees_paid


def _other_not_paid(d: FixedDispute, ctx: Context) -> bool:
    return not _other_paid(d, ctx)


def _paid_only(side: Side | None) -> Callable[[FixedDispute, Context], bool]:
    def test(d: FixedDispute, ctx: Context) -> bool:
        return d.fees_paid == (() if side is None else (side,))

    return test


# --------------------------------------------------------------------------- guards


def _a_case_that_can_be_filed(d: FixedDispute, ctx: Context) -> Reason | None:
    if not d.amount:
        return fail(f"dispute {d.id} is about {d.amount}; a dispute is about money still held")
    if d.case is DisputeCase.DORMANT:
        return fail(
            f"a dormant contract's disputed release goes to mediation by itself; dispute {d.id} "
            "is not filed"
        )
    if d.case is DisputeCase.ENDED_WITH_FUNDS and d.ended_at is None:
        return fail(
            f"contract {d.contract} has not ended; a dispute about held money at the end comes "
            "after the client ends it"
        )
    if d.case is DisputeCase.NOT_RELEASED:
        if d.ended_at is not None:
            return fail(
                f"contract {d.contract} ended on {format_utc(d.ended_at)}; a milestone not "
                "released is disputed while the contract runs"
            )
        if d.milestone is None or d.milestone_state not in (*REVIEWING, *RELEASED):
            state = (d.milestone_state or "unknown").replace("_", " ")
            return fail(
                f"milestone {d.milestone} is {state}; only delivered work waiting for payment "
                "can be disputed",
                milestone_state=d.milestone_state,
            )
    return None


def _within_7_days_of_the_end(d: FixedDispute, ctx: Context) -> Reason | None:
    if d.case is DisputeCase.ENDED_WITH_FUNDS and d.ended_at is not None:
        closes = d.ended_at + FP_DISPUTE_FILE_WINDOW
        if ctx.now > closes:
            return fail(
                f"contract {d.contract} ended on {format_utc(d.ended_at)}; its held money could "
                f"be disputed until {format_utc(closes)}",
                closed=closes.isoformat(),
            )
    return None


def _feedback_first(d: FixedDispute, ctx: Context) -> Reason | None:
    if d.case is DisputeCase.ENDED_WITH_FUNDS and d.freelancer_feedback_at is None:
        return fail(
            f"leave feedback for the client of contract {d.contract} first; a dispute about its "
            "held money can be filed only after that"
        )
    return None


def _not_released(d: FixedDispute, ctx: Context) -> Reason | None:
    if d.case is DisputeCase.NOT_RELEASED and d.milestone_state in RELEASED:
        return fail(
            f"milestone {d.milestone} was released: the client accepted the work and that money "
            "is not disputed; a refund request or mediation assistance remains",
            milestone=d.milestone,
        )
    return None


def _in_time(key: str, what: str) -> Callable[[FixedDispute, Context], Reason | None]:
    def in_time(d: FixedDispute, ctx: Context) -> Reason | None:
        due = d._due(key)
        if due is not None and ctx.now >= due:
            return fail(f"the time to {what} ended at {format_utc(due)}", due=due.isoformat())
        return None

    return in_time


def _reason_and_evidence(d: FixedDispute, ctx: Context) -> Reason | None:
    missing = [n for n in ("reason", "evidence") if not ctx.payload[n].strip()]
    if missing:
        return fail(
            f"declining dispute {d.id} needs a {' and '.join(missing)}; neither can be changed "
            "afterwards",
            missing=missing,
        )
    return None


def _split_adds_up(d: FixedDispute, ctx: Context) -> Reason | None:
    x: Money = ctx.payload["to_freelancer"]
    y: Money = ctx.payload["to_client"]
    if x + y != d.amount:
        return fail(
            f"{x} to the freelancer side and {y} to the client make {x + y}, but {d.amount} is "
            "in dispute",
            disputed=d.amount.cents,
            total=(x + y).cents,
        )
    return None


def _not_yet(field: str, what: str) -> Callable[[FixedDispute, Context], Reason | None]:
    def not_yet(d: FixedDispute, ctx: Context) -> Reason | None:
        side = side_of(ctx.actor)
        assert side is not None, "only the two sides answer proposals and pay fees"
        if side in getattr(d, field):
            return fail(f"the {side.value} side already {what}")
        return None

    return not_yet


def _reported_once(d: FixedDispute, ctx: Context) -> Reason | None:
    side: Side = ctx.payload["side"]
    if side in d.non_compliant:
        return fail(f"the {side.value} side was already reported for not complying")
    return None


def _evidence_fixed(d: FixedDispute, ctx: Context) -> Reason:
    when = format_utc(d.declined_at) if d.declined_at else "earlier"
    return fail(
        f"the client declined dispute {d.id} on {when}; the reason and evidence given then "
        "cannot be changed",
        declined_at=d.declined_at.isoformat() if d.declined_at else None,
    )


# --------------------------------------------------------------------------- effects


def _file(d: FixedDispute, ctx: Context) -> None:
    d.filed_at = ctx.now
    d.filed_by = ctx.actor.id
    due = BUSINESS_DAYS.add(ctx.now, FP_DISPUTE_CLIENT_RESPONSE)
    d.deadlines = Deadline.put(d.deadlines, Deadline(ANSWER, "client_silence", due))


def _resolve(
    resolution: Resolution, *, to_freelancer: bool
) -> Callable[[FixedDispute, Context], None]:
    def resolve(d: FixedDispute, ctx: Context) -> None:
        nothing = Money(0, d.currency)
        d.resolution = resolution
        d.to_freelancer = d.amount if to_freelancer else nothing
        d.to_client = nothing if to_freelancer else d.amount
        d.resolved_at = ctx.now
        d.deadlines = ()

    return resolve


def _start_mediation(d: FixedDispute, ctx: Context) -> None:
    d.deadlines = (Deadline(CAP, "mediation_cap", ctx.now + MEDIATION_MAX),)


def _decline(d: FixedDispute, ctx: Context) -> None:
    d.reason = ctx.payload["reason"].strip()
    d.evidence = (ctx.payload["evidence"].strip(),)
    d.declined_at = ctx.now
    _start_mediation(d, ctx)


def _propose(d: FixedDispute, ctx: Context) -> None:
    d.proposed_to_freelancer = ctx.payload["to_freelancer"]
    d.proposed_to_client = ctx.payload["to_client"]
    d.accepted_by = ()
    due = ctx.now + FP_RESOLUTION_RESPONSE
    d.deadlines = Deadline.put(d.deadlines, Deadline(PROPOSAL, "proposal_lapse", due))


def _accept_proposal(d: FixedDispute, ctx: Context) -> None:
    side = side_of(ctx.actor)
    assert side is not None
    d.accepted_by = (*d.accepted_by, side)


def _proposal_binds(d: FixedDispute, ctx: Context) -> None:
    _accept_proposal(d, ctx)
    _split(d, ctx, Resolution.PROPOSAL_ACCEPTED, d.proposed_to_freelancer, d.proposed_to_client)


def _split(d: FixedDispute, ctx: Context, how: Resolution, x: Money, y: Money) -> None:
    d.resolution = how
    d.to_freelancer = x
    d.to_client = y
    d.resolved_at = ctx.now
    d.deadlines = ()


def _settle(d: FixedDispute, ctx: Context) -> None:
    _split(d, ctx, Resolution.SETTLED, ctx.payload["to_freelancer"], ctx.payload["to_client"])


def _notice_non_resolution(d: FixedDispute, ctx: Context) -> None:
    d.platform_fee, d.freelancer_fee, d.client_fee = fee_shares(d.amount)
    d.deadlines = (Deadline(OFFER, "offer_lapse", ctx.now + ARBITRATION_ACCEPT),)


def _pay_fee(d: FixedDispute, ctx: Context) -> None:
    side = side_of(ctx.actor)
    assert side is not None
    d.fees_paid = (*d.fees_paid, side)


def _start_arbitration(d: FixedDispute, ctx: Context) -> None:
    _pay_fee(d, ctx)
    d.deadlines = ()


def _award(d: FixedDispute, ctx: Context) -> None:
    _split(d, ctx, Resolution.AWARD, ctx.payload["to_freelancer"], ctx.payload["to_client"])


def _report(d: FixedDispute, ctx: Context) -> None:
    side: Side = ctx.payload["side"]
    d.non_compliant = (*d.non_compliant, side)
    account = d.client if side is Side.CLIENT else d.freelancer
    d.suspend = (*d.suspend, account)


# --------------------------------------------------------------------------- permissions


CLIENT = CLIENT_DECIDERS
DECIDERS = frozenset({Role.FREELANCER, Role.AGENCY_OWNER, Role.BUSINESS_MANAGER})
"""The freelancer side's deciders: the freelancer, or the agency's owner and business managers."""
SIDES = CLIENT | DECIDERS
SUPPORT = frozenset({Role.SUPPORT})
SYS = frozenset({Role.SYSTEM})


def _authorize(d: FixedDispute, actor: Actor, edge: Edge[Any] | None) -> str | None:
    problem = side_problem(
        actor,
        client=d.client,
        freelancer=d.freelancer,
        agency=d.agency,
        what=f"contract {d.contract}",
    )
    filing = edge is not None and edge.event == "file"
    through_support = d.case is not DisputeCase.NOT_RELEASED or actor.role is Role.SUPPORT
    if problem is None and filing and not through_support:
        return (
            f"a dispute about milestone {d.milestone}, not released, is opened through "
            "support (MS-DSP-1)"
        )
    return problem


MONEY = (Money,)
SPLIT = (
    Param("to_freelancer", MONEY, doc="released to the freelancer side"),
    Param("to_client", MONEY, doc="returned to the client"),
)
ADDS_UP = Guard("FPD-5", _split_adds_up, uses=("to_freelancer", "to_client"))
ANSWERING = Guard("FPD-3", _in_time(ANSWER, "answer the dispute"))
ACCEPTING = Guard("FPD-5", _in_time(PROPOSAL, "accept the proposal"))
PAYING = Guard("FPD-6", _in_time(OFFER, "agree to arbitration"))
NOTICE = Effect("FPD-6", _notice_non_resolution)
PROPOSAL_ANSWER: dict[str, Any] = {"role_rules": ("FPD-5", "TEAM-5", "TEAM-8")}
FEE: dict[str, Any] = {
    "role_rules": ("FPD-6", "TEAM-5", "TEAM-8"),
    "guards": (PAYING, Guard("FPD-6", _not_yet("fees_paid", "paid its arbitration fee"))),
}

FIXED_DISPUTE: MachineSpec[FixedDisputeState, FixedDispute] = MachineSpec(
    name="fixed_dispute",
    description="A fixed-price dispute: the client's answer, mediation, arbitration, the award.",
    states=FixedDisputeState,
    initial=F.DRAFT,
    terminal=(F.RESOLVED,),
    model=FixedDispute,
    authorize=_authorize,
    edges=(
        Edge(
            "file",
            (F.DRAFT,),
            F.AWAITING_CLIENT,
            DECIDERS | SUPPORT,
            ("FPD-1", "FPD-10", "MS-DSP-1", "TEAM-8"),
            guards=(
                Guard("FPD-1", _a_case_that_can_be_filed),
                Guard("FPD-2", _within_7_days_of_the_end),
                Guard("FB-6", _feedback_first),
                Guard("MS-DSP-2", _not_released),
            ),
            effects=(Effect("FPD-3", _file),),
            summary="The freelancer side disputes held money; the client has 5 business days.",
        ),
        Edge(
            "mediate",
            (F.DRAFT,),
            F.MEDIATION,
            SYS,
            ("DORM-1",),
            effects=(Effect("FPD-5", _start_mediation),),
            summary="A dormant contract's disputed release goes straight to mediation.",
        ),
        Edge(
            "accept",
            (F.AWAITING_CLIENT,),
            F.RESOLVED,
            CLIENT,
            ("FPD-4", "TEAM-5"),
            guards=(ANSWERING,),
            effects=(Effect("FPD-4", _resolve(Resolution.CLIENT_ACCEPTED, to_freelancer=True)),),
            summary="The client accepts: the money is released to the freelancer side.",
        ),
        Edge(
            "client_silence",
            (F.AWAITING_CLIENT,),
            F.RESOLVED,
            SYS,
            timer=Timer("FPD-3", "5 business days after filing"),
            effects=(Effect("FPD-3", _resolve(Resolution.CLIENT_SILENT, to_freelancer=True)),),
            summary="The client did not answer: the money is released to the freelancer side.",
        ),
        Edge(
            "decline",
            (F.AWAITING_CLIENT,),
            F.MEDIATION,
            CLIENT,
            ("FPD-5", "TEAM-5"),
            guards=(ANSWERING, Guard("FPD-5", _reason_and_evidence, uses=("reason", "evidence"))),
            effects=(Effect("FPD-5", _decline),),
            params=(
                Param("reason", (str,), doc="why the client declines"),
                Param("evidence", (str,), doc="what supports it (fixed once given)"),
            ),
            summary="The client declines with a reason and evidence: mediation starts.",
        ),
        Edge(
            "propose",
            (F.MEDIATION,),
            F.AWAITING_ACCEPTANCE,
            SUPPORT,
            ("FPD-5",),
            guards=(ADDS_UP,),
            effects=(Effect("FPD-5", _propose),),
            params=SPLIT,
            summary="The mediator proposes a split; both sides have 2 days to accept it.",
        ),
        Edge(
            "accept_proposal",
            (F.AWAITING_ACCEPTANCE,),
            F.AWAITING_ACCEPTANCE,
            SIDES,
            branch=Branch("the other side has not accepted", _other_not_accepted),
            guards=(ACCEPTING, Guard("FPD-5", _not_yet("accepted_by", "accepted"))),
            effects=(Effect("FPD-5", _accept_proposal),),
            summary="One side accepts the proposal.",
            **PROPOSAL_ANSWER,
        ),
        Edge(
            "accept_proposal",
            (F.AWAITING_ACCEPTANCE,),
            F.RESOLVED,
            SIDES,
            branch=Branch("the other side accepted", _other_accepted),
            guards=(ACCEPTING, Guard("FPD-5", _not_yet("accepted_by", "accepted"))),
            effects=(Effect("FPD-5", _proposal_binds),),
            summary="Both sides accepted: the money is split as proposed.",
            **PROPOSAL_ANSWER,
        ),
        Edge(
            "decline_proposal",
            (F.AWAITING_ACCEPTANCE,),
            F.ARBITRATION_OFFER,
            SIDES,
            guards=(ACCEPTING,),
            effects=(NOTICE,),
            summary="A side declines the proposal: notice of non-resolution; 7 days to arbitrate.",
            **PROPOSAL_ANSWER,
        ),
        Edge(
            "proposal_lapse",
            (F.AWAITING_ACCEPTANCE,),
            F.ARBITRATION_OFFER,
            SYS,
            timer=Timer("FPD-5", "2 days after the proposal"),
            effects=(NOTICE,),
            summary="The proposal was not accepted in 2 days: notice of non-resolution.",
        ),
        Edge(
            "settle",
            (F.MEDIATION, F.AWAITING_ACCEPTANCE),
            F.RESOLVED,
            SUPPORT,
            ("FPD-5",),
            guards=(ADDS_UP,),
            effects=(Effect("FPD-5", _settle),),
            params=SPLIT,
            summary="Both sides agreed in mediation; the mediator records the split.",
        ),
        Edge(
            "mediation_cap",
            (F.MEDIATION, F.AWAITING_ACCEPTANCE),
            F.ARBITRATION_OFFER,
            SYS,
            timer=Timer("FPD-5", "30 days after mediation started"),
            effects=(NOTICE,),
            summary="Mediation reached 30 days: notice of non-resolution.",
        ),
        Edge(
            "pay_fee",
            (F.ARBITRATION_OFFER,),
            F.ARBITRATION_OFFER,
            SIDES,
            branch=Branch("the other side has not paid", _other_not_paid),
            effects=(Effect("FPD-7", _pay_fee),),
            summary="One side pays its share of the arbitration fee.",
            **FEE,
        ),
        Edge(
            "pay_fee",
            (F.ARBITRATION_OFFER,),
            F.ARBITRATION,
            SIDES,
            branch=Branch("the other side paid", _other_paid),
            effects=(Effect("FPD-7", _start_arbitration),),
            summary="Both sides paid: the arbitrator takes the case.",
            **FEE,
        ),
        Edge(
            "offer_lapse",
            (F.ARBITRATION_OFFER,),
            F.RESOLVED,
            SYS,
            timer=Timer("FPD-6", "7 days after the notice of non-resolution"),
            branch=Branch("only the freelancer side paid", _paid_only(Side.FREELANCER)),
            effects=(
                Effect("FPD-6", _resolve(Resolution.FREELANCER_PAID_FEE, to_freelancer=True)),
            ),
            summary="Only the freelancer side paid: the money goes to it.",
        ),
        Edge(
            "offer_lapse",
            (F.ARBITRATION_OFFER,),
            F.RESOLVED,
            SYS,
            timer=Timer("FPD-6", "7 days after the notice of non-resolution"),
            branch=Branch("only the client paid", _paid_only(Side.CLIENT)),
            effects=(Effect("FPD-6", _resolve(Resolution.CLIENT_PAID_FEE, to_freelancer=False)),),
            summary="Only the client paid: the money goes back to it.",
        ),
        Edge(
            "offer_lapse",
            (F.ARBITRATION_OFFER,),
            F.RESOLVED,
            SYS,
            timer=Timer("FPD-6", "7 days after the notice of non-resolution"),
            branch=Branch("neither side paid", _paid_only(None)),
            effects=(Effect("FPD-6", _resolve(Resolution.NO_FEE_PAID, to_freelancer=False)),),
            summary="Neither side paid: the money goes back to the client.",
        ),
        Edge(
            "award",
            (F.ARBITRATION,),
            F.AWARDED,
            SUPPORT,
            ("FPD-7",),
            guards=(Guard("FPD-6", _split_adds_up, uses=("to_freelancer", "to_client")),),
            effects=(Effect("FPD-6", _award),),
            params=SPLIT,
            summary="Support records the arbitrator's binding award.",
        ),
        Edge(
            "report_non_compliance",
            (F.AWARDED,),
            F.AWARDED,
            SUPPORT,
            ("FPD-8",),
            guards=(Guard("FPD-8", _reported_once, uses=("side",)),),
            effects=(Effect("SUSP-2", _report),),
            params=(Param("side", (Side,), doc="the side that does not comply"),),
            summary="A side does not comply with the award: its account is suspended.",
        ),
    ),
    forbidden=(
        Forbidden(
            "decline",
            (F.MEDIATION, F.AWAITING_ACCEPTANCE, F.ARBITRATION_OFFER, F.ARBITRATION, F.AWARDED),
            CLIENT,
            "FPD-5",
            _evidence_fixed,
        ),
    ),
)


class FixedDisputes(Workflow[FixedDisputeState, FixedDispute]):
    """Fires fixed-price dispute events: ``disputes.fire(d, "file", freelancer)``."""

    spec = FIXED_DISPUTE

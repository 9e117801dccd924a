"""Milestone review: draft -> funded -> submitted -> (changes_requested -> resubmitted) -> approved.

A fixed-price milestone is funded by the client, submitted by the freelancer
side, and reviewed by the client for 14 days from the latest submission
(MS-REVIEW-1, MS-REVIEW-4). If the client does nothing, the platform approves it
when the window lapses and releases the full funded amount (MS-REVIEW-2).
Asking for changes stops the clock (MS-REVIEW-3). Released money is pending for
5 days (MS-PAY-1).

>>> from datetime import datetime
>>> from statemachines import Actor, ManualClock, Money, Role, UTC
>>> clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
>>> review = MilestoneReview(clock=clock)
>>> ms = Milestone(id="M-1", contract="C-1", client="co-1", freelancer="fl-1", amount=Money(20_000))
>>> owner = Actor("ana", Role.CLIENT_OWNER, party="co-1")
>>> fl = Actor("fl-1", Role.FREELANCER)
>>> _ = review.fire(ms, "fund", owner)
>>> _ = review.fire(ms, "submit", fl)
>>> ms.review_due.isoformat()
'2026-03-16T09:00:00+00:00'
>>> _ = review.advance(ms, datetime(2026, 3, 16, 9, 0, tzinfo=UTC))
>>> ms.state, ms.released, ms.auto_approved
(<MilestoneState.APPROVED: 'approved'>, Money(20000, 'USD'), True)
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from statemachines.core.actors import CLIENT_DECIDERS, FREELANCER_SIDE, Actor, Role
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
    Timer,
    Workflow,
    fail,
)
from statemachines.core.fields import check_fields
from statemachines.core.money import Money
from statemachines.rules.milestone import MILESTONE_MIN, REVIEW_WINDOW, SECURITY_HOLD

__all__ = ["MILESTONE", "Milestone", "MilestoneReview", "MilestoneState"]

REVIEW = "review"
"""The key of the review deadline; there is at most one per milestone (INV-MS-2)."""


class MilestoneState(enum.Enum):
    """Where a milestone is in its review; the values are the persisted form."""

    DRAFT = "draft"
    """Agreed but not funded: it may still be edited (MS-3)."""
    FUNDED = "funded"
    """The client's money is held in escrow; work may start (MS-4)."""
    SUBMITTED = "submitted"
    """Work submitted; the client's 14-day review runs (MS-REVIEW-1)."""
    CHANGES_REQUESTED = "changes_requested"
    """The client asked for changes; no review clock runs (MS-REVIEW-3)."""
    RESUBMITTED = "resubmitted"
    """Work submitted again; a fresh 14-day review runs (MS-REVIEW-4)."""
    DISPUTED = "disputed"
    """Delivered, not released: the freelancer side disputed it through support; a
    mediation specialist decides what is released, and no review clock runs (MS-DSP-1).
    The contract does not end until then."""
    APPROVED = "approved"
    """Money released, by the client, automatically, or as a dispute decided (final)."""
    CANCELLED = "cancelled"
    """The contract ended before approval; its held money went back to the contract (final)."""
    DELETED = "deleted"
    """Deleted before it was funded (MS-3, final)."""


M = MilestoneState


def _zero(ms: Milestone) -> Money:
    # nothing, in the milestone's currency (a wrong amount is refused by check_fields)
    return Money(0, getattr(ms.amount, "currency", "USD"))


_NOTHING = attrs.Factory(_zero, takes_self=True)


@attrs.define(eq=True)
class Milestone:
    """One fixed-price milestone. ``state`` and the amounts change only through events."""

    id: str
    """Stable id, e.g. ``"M-3"``."""
    contract: str
    """The contract it belongs to."""
    client: str
    """The client company that pays."""
    freelancer: str
    """The freelancer's account, or the agency, that does the work."""
    amount: Money
    """The agreed amount; at least US$5.00 to be funded (MS-1)."""
    agency: bool = False
    """True when an agency holds the contract (its members act, TEAM-8)."""
    title: str = ""
    state: MilestoneState = MilestoneState.DRAFT
    funded: Money = attrs.field(default=_NOTHING)
    """Money charged into escrow for this milestone."""
    released: Money = attrs.field(default=_NOTHING)
    """Money released to the freelancer side."""
    extra: Money = attrs.field(default=_NOTHING)
    """Money charged above ``funded`` by an approval of more than the milestone."""
    returned: Money = attrs.field(default=_NOTHING)
    """Money handed back to the contract's escrow when the contract ended (MS-END-D)."""
    submitted_at: datetime | None = None
    """The latest submission (or resubmission)."""
    submissions: int = 0
    approved_at: datetime | None = None
    auto_approved: bool = False
    """True when the review window lapsed and the platform approved (MS-REVIEW-2)."""
    available_at: datetime | None = None
    """When the released money leaves the security hold (MS-PAY-1)."""
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        check_fields(self)

    @property
    def currency(self) -> str:
        """The currency every amount of this milestone is in."""
        return self.amount.currency

    @property
    def held(self) -> Money:
        """Money still held in escrow for it: funded and extra, less what was released or returned.

        For an approved milestone this is the leftover of a partial release,
        which the contract keeps as unallocated escrow (MS-2).
        """
        return (self.funded + self.extra) - self.released - self.returned

    @property
    def review_due(self) -> datetime | None:
        """When the review window lapses, or ``None`` when no review clock runs."""
        for deadline in self.deadlines:
            if deadline.key == REVIEW:
                return deadline.due
        return None

    def is_available(self, now: datetime) -> bool:
        """True once released money has left the 5-day security hold (MS-PAY-1)."""
        return self.available_at is not None and now >= self.available_at


# --------------------------------------------------------------------------- guards


def _at_least_minimum(ms: Milestone, ctx: Context) -> Reason | None:
    # The rulebook states US$5.00; a milestone in another currency must reach the same
    # number of minor units (ADR 0004), so the comparison never mixes currencies.
    minimum = Money(MILESTONE_MIN.cents, ms.currency)
    if ms.amount < minimum:
        return fail(
            f"milestone {ms.id} is {ms.amount}; a milestone must be at least {minimum}",
            amount=ms.amount.cents,
            minimum=minimum.cents,
        )
    return None


def _positive_release(ms: Milestone, ctx: Context) -> Reason | None:
    amount = ctx.payload["amount"]
    if amount is not None and not amount:
        return fail(
            f"approving milestone {ms.id} must release a positive amount, not {amount}; "
            "to pay nothing, ask for changes or end the contract",
            amount=0,
        )
    return None


def _not_funded(ms: Milestone, ctx: Context) -> Reason:
    return fail(
        f"milestone {ms.id} is not funded yet; the client must fund it before work is submitted",
        state=ms.state.value,
    )


def _dispute_share(ms: Milestone, ctx: Context) -> Reason | None:
    # MS-DSP-1 (a dispute's share), DORM-1 (a dormant contract's release).
    amount: Money | None = ctx.payload["amount"]
    if amount is not None and not amount:
        return fail(
            f"milestone {ms.id} is released with a positive amount, not {amount}; when the "
            "freelancer side gets nothing, its money goes back to the contract's escrow instead",
            amount=0,
        )
    if amount is not None and amount > ms.held:
        return fail(
            f"milestone {ms.id} holds {ms.held}; at most that is released, not {amount}",
            held=ms.held.cents,
        )
    return None


def _released_already(ms: Milestone, ctx: Context) -> Reason:
    return fail(
        f"milestone {ms.id} was released; released escrow is not disputed, but the client may "
        "request a refund or, within 30 days, ask for mediation assistance",
        state=ms.state.value,
    )


def _active_cannot_be_edited(ms: Milestone, ctx: Context) -> Reason:
    return fail(
        f"milestone {ms.id} is {ms.state.value.replace('_', ' ')}; only milestones that are not "
        "funded yet can be edited or deleted",
        state=ms.state.value,
    )


# --------------------------------------------------------------------------- effects


def _edit(ms: Milestone, ctx: Context) -> None:
    if ctx.payload["amount"] is not None:
        ms.amount = ctx.payload["amount"]
    if ctx.payload["title"] is not None:
        ms.title = ctx.payload["title"]


def _charge_escrow(ms: Milestone, ctx: Context) -> None:
    ms.funded = ms.amount


def _start_review(ms: Milestone, ctx: Context) -> None:
    # MS-REVIEW-1 and MS-REVIEW-4: the deadline is always the latest submission
    # plus 14 days, replacing any earlier or later one.
    ms.submitted_at = ctx.now
    ms.submissions += 1
    ms.deadlines = Deadline.put(
        ms.deadlines, Deadline(REVIEW, "review_lapse", ctx.now + REVIEW_WINDOW)
    )


def _stop_review(ms: Milestone, ctx: Context) -> None:
    ms.deadlines = Deadline.drop(ms.deadlines, REVIEW)


def _release(ms: Milestone, ctx: Context) -> None:
    amount: Money | None = ctx.payload.get("amount")
    if amount is None or amount == ms.funded:
        ms.released = ms.funded
    elif amount < ms.funded:
        ms.released = amount  # the remainder stays held (MS-REVIEW-5)
    else:
        ms.extra = amount - ms.funded  # charged to the client, released like a bonus
        ms.released = amount
    ms.approved_at = ctx.now
    ms.deadlines = Deadline.drop(ms.deadlines, REVIEW)


def _release_all_automatically(ms: Milestone, ctx: Context) -> None:
    ms.released = ms.funded
    ms.approved_at = ctx.now
    ms.auto_approved = True


def _start_security_hold(ms: Milestone, ctx: Context) -> None:
    ms.available_at = ctx.now + SECURITY_HOLD


def _hand_back(ms: Milestone, ctx: Context) -> None:
    ms.returned = ms.held
    ms.deadlines = Deadline.drop(ms.deadlines, REVIEW)


def _authorize(ms: Milestone, actor: Actor, edge: Edge[Any] | None) -> str | None:  # noqa: PLR0911
    role = actor.role
    if role in (Role.SYSTEM, Role.SUPPORT):
        return None
    if role in CLIENT_DECIDERS:
        if actor.party != ms.client:
            return f"the milestone belongs to client {ms.client!r}, not {actor.party!r}"
        return None
    if role is Role.FREELANCER:
        if ms.agency:
            return f"an agency ({ms.freelancer!r}) holds this contract; its members act for it"
        if actor.id != ms.freelancer:
            return f"milestone {ms.id} is the work of {ms.freelancer!r}"
        return None
    if role in FREELANCER_SIDE:
        if not ms.agency or actor.party != ms.freelancer:
            return f"the work is done by {ms.freelancer!r}, not by agency {actor.party!r}"
        return None
    return f"a {role.label} takes no part in milestone review"


CLIENT = CLIENT_DECIDERS
WORKER = FREELANCER_SIDE
AMOUNT = Param("amount", (Money,), None, "amount to release; default: the full funded amount")
REVIEWING = (M.SUBMITTED, M.RESUBMITTED)
DELIVERED = (*REVIEWING, M.CHANGES_REQUESTED)
"""Work delivered and not released: what a freelancer may dispute (MS-DSP-1)."""
SUPPORT = frozenset({Role.SUPPORT})
RELEASE = (Effect("MS-REVIEW-5", _release), Effect("MS-PAY-1", _start_security_hold))

MILESTONE: MachineSpec[MilestoneState, Milestone] = MachineSpec(
    name="milestone",
    description="Fixed-price milestone review with a 14-day automatic approval.",
    states=MilestoneState,
    initial=M.DRAFT,
    terminal=(M.APPROVED, M.CANCELLED, M.DELETED),
    model=Milestone,
    authorize=_authorize,
    edges=(
        Edge(
            "edit",
            (M.DRAFT,),
            M.DRAFT,
            CLIENT,
            ("MS-3", "TEAM-5"),
            effects=(Effect("MS-3", _edit),),
            params=(
                Param("amount", (Money,), None, "new amount"),
                Param("title", (str,), None, "new title"),
            ),
            summary="Change a milestone that is not funded yet.",
        ),
        Edge(
            "fund",
            (M.DRAFT,),
            M.FUNDED,
            CLIENT,
            ("TEAM-5",),
            guards=(Guard("MS-1", _at_least_minimum),),
            effects=(Effect("MS-4", _charge_escrow),),
            summary="The client puts the milestone's amount into escrow.",
        ),
        Edge(
            "submit",
            (M.FUNDED,),
            M.SUBMITTED,
            WORKER,
            ("MS-SUBMIT-1", "TEAM-8"),
            effects=(Effect("MS-REVIEW-1", _start_review),),
            params=(Param("message", (str,), "", "a note for the client"),),
            summary="The freelancer side submits the work; the 14-day review starts.",
        ),
        Edge(
            "request_changes",
            REVIEWING,
            M.CHANGES_REQUESTED,
            CLIENT,
            ("MS-REVIEW-3", "TEAM-5"),
            effects=(Effect("MS-REVIEW-3", _stop_review),),
            params=(Param("message", (str,), "", "what should change"),),
            summary="The client asks for changes; the review clock stops.",
        ),
        Edge(
            "resubmit",
            (M.CHANGES_REQUESTED,),
            M.RESUBMITTED,
            WORKER,
            ("MS-SUBMIT-1", "TEAM-8"),
            effects=(Effect("MS-REVIEW-4", _start_review),),
            params=(Param("message", (str,), "", "a note for the client"),),
            summary="The freelancer side submits again; a fresh 14-day review starts.",
        ),
        Edge(
            "approve",
            REVIEWING,
            M.APPROVED,
            CLIENT,
            ("TEAM-5",),
            guards=(Guard("MS-REVIEW-5", _positive_release, uses=("amount",)),),
            effects=RELEASE,
            params=(AMOUNT,),
            summary="The client approves and releases the full amount, part of it, or more.",
        ),
        Edge(
            "release",
            (M.FUNDED,),
            M.APPROVED,
            CLIENT,
            ("MS-REVIEW-6", "TEAM-5"),
            guards=(Guard("MS-REVIEW-5", _positive_release, uses=("amount",)),),
            effects=RELEASE,
            params=(AMOUNT,),
            summary="The client releases the money without a submission.",
        ),
        Edge(
            "review_lapse",
            REVIEWING,
            M.APPROVED,
            frozenset({Role.SYSTEM}),
            timer=Timer("MS-REVIEW-2", "14 days after the latest submission"),
            effects=(
                Effect("MS-REVIEW-2", _release_all_automatically),
                Effect("MS-PAY-1", _start_security_hold),
            ),
            summary="The review window lapsed: approve and release the full funded amount.",
        ),
        Edge(
            "cancel",
            (M.DRAFT, M.FUNDED, *REVIEWING, M.CHANGES_REQUESTED, M.DISPUTED),
            M.CANCELLED,
            frozenset({Role.SYSTEM}),
            ("MS-END-D",),
            effects=(Effect("MS-END-D", _hand_back),),
            summary="The contract ended first (or a dispute gave the freelancer side nothing): "
            "the held money goes back to the contract's escrow.",
        ),
        Edge(
            "dispute",
            DELIVERED,
            M.DISPUTED,
            SUPPORT,
            ("MS-DSP-1",),
            effects=(Effect("MS-DSP-1", _stop_review),),
            summary="Support opens the freelancer side's dispute of delivered work not released.",
        ),
        Edge(
            "release_held",
            (M.FUNDED, *DELIVERED),
            M.APPROVED,
            SUPPORT | frozenset({Role.SYSTEM}),
            ("DORM-1",),
            guards=(Guard("DORM-1", _dispute_share, uses=("amount",)),),
            effects=RELEASE,
            params=(AMOUNT,),
            summary="A dormant contract's money is released: the client was silent, or a "
            "mediator decided.",
        ),
        Edge(
            "settle_dispute",
            (M.DISPUTED,),
            M.APPROVED,
            SUPPORT,
            ("MS-DSP-1", "FPD-5"),
            guards=(Guard("MS-DSP-1", _dispute_share, uses=("amount",)),),
            effects=RELEASE,
            params=(AMOUNT,),
            summary="The dispute is over: release the freelancer side's share.",
        ),
        Edge(
            "delete",
            (M.DRAFT,),
            M.DELETED,
            CLIENT,
            ("MS-3", "TEAM-5"),
            summary="Delete a milestone that is not funded yet.",
        ),
    ),
    forbidden=(
        Forbidden("submit", (M.DRAFT,), WORKER, "MS-4", _not_funded),
        Forbidden("dispute", (M.APPROVED,), SUPPORT, "MS-DSP-2", _released_already),
        *(
            Forbidden(
                event,
                (
                    M.FUNDED,
                    M.SUBMITTED,
                    M.CHANGES_REQUESTED,
                    M.RESUBMITTED,
                    M.DISPUTED,
                    M.APPROVED,
                ),
                CLIENT,
                "MS-3",
                _active_cannot_be_edited,
            )
            for event in ("edit", "delete")
        ),
    ),
)


class MilestoneReview(Workflow[MilestoneState, Milestone]):
    """Fires milestone events: ``review.fire(ms, "approve", client, amount=Money(5000))``."""

    spec = MILESTONE

"""Fixed-price contracts: milestones, escrow, and the escrow-refund request at the end.

Guards and effects of the fixed-price edges of
:data:`statemachines.machines.contract.table.CONTRACT`. The contract owns its milestones and
drives them through :data:`REVIEW`, a milestone workflow, so that both record
the same moment. It mirrors a milestone's review deadline as its own
(``review:<milestone>``), so :meth:`~statemachines.Workflow.advance` on the
contract fires automatic approvals too.

Escrow is kept as four sums and the live milestone (INV-MONEY-1)::

    escrow_charged = escrow_released + escrow_returned + unallocated + live milestone's held
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from statemachines.core.actors import SYSTEM
from statemachines.core.clock import UTC, ManualClock, format_utc
from statemachines.core.engine import Attempt, Context, Deadline, Reason, fail
from statemachines.core.money import Money
from statemachines.machines.contract.model import LIVE_MILESTONE
from statemachines.machines.contract.values import (
    ContractKind,
    EscrowRefund,
    Payment,
    PaymentKind,
    RefundStatus,
    Side,
    side_of,
)
from statemachines.machines.milestone import Milestone, MilestoneReview, MilestoneState
from statemachines.rules.contract import ESCROW_REFUND_RESPONSE
from statemachines.rules.milestone import MILESTONE_MIN, REVIEW_WINDOW, SECURITY_HOLD

if TYPE_CHECKING:
    from statemachines.machines.contract.model import Contract

ESCROW_REFUND = "escrow_refund"
"""The key of the escrow-refund request's 7-day deadline (ESC-2)."""

_M = MilestoneState
_REVIEWING = frozenset({_M.SUBMITTED, _M.RESUBMITTED})


class _Discard:
    # Child attempts that fail also fail the contract's event, which the
    # contract's own audit trail records; the child's copy is not kept.
    def append(self, attempt: Attempt, /) -> None:
        pass


REVIEW = MilestoneReview(clock=ManualClock(datetime(2000, 1, 1, tzinfo=UTC)), audit=_Discard())
"""The workflow a contract fires its milestones' events with, always at the contract's time."""


def review_key(ms: Milestone) -> str:
    """The contract's copy of a milestone's review deadline."""
    return f"review:{ms.id}"


def _live(c: Contract) -> Milestone:
    ms = c.live_milestone
    assert ms is not None, "guards check that a milestone is live"
    return ms


# --------------------------------------------------------------------------- guards


def fixed_only(c: Contract, ctx: Context) -> Reason | None:
    """CTR-TYPE-D: milestones and escrow exist on fixed-price contracts only."""
    if c.kind is not ContractKind.FIXED:
        return fail(
            f"contract {c.id} is an hourly contract; milestones and escrow belong to "
            "fixed-price contracts",
            kind=c.kind.value,
        )
    return None


def milestone_minimum(c: Contract, ctx: Context) -> Reason | None:
    """MS-1: a milestone is worth at least US$5.00."""
    amount: Money = ctx.payload["amount"]
    if amount < Money(MILESTONE_MIN.cents, amount.currency):
        return fail(
            f"a milestone must be at least {MILESTONE_MIN}, not {amount}", amount=amount.cents
        )
    return None


def none_live(c: Contract, ctx: Context) -> Reason | None:
    """MS-2: one milestone at a time is funded or in review."""
    ms = c.live_milestone
    if ms is not None:
        return fail(
            f"milestone {ms.id} is still {ms.state.value.replace('_', ' ')}; it must be paid "
            "before the next milestone is funded",
            milestone=ms.id,
        )
    return None


def draft_waiting(c: Contract, ctx: Context) -> Reason | None:
    """MS-2: funding takes the next milestone not funded yet (unless the client chose one)."""
    if ctx.payload.get("milestone") is None and c.next_draft is None:
        return fail(f"contract {c.id} has no milestone waiting to be funded; add one first")
    return None


def draft_chosen(c: Contract, ctx: Context) -> Reason | None:
    """MS-3: the milestone the client names is one of this contract's, not funded yet."""
    key: str | None = ctx.payload.get("milestone")
    if key is None:
        return None
    ms = next((m for m in c.milestones if m.id == key), None)
    if ms is None:
        known = ", ".join(m.id for m in c.milestones) or "none yet"
        return fail(
            f"contract {c.id} has no milestone {key} (its milestones: {known})", milestone=key
        )
    if ms.state is not _M.DRAFT:
        return fail(
            f"milestone {ms.id} is {ms.state.value.replace('_', ' ')}; only milestones that are "
            "not funded yet can be edited, deleted or chosen for funding",
            milestone=ms.id,
            state=ms.state.value,
        )
    return None


def edited_minimum(c: Contract, ctx: Context) -> Reason | None:
    """MS-1: an edited amount is still at least US$5.00."""
    amount: Money | None = ctx.payload.get("amount")
    if amount is not None and amount < Money(MILESTONE_MIN.cents, amount.currency):
        return fail(
            f"a milestone must be at least {MILESTONE_MIN}, not {amount}", amount=amount.cents
        )
    return None


def work_expected(c: Contract, ctx: Context) -> Reason | None:
    """MS-4: work is submitted on a funded milestone (or one sent back for changes)."""
    ms = c.live_milestone
    if ms is None:
        return fail(
            f"contract {c.id} has no funded milestone; the client funds one before work is "
            "submitted"
        )
    if ms.state in _REVIEWING:
        assert ms.submitted_at is not None
        return fail(
            f"milestone {ms.id} was already submitted on {format_utc(ms.submitted_at)} and is "
            "waiting for the client's review",
            milestone=ms.id,
        )
    return None


def in_review(c: Contract, ctx: Context) -> Reason | None:
    """MS-REVIEW-1: approving or asking for changes needs a submitted milestone."""
    ms = c.live_milestone
    if ms is not None and ms.state in _REVIEWING:
        return None
    if ms is not None:
        what = f"milestone {ms.id} is {ms.state.value.replace('_', ' ')}"
        return fail(f"no milestone of contract {c.id} is waiting for review ({what})")
    lapsed = _lapsed_payment(c)
    if lapsed is not None:
        return fail(
            f"the 14-day review of milestone {lapsed.source} ended at "
            f"{format_utc(lapsed.paid_at)}; its full amount of {lapsed.amount} was released "
            "to the freelancer automatically, and no other milestone is waiting for review",
            milestone=lapsed.source,
        )
    return fail(f"no milestone of contract {c.id} is waiting for review")


def _lapsed_payment(c: Contract) -> Payment | None:
    # The last milestone payment, if the lapse of its review made it (MS-REVIEW-2): a client
    # can pay only before the review ends, so a payment at or after its end is the lapse's.
    last = next((p for p in reversed(c.payments) if p.kind is PaymentKind.MILESTONE), None)
    if last is None:
        return None
    ms = next((m for m in c.milestones if m.id == last.source), None)
    if ms is None or ms.submitted_at is None or last.paid_at < ms.submitted_at + REVIEW_WINDOW:
        return None
    return last


def funded_unsubmitted(c: Contract, ctx: Context) -> Reason | None:
    """MS-REVIEW-6: releasing without a submission applies to a funded milestone."""
    ms = c.live_milestone
    if ms is None or ms.state is not _M.FUNDED:
        what = f"milestone {ms.id} is {ms.state.value.replace('_', ' ')}" if ms else "none is"
        return fail(
            f"no funded milestone of contract {c.id} waits for work ({what}); a submitted one "
            "is approved instead"
        )
    return None


def positive_release(c: Contract, ctx: Context) -> Reason | None:
    """MS-REVIEW-5: paying a milestone pays something (the milestone refuses it too)."""
    amount: Money | None = ctx.payload.get("amount")
    ms = c.live_milestone
    if amount is not None and not amount and ms is not None:
        return fail(
            f"paying milestone {ms.id} must release a positive amount, not {amount}; to pay "
            "nothing, ask for changes or end the contract",
            amount=0,
        )
    return None


def final_payment_by_client(c: Contract, ctx: Context) -> Reason | None:
    """CTR-END-5: only a client ending a fixed-price contract chooses a final payment."""
    if ctx.payload.get("payment") is None:
        return None
    if c.kind is not ContractKind.FIXED or side_of(ctx.actor) is not Side.CLIENT:
        return fail(
            "a final payment is chosen only by a client ending a fixed-price contract; "
            "pay a bonus instead",
            kind=c.kind.value,
        )
    return None


def request_pending(c: Contract, ctx: Context) -> Reason | None:
    """ESC-1: there must be an escrow-refund request waiting for an answer."""
    err = c.escrow_refund
    if err is None:
        return fail(f"contract {c.id} has no escrow-refund request")
    if err.status is not RefundStatus.PENDING:
        return fail(f"{err.label} is already {err.status.value.replace('_', ' ')}")
    return None


def request_answered(c: Contract, ctx: Context) -> Reason:
    """ESC-2 (forbidden row once settled): the request was answered, by someone or by silence."""
    err = c.escrow_refund
    if err is None:
        return fail(f"contract {c.id} {c.ended_label()} with no escrow-refund request to answer")
    closed = format_utc(err.closed_at or err.due)
    if err.status is RefundStatus.AUTO_APPROVED:
        why = f"the 7 days to answer it ended at {format_utc(err.due)}; silence approved it"
    elif err.status is RefundStatus.APPROVED:
        why = f"the freelancer side approved it on {closed}"
    else:
        why = f"support settled the dispute about it on {closed}"
    return fail(f"{err.label} is answered: {why}", status=err.status.value)


def freelancer_feedback_first(c: Contract, ctx: Context) -> Reason | None:
    """ESC-4: a dispute needs the freelancer's feedback for the client first."""
    if c.freelancer_feedback_at is None:
        return fail(
            f"leave feedback for the client of contract {c.id} first; a dispute of the escrow "
            "refund can be opened only after that"
        )
    return None


def disputed(c: Contract, ctx: Context) -> Reason | None:
    """ESC-4: support settles only a disputed request."""
    err = c.escrow_refund
    if err is None or err.status is not RefundStatus.DISPUTED:
        state = err.status.value.replace("_", " ") if err else "none"
        return fail(f"contract {c.id} has no disputed escrow-refund request ({state})")
    return None


def split_adds_up(c: Contract, ctx: Context) -> Reason | None:
    """ESC-SPLIT-D: the two shares add up to the disputed amount, to the cent."""
    err = c.escrow_refund
    if err is None:
        return None
    x: Money = ctx.payload["to_freelancer"]
    y: Money = ctx.payload["to_client"]
    if x + y != err.amount:
        return fail(
            f"{x} to the freelancer and {y} to the client make {x + y}, but {err.amount} "
            "is in dispute",
            disputed=err.amount.cents,
            total=(x + y).cents,
        )
    return None


def only_held_money(c: Contract, ctx: Context) -> Reason | None:
    """ESC-5: the client can get back at most what is still held."""
    err = c.escrow_refund
    y: Money = ctx.payload["to_client"]
    if err is not None and y > err.amount:
        return fail(
            f"only the {err.amount} still held can go back to the client, not {y}; released "
            "earnings are not part of the request",
            held=err.amount.cents,
        )
    return None


# --------------------------------------------------------------------------- milestone effects


def add_milestone(c: Contract, ctx: Context) -> None:
    """MS-3: a new milestone, not funded yet."""
    nothing = Money(0, c.currency)  # the milestone's own defaults are in US dollars
    ms = Milestone(
        id=f"{c.id}-M{len(c.milestones) + 1}",
        contract=c.id,
        client=c.client,
        freelancer=c.freelancer,
        amount=ctx.payload["amount"],
        agency=c.agency,
        title=ctx.payload["title"],
        funded=nothing,
        released=nothing,
        extra=nothing,
        returned=nothing,
    )
    c.milestones = (*c.milestones, ms)


def _chosen(c: Contract, ctx: Context) -> Milestone:
    key: str | None = ctx.payload.get("milestone")
    ms = c.next_draft if key is None else next(m for m in c.milestones if m.id == key)
    assert ms is not None, "guards check that the milestone is a draft of the contract"
    return ms


def edit_milestone(c: Contract, ctx: Context) -> None:
    """MS-3: change the amount or title of a milestone not funded yet."""
    ms = _chosen(c, ctx)
    REVIEW.fire_at(
        ms, "edit", ctx.actor, ctx.now, amount=ctx.payload["amount"], title=ctx.payload["title"]
    )


def delete_milestone(c: Contract, ctx: Context) -> None:
    """MS-3: delete a milestone not funded yet; it stays listed, as deleted."""
    REVIEW.fire_at(_chosen(c, ctx), "delete", ctx.actor, ctx.now)


def fund_next(c: Contract, ctx: Context) -> None:
    """MS-2, MS-3: fund the chosen milestone, or the next one, leftover escrow first."""
    ms = _chosen(c, ctx)
    credit = min(c.unallocated.cents, ms.amount.cents)
    REVIEW.fire_at(ms, "fund", ctx.actor, ctx.now)
    c.unallocated -= Money(credit, c.currency)
    c.escrow_charged += Money(ms.amount.cents - credit, c.currency)


def submit(c: Contract, ctx: Context) -> None:
    """MS-REVIEW-1, MS-REVIEW-4: submit (or resubmit); the client's 14 days start now."""
    ms = _live(c)
    event = "submit" if ms.state is _M.FUNDED else "resubmit"
    REVIEW.fire_at(ms, event, ctx.actor, ctx.now, message=ctx.payload["message"])
    assert ms.review_due is not None
    c.deadlines = Deadline.put(
        c.deadlines, Deadline(review_key(ms), "milestone_review_lapse", ms.review_due)
    )


def request_changes(c: Contract, ctx: Context) -> None:
    """MS-REVIEW-3: the review clock stops."""
    ms = _live(c)
    REVIEW.fire_at(ms, "request_changes", ctx.actor, ctx.now, message=ctx.payload["message"])
    c.deadlines = Deadline.drop(c.deadlines, review_key(ms))


def _paid_out(c: Contract, ms: Milestone, ctx: Context) -> None:
    c.escrow_charged += ms.extra
    c.escrow_released += ms.released
    c.unallocated += ms.held  # MS-2: a partial release leaves the rest for the next milestone
    c.deadlines = Deadline.drop(c.deadlines, review_key(ms))
    payment = Payment(
        f"{c.id}-P{len(c.payments) + 1}",
        PaymentKind.MILESTONE,
        ms.released,
        ctx.now,
        ms.id,
        ms.available_at,
        Money(0, c.currency),
    )
    c.payments = (*c.payments, payment)


def approve(c: Contract, ctx: Context) -> None:
    """MS-REVIEW-5: pay the full amount, part of it, or more."""
    ms = _live(c)
    REVIEW.fire_at(ms, "approve", ctx.actor, ctx.now, amount=ctx.payload["amount"])
    _paid_out(c, ms, ctx)


def release(c: Contract, ctx: Context) -> None:
    """MS-REVIEW-6: pay a funded milestone without a submission."""
    ms = _live(c)
    REVIEW.fire_at(ms, "release", ctx.actor, ctx.now, amount=ctx.payload["amount"])
    _paid_out(c, ms, ctx)


def lapse(c: Contract, ctx: Context) -> None:
    """MS-REVIEW-2: the review window closed; the platform pays the milestone in full."""
    ms = _live(c)
    REVIEW.fire_at(ms, "review_lapse", SYSTEM, ctx.now)
    _paid_out(c, ms, ctx)


def suggest_end(c: Contract, ctx: Context) -> None:
    """CTR-END-10: with nothing left to fund, the client is offered to end the contract."""
    c.end_suggested = c.next_draft is None


# --------------------------------------------------------------------------- ending


def final_amount(c: Contract, ctx: Context) -> Money:
    """CTR-END-5: what a client ending now pays; by default everything still held."""
    payment: Money | None = ctx.payload.get("payment")
    return c.escrow_held if payment is None else payment


def cancel_milestones(c: Contract, ctx: Context) -> None:
    """MS-END-D: unpaid milestones are cancelled; their held money returns to the contract."""
    for ms in c.milestones:
        if ms.state is _M.DRAFT or ms.state in LIVE_MILESTONE:
            REVIEW.fire_at(ms, "cancel", SYSTEM, ctx.now)
            c.unallocated += ms.returned
            c.deadlines = Deadline.drop(c.deadlines, review_key(ms))


def return_everything(c: Contract, ctx: Context) -> None:
    """CTR-END-4: the freelancer side (or the platform) ended; held money returns now.

    The platform ends contracts when it closes an account for good, and then held
    escrow goes back to the client as when the freelancer ends (rulebook §5.1 A11).
    """
    if c.kind is ContractKind.FIXED and side_of(ctx.actor) is not Side.CLIENT:
        c.escrow_returned += c.unallocated
        c.unallocated = Money(0, c.currency)


def pay_final(c: Contract, ctx: Context) -> None:
    """CTR-END-5: the client pays the remainder, another amount, or nothing."""
    if c.kind is not ContractKind.FIXED or side_of(ctx.actor) is not Side.CLIENT:
        return
    payment: Money | None = ctx.payload.get("payment")
    amount = c.unallocated if payment is None else payment  # held money is unallocated by now
    from_escrow = min(amount.cents, c.unallocated.cents)
    c.unallocated -= Money(from_escrow, c.currency)
    c.escrow_charged += Money(amount.cents - from_escrow, c.currency)
    c.escrow_released += amount
    if amount:
        final = Payment(
            f"{c.id}-P{len(c.payments) + 1}",
            PaymentKind.FINAL,
            amount,
            ctx.now,
            refunded=Money(0, c.currency),
        )
        c.payments = (*c.payments, final)


def hold_manual_payments(c: Contract, ctx: Context) -> None:
    """BILL-6, PAY-1: manual payments made now are available five days later."""
    c.payments = tuple(
        attrs.evolve(p, available_at=p.paid_at + SECURITY_HOLD) if p.available_at is None else p
        for p in c.payments
    )


def open_escrow_refund(c: Contract, ctx: Context) -> None:
    """ESC-1, ESC-2: what the client did not pay is asked back; the freelancer has 7 days."""
    if c.kind is ContractKind.FIXED and c.unallocated:
        due = ctx.now + ESCROW_REFUND_RESPONSE
        c.escrow_refund = EscrowRefund(c.unallocated, ctx.now, due)
        c.deadlines = Deadline.put(
            c.deadlines, Deadline(ESCROW_REFUND, "refund_request_lapse", due)
        )


def _close_request(c: Contract, ctx: Context, status: RefundStatus, **split: Any) -> None:
    err = c.escrow_refund
    assert err is not None
    c.escrow_refund = attrs.evolve(err, status=status, closed_at=ctx.now, **split)
    c.deadlines = Deadline.drop(c.deadlines, ESCROW_REFUND)


def refund_held(c: Contract, ctx: Context) -> None:
    """ESC-3: approved, or unanswered for 7 days: the held money goes back to the client."""
    status = RefundStatus.AUTO_APPROVED if ctx.actor.role is SYSTEM.role else RefundStatus.APPROVED
    c.escrow_returned += c.unallocated
    c.unallocated = Money(0, c.currency)
    _close_request(c, ctx, status)


def dispute(c: Contract, ctx: Context) -> None:
    """ESC-4: the request goes to support; silence no longer approves it."""
    err = c.escrow_refund
    assert err is not None
    c.escrow_refund = attrs.evolve(err, status=RefundStatus.DISPUTED)
    c.deadlines = Deadline.drop(c.deadlines, ESCROW_REFUND)


def split(c: Contract, ctx: Context) -> None:
    """ESC-SPLIT-D: support pays one share to the freelancer and returns the other."""
    x: Money = ctx.payload["to_freelancer"]
    y: Money = ctx.payload["to_client"]
    c.escrow_released += x
    c.escrow_returned += y
    c.unallocated = Money(0, c.currency)
    if x:
        payment = Payment(
            f"{c.id}-P{len(c.payments) + 1}",
            PaymentKind.SETTLEMENT,
            x,
            ctx.now,
            refunded=Money(0, c.currency),
        )
        c.payments = (*c.payments, payment)
    _close_request(c, ctx, RefundStatus.RESOLVED, to_freelancer=x, to_client=y)

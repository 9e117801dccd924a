"""Both contract types: the end itself, refunds, bonuses, refund requests and feedback.

Guards and effects of :data:`statemachines.machines.contract.table.CONTRACT` that do not depend
on the contract's type (CTR-GEN-1, CTR-END-6..9, REF-180-*, REF-REQ-*, FB-*,
PAY-*), and the branch tests that decide where an end or a money event lands:
``ending`` while money is unsettled, then ``ended``, or ``refunded`` when net
pay is below US$1.00 (REF-180-7).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from math import ceil
from typing import TYPE_CHECKING

import attrs

from statemachines.core.clock import format_utc
from statemachines.core.engine import Context, Deadline, Reason, fail
from statemachines.core.money import Money
from statemachines.machines.contract.escrow import final_amount
from statemachines.machines.contract.values import (
    Balance,
    ContractKind,
    Payment,
    PaymentKind,
    RefundRequest,
    Side,
    day_label,
    side_of,
)
from statemachines.rules.contract import (
    BONUS_AFTER_END,
    IN_PRODUCT_REQUEST_WINDOW,
    REFUND_WINDOW,
    SUPPORT_REQUEST_WINDOW,
    WORK_HISTORY_MIN,
)

if TYPE_CHECKING:
    from statemachines.machines.contract.model import Contract

FEEDBACK = "feedback"
"""The key of the deadline that closes the feedback window (FB-1)."""


def _zero(c: Contract) -> Money:
    return Money(0, c.currency)


def _amount(ctx: Context, name: str, c: Contract) -> Money:
    value: Money | None = ctx.payload.get(name)
    return _zero(c) if value is None else value


def shown(net: Money) -> bool:
    """REF-180-7, FB-4, C-13: net pay of 100 minor units or more keeps a contract visible.

    The threshold is US$1.00; other currencies use 100 of their minor units.
    """
    return net.cents >= WORK_HISTORY_MIN.cents


def _age_days(payment: Payment, now: datetime) -> int:
    # A payment is "N days old" during its N-th day: one second past 180 days is 181.
    return ceil((now - payment.paid_at) / timedelta(days=1))


# --------------------------------------------------------------------------- branch tests


def unsettled_at_end(c: Contract, ctx: Context) -> bool:
    """Ending leaves money to settle: hourly weeks in review, or less paid than held."""
    if c.kind is ContractKind.HOURLY:
        return bool(c.weeks_in_review(ctx.now))
    if side_of(ctx.actor) is not Side.CLIENT:
        return False
    return final_amount(c, ctx) < c.escrow_held


def _net_after_end(c: Contract, ctx: Context) -> Money:
    if c.kind is ContractKind.FIXED and side_of(ctx.actor) is Side.CLIENT:
        return c.net_paid + final_amount(c, ctx)
    return c.net_paid


def ends_paid(c: Contract, ctx: Context) -> bool:
    """Settled at once with net pay of US$1.00 or more."""
    return not unsettled_at_end(c, ctx) and shown(_net_after_end(c, ctx))


def ends_unpaid(c: Contract, ctx: Context) -> bool:
    """Settled at once with net pay below US$1.00 (REF-180-7)."""
    return not unsettled_at_end(c, ctx) and not shown(_net_after_end(c, ctx))


def paid_enough(c: Contract, ctx: Context) -> bool:
    """Net pay stays at US$1.00 or more (settling, with a support split if any)."""
    return shown(c.net_paid + _amount(ctx, "to_freelancer", c))


def paid_too_little(c: Contract, ctx: Context) -> bool:
    """Net pay stays below US$1.00."""
    return not paid_enough(c, ctx)


def refund_keeps_pay(c: Contract, ctx: Context) -> bool:
    """After the refund, net pay is still US$1.00 or more."""
    return shown(c.net_paid.minus_capped(_amount(ctx, "amount", c)))


def refund_drops_pay(c: Contract, ctx: Context) -> bool:
    """After the refund, net pay is below US$1.00 (REF-180-7)."""
    return not refund_keeps_pay(c, ctx)


def bonus_restores_pay(c: Contract, ctx: Context) -> bool:
    """After the bonus, net pay is US$1.00 or more again (PAY-2)."""
    return shown(c.net_paid + _amount(ctx, "amount", c))


def bonus_leaves_unpaid(c: Contract, ctx: Context) -> bool:
    """After the bonus, net pay is still below US$1.00."""
    return not bonus_restores_pay(c, ctx)


# --------------------------------------------------------------------------- guards: refunds


def billed_payment(c: Contract, ctx: Context) -> Reason | None:
    """REF-180-5: a refund returns money the contract actually paid."""
    payment_id: str = ctx.payload["payment"]
    if c.payment(payment_id) is None:
        return fail(
            f"contract {c.id} made no payment {payment_id!r}; only money already billed can be "
            "refunded (time not invoiced yet is deleted from the work diary instead)",
            payment=payment_id,
        )
    return None


def payment_recent(c: Contract, ctx: Context) -> Reason | None:
    """REF-180-1, CTR-END-7: the payment is at most 180 days old."""
    payment = c.payment(ctx.payload["payment"])
    if payment is not None and ctx.now - payment.paid_at > REFUND_WINDOW:
        return fail(
            f"{payment.describe()} is {_age_days(payment, ctx.now)} days old; refunds are "
            "possible for 180 days",
            paid_at=payment.paid_at.isoformat(),
        )
    return None


def within_payment(c: Contract, ctx: Context) -> Reason | None:
    """REF-180-2: all of a payment or part of it, more than nothing."""
    payment = c.payment(ctx.payload["payment"])
    amount: Money = ctx.payload["amount"]
    if not amount:
        return fail(f"a refund must be more than {amount}", amount=0)
    if payment is not None and amount > payment.left:
        return fail(
            f"{amount} is more than the {payment.left} left to refund of {payment.describe()}",
            left=payment.left.cents,
        )
    return None


def within_cap(c: Contract, ctx: Context) -> Reason | None:
    """REF-180-3, C-12: at most the last 180 days' net pay, and at most the balance.

    The balance is the workflow's own (``ctx.facts``, the marketplace's records,
    INV-MONEY-10) when it has a source; only a contract used alone takes it from the
    caller.
    """
    amount: Money = ctx.payload["amount"]
    recent = _zero(c)
    for payment in c.payments:
        if ctx.now - payment.paid_at <= REFUND_WINDOW:
            recent += payment.left
    if amount > recent:
        return fail(
            f"{amount} is more than the {recent} contract {c.id} paid in the last 180 days, "
            "less refunds",
            cap=recent.cents,
        )
    if isinstance(ctx.facts, Balance):
        balance = ctx.facts
        if amount > balance.total:
            return fail(
                f"{amount} is more than the freelancer's balance of {balance.describe()}",
                amount=amount.cents,
                balance=balance.total.cents,
                available=balance.available.cents,
                pending=balance.pending.cents,
            )
        return None
    given: Money | None = ctx.payload.get("balance")
    if given is not None and amount > given:
        return fail(
            f"{amount} is more than the freelancer's balance of {given} (available and pending)",
            amount=amount.cents,
            balance=given.cents,
        )
    return None


# --------------------------------------------------------------------------- guards: requests


def platform_payment(c: Contract, ctx: Context) -> Reason | None:
    """REF-REQ-2: refunds are asked for payments made through the platform on this contract."""
    payment_id: str = ctx.payload["payment"]
    if c.payment(payment_id) is None:
        return fail(
            f"contract {c.id} made no payment {payment_id!r}; refunds go through the platform, "
            "for payments made on it",
            payment=payment_id,
        )
    return None


def request_in_time(c: Contract, ctx: Context) -> Reason | None:
    """REF-REQ-1: a request is possible up to 365 days after the payment."""
    payment = c.payment(ctx.payload["payment"])
    if payment is not None and ctx.now - payment.paid_at > SUPPORT_REQUEST_WINDOW:
        return fail(
            f"{payment.describe()} is {_age_days(payment, ctx.now)} days old; a refund can be "
            "requested for 365 days (through support after 180 days)",
            paid_at=payment.paid_at.isoformat(),
        )
    return None


# --------------------------------------------------------------------------- guards: bonus


def positive_bonus(c: Contract, ctx: Context) -> Reason | None:
    """PAY-2: a bonus pays something."""
    amount: Money = ctx.payload["amount"]
    if not amount:
        return fail(f"a bonus must be more than {amount}", amount=0)
    return None


def bonus_in_time(c: Contract, ctx: Context) -> Reason | None:
    """PAY-2: a bonus up to 365 days after the end."""
    if c.ended_at is not None and ctx.now - c.ended_at > BONUS_AFTER_END:
        return fail(
            f"contract {c.id} {c.ended_label()}; bonuses can be paid for 365 days after the end, "
            f"until {format_utc(c.ended_at + BONUS_AFTER_END)}",
            ended_at=c.ended_at.isoformat(),
        )
    return None


# --------------------------------------------------------------------------- guards: feedback


def _closed_for(c: Contract, ctx: Context) -> datetime | None:
    # When the window closed for the actor's side, or None while it may still leave feedback.
    closes = c.feedback_closes
    assert closes is not None, "feedback is left only after the end"
    if ctx.now < closes or side_of(ctx.actor) in c.late_feedback:
        return None
    return closes


def window_open(c: Contract, ctx: Context) -> Reason | None:
    """FB-1: feedback until the end of the 14th UTC day after the end."""
    closed = _closed_for(c, ctx)
    if closed is not None and not c.refund_requests:
        return fail(
            f"the feedback window of contract {c.id} closed at {format_utc(closed)}, 14 days "
            "after it ended; the other side can allow late feedback",
            closed=closed.isoformat(),
        )
    return None


def not_extended_by_request(c: Contract, ctx: Context) -> Reason | None:
    """REF-REQ-3: a pending refund request does not keep the window open."""
    closed = _closed_for(c, ctx)
    if closed is not None and c.refund_requests:
        return fail(
            f"the feedback window of contract {c.id} closed at {format_utc(closed)}; waiting for "
            "a refund does not extend it",
            closed=closed.isoformat(),
        )
    return None


def feedback_once(c: Contract, ctx: Context) -> Reason | None:
    """FB-1: each side leaves feedback once."""
    side = side_of(ctx.actor)
    assert side is not None
    left = c.feedback_at(side)
    if left is not None:
        return fail(f"the {side.value} already left feedback on {format_utc(left)}")
    return None


def window_closed(c: Contract, ctx: Context) -> Reason | None:
    """FB-3: late feedback is allowed only once the window closed, for a side that left none."""
    closes = c.feedback_closes
    assert closes is not None
    side = side_of(ctx.actor)
    other = Side.FREELANCER if side is Side.CLIENT else Side.CLIENT
    if ctx.now < closes:
        return fail(
            f"the feedback window of contract {c.id} is open until {format_utc(closes)}; "
            f"the {other.value} can still leave feedback without permission"
        )
    if c.feedback_at(other) is not None or other in c.late_feedback:
        return fail(f"the {other.value} already left feedback or may already leave it late")
    return None


# --------------------------------------------------------------------------- effects


def record_end(c: Contract, ctx: Context) -> None:
    """CTR-GEN-1: the end, by either side; ``ended_at`` is set once (CTR-END-9)."""
    c.ended_at = ctx.now
    c.ended_by = side_of(ctx.actor)
    c.pause_reason = None
    c.paused_at = None


def open_feedback(c: Contract, ctx: Context) -> None:
    """CTR-END-6, FB-1: both sides may leave feedback until the end of the 14th day."""
    closes = c.feedback_closes
    assert closes is not None
    c.deadlines = Deadline.put(c.deadlines, Deadline(FEEDBACK, "close_feedback", closes))


def leave_feedback(c: Contract, ctx: Context) -> None:
    """FB-2: double-blind; published once both sides have left feedback (or late)."""
    if side_of(ctx.actor) is Side.CLIENT:
        c.client_feedback_at = ctx.now
    else:
        c.freelancer_feedback_at = ctx.now
    both = c.client_feedback_at is not None and c.freelancer_feedback_at is not None
    closes = c.feedback_closes
    late = closes is not None and ctx.now >= closes
    if c.feedback_published_at is None and (both or late):
        c.feedback_published_at = ctx.now


def publish_feedback(c: Contract, ctx: Context) -> None:
    """FB-2: the window closed; whatever feedback was left is published."""
    if c.feedback_published_at is None and (c.client_feedback_at or c.freelancer_feedback_at):
        c.feedback_published_at = ctx.now


def allow_late(c: Contract, ctx: Context) -> None:
    """FB-3: the actor's side lets the other side leave feedback late."""
    other = Side.FREELANCER if side_of(ctx.actor) is Side.CLIENT else Side.CLIENT
    c.late_feedback = (*c.late_feedback, other)


def refund_payment(c: Contract, ctx: Context) -> None:
    """REF-180-4: the client is credited at once; nothing undoes it."""
    amount: Money = ctx.payload["amount"]
    c.payments = tuple(
        attrs.evolve(p, refunded=p.refunded + amount) if p.id == ctx.payload["payment"] else p
        for p in c.payments
    )


def count_refund(c: Contract, ctx: Context) -> None:
    """REF-180-6: the refund comes off the lifetime billings with the client."""
    c.refunds_total += ctx.payload["amount"]


def record_request(c: Contract, ctx: Context) -> None:
    """REF-REQ-1: recorded in the product up to 180 days, for support after that."""
    payment = c.payment(ctx.payload["payment"])
    assert payment is not None
    late = ctx.now - payment.paid_at > IN_PRODUCT_REQUEST_WINDOW
    request = RefundRequest(payment.id, ctx.payload["amount"], ctx.now, via_support=late)
    c.refund_requests = (*c.refund_requests, request)


def pay_bonus(c: Contract, ctx: Context) -> None:
    """PAY-2, CTR-END-8: a bonus, while the contract runs or up to 365 days after."""
    payment = Payment(
        f"{c.id}-P{len(c.payments) + 1}",
        PaymentKind.BONUS,
        ctx.payload["amount"],
        ctx.now,
        source=day_label(ctx.now),
        refunded=_zero(c),
    )
    c.payments = (*c.payments, payment)


def leave_work_history(c: Contract, ctx: Context) -> None:
    """REF-180-7: net pay below US$1.00 on a finished contract: it becomes refunded."""
    c.refunded_at = ctx.now


def withdraw_feedback(c: Contract, ctx: Context) -> None:
    """FB-4: its feedback is no longer shown."""
    c.feedback_withdrawn = True


def restore_feedback(c: Contract, ctx: Context) -> None:
    """FB-4: net pay is US$1.00 or more again; its feedback shows again."""
    c.feedback_withdrawn = False

"""Hourly contracts: the work diary, the weekly limit, pauses and the weekly billing cycle.

Guards and effects of the hourly edges of :data:`statemachines.machines.contract.table.CONTRACT`
(CTR-HR-1..3, CTR-END-2..3, BILL-1..7). The billing cycle is data: the first
time logged in a week sets that week's invoice deadline (Monday 12:00 UTC after
it, BILL-3), and ending the contract sets the deadline at which it settles (the
close of the last client review, BILL-4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from statemachines.core.clock import format_utc
from statemachines.core.engine import Context, Deadline, Reason, fail
from statemachines.core.money import Money
from statemachines.machines.contract.values import (
    BillingWeek,
    ContractKind,
    PauseReason,
    Payment,
    PaymentKind,
    day_label,
    hours,
    week_of,
)
from statemachines.rules.contract import WEEK

if TYPE_CHECKING:
    from datetime import datetime

    from statemachines.machines.contract.model import Contract

SETTLE = "settle"
"""The key of the deadline at which an ending hourly contract settles (CTR-END-3)."""


def invoice_key(week: BillingWeek) -> str:
    """The key of a week's invoice deadline: one per week, so it fires once (BILL-3)."""
    return f"invoice:{day_label(week.start)}"


def _put_week(c: Contract, week: BillingWeek) -> None:
    kept = [w for w in c.weeks if w.start != week.start]
    kept.append(week)
    c.weeks = tuple(sorted(kept, key=lambda w: w.start))


def _worked_at(ctx: Context) -> datetime:
    on: datetime | None = ctx.payload.get("on")
    return ctx.now if on is None else on


# --------------------------------------------------------------------------- guards


def hourly_only(c: Contract, ctx: Context) -> Reason | None:
    """CTR-TYPE-D: the diary, pauses and weekly limits exist on hourly contracts only."""
    if c.kind is not ContractKind.HOURLY:
        return fail(
            f"contract {c.id} is a fixed-price contract; time, pauses and weekly limits belong "
            "to hourly contracts",
            kind=c.kind.value,
        )
    return None


def time_in_contract(c: Contract, ctx: Context) -> Reason | None:
    """BILL-1: a positive number of minutes, for a moment of the contract's life."""
    minutes: int = ctx.payload.get("minutes", 1)
    at = _worked_at(ctx)
    if minutes <= 0:
        return fail(f"time is logged in whole minutes, more than 0, not {minutes}", minutes=minutes)
    if at < c.started_at:
        return fail(
            f"{format_utc(at)} is before contract {c.id} started ({format_utc(c.started_at)})",
            at=at.isoformat(),
        )
    return None


def diary_week_open(c: Contract, ctx: Context) -> Reason | None:
    """BILL-2: the current week, or the week just closed until Monday 12:00 UTC."""
    at = _worked_at(ctx)
    if at > ctx.now:
        return fail(
            f"time cannot be logged for {format_utc(at)}, which is still to come",
            at=at.isoformat(),
        )
    week = c.week_at(at)
    if ctx.now >= week.edits_close:
        return fail(
            f"{week.label} closed for changes at {format_utc(week.edits_close)}, when it was "
            "invoiced; its time can no longer be changed",
            week=day_label(week.start),
            closed=week.edits_close.isoformat(),
        )
    return None


def enough_time_logged(c: Contract, ctx: Context) -> Reason | None:
    """BILL-2: only time that was logged can be deleted."""
    week = c.week_at(_worked_at(ctx))
    minutes: int = ctx.payload["minutes"]
    if minutes > week.logged:
        return fail(
            f"{week.label} has only {hours(week.logged)} logged; {hours(minutes)} cannot be "
            "deleted",
            logged_minutes=week.logged,
        )
    return None


def limit_not_negative(c: Contract, ctx: Context) -> Reason | None:
    """CTR-HR-3: a weekly limit is a number of hours, 0 or more (or none at all)."""
    limit: int | None = ctx.payload.get("hours")
    if limit is not None and limit < 0:
        return fail(f"a weekly limit is 0 hours or more, not {limit}", hours=limit)
    return None


def _paused(c: Contract) -> str:
    reason = c.pause_reason or PauseReason.CLIENT
    return f"contract {c.id} was {reason.paused(format_utc(c.paused_at) if c.paused_at else '')}"


def _only(reason: PauseReason, c: Contract) -> Reason | None:
    if c.pause_reason is reason:
        return None
    found = c.pause_reason or PauseReason.CLIENT
    return fail(f"{_paused(c)}; it restarts {found.resumes}", reason=found.value)


def paused_by_client(c: Contract, ctx: Context) -> Reason | None:
    """CTR-HR-1, CTR-HR-2, SUSP-D, HDSP-2: the client restarts only a pause of its own, or
    one for a dispute of hours it filed."""
    if c.pause_reason is PauseReason.DISPUTE:
        return None
    return _only(PauseReason.CLIENT, c)


def paused_for_billing(c: Contract, ctx: Context) -> Reason | None:
    """CTR-HR-2: only a pause for billing ends when billing is fixed."""
    return _only(PauseReason.BILLING, c)


def paused_for_client_suspension(c: Contract, ctx: Context) -> Reason | None:
    """SUSP-1: only a pause for the client's suspension ends when it is reinstated."""
    return _only(PauseReason.CLIENT_SUSPENDED, c)


def paused_for_freelancer_suspension(c: Contract, ctx: Context) -> Reason | None:
    """SUSP-D: only a pause for the freelancer's suspension ends when it is reinstated."""
    return _only(PauseReason.FREELANCER_SUSPENDED, c)


def diary_paused(c: Contract, ctx: Context) -> Reason:
    """CTR-HR-1 (forbidden row): no time is logged while the contract is paused."""
    return fail(
        f"{_paused(c)}; time can be logged again once it is restarted",
        reason=c.pause_reason.value if c.pause_reason else None,
    )


def diary_locked(c: Contract, ctx: Context) -> Reason:
    """CTR-END-2 (forbidden row): the diary locked when the contract ended."""
    return fail(
        f"the work diary of contract {c.id} locked when the contract {c.ended_label()}; "
        "time can no longer be added or changed",
        ended_at=c.ended_at.isoformat() if c.ended_at else None,
    )


# --------------------------------------------------------------------------- effects


def log_time(c: Contract, ctx: Context) -> None:
    """BILL-1: add the time to the week it was worked in; that week will be invoiced."""
    week = c.week_at(_worked_at(ctx))
    _put_week(c, attrs.evolve(week, logged=week.logged + ctx.payload["minutes"]))
    invoice = Deadline(invoice_key(week), "invoice", week.edits_close)
    c.deadlines = Deadline.put(c.deadlines, invoice)


def delete_time(c: Contract, ctx: Context) -> None:
    """BILL-2: take the time off its week; a week left empty is dropped, not invoiced."""
    week = c.week_at(_worked_at(ctx))
    week = attrs.evolve(week, logged=week.logged - ctx.payload["minutes"])
    if week.logged:
        _put_week(c, week)
    else:
        c.weeks = tuple(w for w in c.weeks if w.start != week.start)
        c.deadlines = Deadline.drop(c.deadlines, invoice_key(week))


def set_weekly_limit(c: Contract, ctx: Context) -> None:
    """CTR-HR-3: the limit for time logged from now on, and for weeks not invoiced yet."""
    c.weekly_limit = ctx.payload["hours"]


def pause_by_client(c: Contract, ctx: Context) -> None:
    """CTR-HR-1."""
    c.pause_reason = PauseReason.CLIENT
    c.paused_at = ctx.now


def pause_for_billing(c: Contract, ctx: Context) -> None:
    """CTR-HR-2, SUSP-1."""
    c.pause_reason = PauseReason.BILLING
    c.paused_at = ctx.now


def pause_for_client_suspension(c: Contract, ctx: Context) -> None:
    """SUSP-1: the client's account is suspended for a reason other than billing."""
    c.pause_reason = PauseReason.CLIENT_SUSPENDED
    c.paused_at = ctx.now


def pause_for_freelancer_suspension(c: Contract, ctx: Context) -> None:
    """SUSP-D: the freelancer's account is suspended."""
    c.pause_reason = PauseReason.FREELANCER_SUSPENDED
    c.paused_at = ctx.now


def unpause(c: Contract, ctx: Context) -> None:
    """CTR-HR-1, CTR-HR-2: back to work."""
    c.pause_reason = None
    c.paused_at = None


def _due_week(c: Contract, now: datetime) -> BillingWeek:
    # The oldest week not invoiced whose invoice time has come: normally the
    # week whose deadline fired, at its own due time.
    return next(w for w in c.weeks if w.logged and w.invoiced_at is None and w.edits_close <= now)


def cap_week(c: Contract, ctx: Context) -> None:
    """CTR-HR-3: close the week; billable time is the logged time capped by the limit.

    Time over the limit is logged like any other and never invoiced: only a bonus the
    client agrees to pays it.
    """
    week = _due_week(c, ctx.now)
    limit = None if c.weekly_limit is None else c.weekly_limit * 60
    billable = week.logged if limit is None else min(week.logged, limit)
    assert c.rate is not None, "an hourly contract has a rate"
    amount = Money(c.rate.cents * billable // 60, c.currency)
    _put_week(
        c, attrs.evolve(week, billable=billable, limit=limit, invoiced_at=ctx.now, amount=amount)
    )


def charge_week(c: Contract, ctx: Context) -> None:
    """BILL-3: charge the client for the week invoiced now, once."""
    for week in c.weeks:
        if week.invoiced_at == ctx.now and week.amount:
            payment = Payment(
                f"{c.id}-P{len(c.payments) + 1}",
                PaymentKind.HOURLY,
                week.amount,
                ctx.now,
                day_label(week.start),
                refunded=Money(0, c.currency),
            )
            c.payments = (*c.payments, payment)


def hold_until_wednesday(c: Contract, ctx: Context) -> None:
    """BILL-5: hourly earnings wait for the Wednesday ten days after their week."""
    c.payments = tuple(
        attrs.evolve(p, available_at=BillingWeek(week_of(p.paid_at) - WEEK).available_at)
        if p.kind is PaymentKind.HOURLY and p.available_at is None
        else p
        for p in c.payments
    )


def lock_diary(c: Contract, ctx: Context) -> None:
    """CTR-END-2: ending an hourly contract locks its diary at once."""
    if c.is_hourly:
        c.diary_locked = True


def await_last_review(c: Contract, ctx: Context) -> None:
    """BILL-4: an ending hourly contract settles when its last client review closes."""
    pending = c.weeks_in_review(ctx.now)
    if c.is_hourly and pending:
        due = max(w.review_closes for w in pending)
        c.deadlines = Deadline.put(c.deadlines, Deadline(SETTLE, SETTLE, due))

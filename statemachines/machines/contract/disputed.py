"""Disputes on the contract: hours held out of a week's payment, and milestones disputed.

Guards and effects of the contract's ``dispute_hours`` and ``settle_held_hours`` edges
(HDSP-1, HDSP-2, HDSP-4, HDSP-5, HDSP-7; the dispute itself is
:mod:`statemachines.machines.hourly_dispute`, and the marketplace fires these two events
when a dispute is filed and when it ends). Owned by the rulebook helper (issue 17).

* Filing holds the disputed minutes out of the week's payment: the payment shrinks by
  their billed amount (rounded as the invoice rounds), so they are neither pending nor
  available to the freelancer side; a running contract pauses with its weekly limit at 0
  (HDSP-2).
* Settling pays the minutes not refunded back into the week's payment, on its usual
  Wednesday (or at once if that has passed), and the refunded minutes stay out of it: the
  client is charged only for what the freelancer side keeps. Once nothing is held, a
  contract paused by the dispute is paused by the client, who restarts it (HDSP-2).

The contract keeps no field for what is held: each decision records its week and minutes,
and :func:`held_minutes` adds them up from the history (the stored format is unchanged).
Arguments left out have meanings that come from the time and the history alone, so a
replayed history gives the same holds: ``week`` is the week in review (filing) or the
oldest week with hours held (settling), and ``minutes`` is 0 when filing (refused: a
dispute names its hours) and every held minute of the week when settling.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from statemachines.core.actors import SYSTEM
from statemachines.core.clock import ensure_utc, format_utc
from statemachines.core.engine import Context, Deadline, Reason, fail
from statemachines.core.money import Money
from statemachines.machines.contract.after import shown
from statemachines.machines.contract.escrow import REVIEW, review_key
from statemachines.machines.contract.escrow import _paid_out as paid_out
from statemachines.machines.contract.values import (
    BillingWeek,
    PauseReason,
    PaymentKind,
    day_label,
    hours,
    side_of,
    week_of,
)
from statemachines.machines.milestone import DELIVERED, Milestone, MilestoneState
from statemachines.rules.contract import WEEK

if TYPE_CHECKING:
    from statemachines.machines.contract.model import Contract

HOLD = "dispute_hours"
SETTLE = "settle_held_hours"


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return ensure_utc(datetime.fromisoformat(str(value)))


def _week_in_review(at: datetime) -> datetime:
    # The week whose client review runs at *at*: the one before the week holding it (BILL-4).
    return week_of(at) - WEEK


def _hold_week(payload: Mapping[str, Any], at: datetime) -> datetime:
    week = _when(payload.get("week"))
    return week_of(week) if week is not None else _week_in_review(at)


def _settle_week(payload: Mapping[str, Any], held: Mapping[datetime, int]) -> datetime | None:
    week = _when(payload.get("week"))
    if week is not None:
        return week_of(week)
    return min(held) if held else None


def _settle_minutes(payload: Mapping[str, Any], held: Mapping[datetime, int], week: Any) -> int:
    minutes: int | None = payload.get("minutes")
    return held.get(week, 0) if minutes is None else minutes


def held_minutes(c: Contract) -> dict[datetime, int]:
    """Minutes held out of each week's payment by disputes not settled yet (HDSP-2)."""
    held: dict[datetime, int] = {}
    for d in c.history:
        if d.event == HOLD:
            filed = _hold_week(d.payload, d.at)
            held[filed] = held.get(filed, 0) + int(d.payload["minutes"])
        elif d.event == SETTLE:
            week = _settle_week(d.payload, held)
            if week is not None:
                left = held.get(week, 0) - _settle_minutes(d.payload, held, week)
                if left > 0:
                    held[week] = left
                else:
                    held.pop(week, None)
    return held


def _amount(c: Contract, minutes: int) -> Money:
    # What the invoice billed for *minutes* (nothing on a fixed-price contract).
    rate = c.rate.cents if c.rate is not None else 0
    return Money(rate * max(minutes, 0) // 60, c.currency)


def _payment_index(c: Contract, week: datetime) -> int | None:
    label = day_label(week)
    return next(
        (i for i, p in enumerate(c.payments) if p.kind is PaymentKind.HOURLY and p.source == label),
        None,
    )


# --------------------------------------------------------------------------- guards


def week_in_review(c: Contract, ctx: Context) -> Reason | None:
    """HDSP-1, BILL-4: hours of a week invoiced, while that week's review window is open."""
    week = c.week(_hold_week(ctx.payload, ctx.now))
    if week.invoiced_at is None:
        return fail(
            f"contract {c.id} has no invoice for {week.label}; only invoiced hours can be disputed",
            week=day_label(week.start),
        )
    if not week.edits_close <= ctx.now < week.review_closes:
        return fail(
            f"the review window of {week.label} ran from {format_utc(week.edits_close)} to "
            f"{format_utc(week.review_closes)}; its hours can be disputed only then",
            week=day_label(week.start),
        )
    return None


def hours_to_hold(c: Contract, ctx: Context) -> Reason | None:
    """HDSP-1: some billed minutes of that week, not disputed already, still on its payment."""
    minutes: int = ctx.payload["minutes"]
    week = c.week(_hold_week(ctx.payload, ctx.now))
    if minutes <= 0:
        return fail(f"a dispute is about some hours, more than 0 minutes, not {minutes}")
    disputed = held_minutes(c).get(week.start, 0)
    open_to_dispute = week.billable - disputed
    if minutes > open_to_dispute:
        also = f", {hours(disputed)} of them disputed already" if disputed else ""
        return fail(
            f"{hours(minutes)} is more than the {hours(open_to_dispute)} of {week.label} that "
            f"can be disputed ({hours(week.billable)} billed{also})",
            billed_minutes=week.billable,
            disputed_minutes=disputed,
        )
    index = _payment_index(c, week.start)
    left = c.payments[index].left if index is not None else Money(0, c.currency)
    if _amount(c, minutes) > left:
        return fail(
            f"{hours(minutes)} were billed at {_amount(c, minutes)}, but only {left} of the "
            f"payment for {week.label} is left after refunds",
            left=left.cents,
        )
    return None


def hours_held(c: Contract, ctx: Context) -> Reason | None:
    """HDSP-2: only hours a dispute holds are paid or refunded, at most all of them."""
    held = held_minutes(c)
    week = _settle_week(ctx.payload, held)
    if week is None or week not in held:
        what = f"week {day_label(week)}" if week is not None else "any week"
        return fail(f"no hours of {what} are held by a dispute on contract {c.id}")
    minutes = _settle_minutes(ctx.payload, held, week)
    refunded: int = ctx.payload["refunded"]
    label = BillingWeek(week).label
    if not 0 < minutes <= held[week]:
        return fail(
            f"{label} has {hours(held[week])} held; {hours(minutes)} cannot be settled",
            held_minutes=held[week],
        )
    if not 0 <= refunded <= minutes:
        return fail(
            f"of {hours(minutes)} settled, between 0 and all can be refunded, not "
            f"{hours(refunded) if refunded >= 0 else refunded}",
            refunded_minutes=refunded,
        )
    return None


def not_paused_by_dispute(c: Contract, ctx: Context) -> Reason | None:
    """HDSP-2: while a dispute holds hours, the contract stays paused with a limit of 0."""
    if c.pause_reason is PauseReason.DISPUTE:
        weeks = ", ".join(BillingWeek(w).label for w in sorted(held_minutes(c)))
        return fail(
            f"contract {c.id} is paused while the client's dispute of hours billed for "
            f"{weeks or 'a week'} is open; it can be restarted, and its weekly limit changed, "
            "once the dispute is over",
            reason=PauseReason.DISPUTE.value,
        )
    return None


# --------------------------------------------------------------------------- effects


def hold_hours(c: Contract, ctx: Context) -> None:
    """HDSP-2: the disputed minutes leave the week's payment until the dispute is over."""
    week = _hold_week(ctx.payload, ctx.now)
    index = _payment_index(c, week)
    assert index is not None, "the guards found the week's payment"
    payments = list(c.payments)
    pay = payments[index]
    payments[index] = attrs.evolve(pay, amount=pay.amount - _amount(c, ctx.payload["minutes"]))
    c.payments = tuple(payments)


def pause_for_dispute(c: Contract, ctx: Context) -> None:
    """HDSP-2: the contract pauses with a weekly limit of 0 until the dispute is over."""
    c.pause_reason = PauseReason.DISPUTE
    c.paused_at = ctx.now
    c.weekly_limit = 0


def settle_hours(c: Contract, ctx: Context) -> None:
    """HDSP-4, HDSP-5, HDSP-7: minutes not refunded join the week's payment again; the
    refunded ones stay out of it (the client is not charged for them)."""
    held = held_minutes(c)
    week = _settle_week(ctx.payload, held)
    assert week is not None, "the guards found hours held"
    minutes = _settle_minutes(ctx.payload, held, week)
    paid = _amount(c, minutes) - _amount(c, ctx.payload["refunded"])
    index = _payment_index(c, week)
    assert index is not None, "a week with hours held has its payment"
    payments = list(c.payments)
    pay = payments[index]
    payments[index] = attrs.evolve(pay, amount=pay.amount + paid)
    c.payments = tuple(payments)


def dispute_over(c: Contract, ctx: Context) -> None:
    """HDSP-2: once nothing is held, the contract is the client's to restart."""
    if c.pause_reason is not PauseReason.DISPUTE:
        return
    held = held_minutes(c)  # the history does not hold this decision yet
    week = _settle_week(ctx.payload, held)
    if week is not None:
        left = held.get(week, 0) - _settle_minutes(ctx.payload, held, week)
        held = {w: m for w, m in held.items() if w != week and m}
        if left > 0:
            held[week] = left
    if not held:
        c.pause_reason = PauseReason.CLIENT


def _paid_back(c: Contract, ctx: Context) -> Money:
    # What settling adds to the pay, read before the guards (a branch must not fail).
    held = held_minutes(c)
    week = _settle_week(ctx.payload, held)
    minutes = min(_settle_minutes(ctx.payload, held, week), held.get(week, 0)) if week else 0
    refunded = min(max(ctx.payload["refunded"], 0), max(minutes, 0))
    return _amount(c, minutes) - _amount(c, refunded)


def settled_pay_restores(c: Contract, ctx: Context) -> bool:
    """After the hours paid, net pay is US$1.00 or more (REF-180-7, FB-4)."""
    return shown(c.net_paid + _paid_back(c, ctx))


def settled_pay_keeps_refunded(c: Contract, ctx: Context) -> bool:
    """After the hours paid, net pay is still below US$1.00 (REF-180-7)."""
    return not settled_pay_restores(c, ctx)


# --------------------------------------------------------------------------- milestones
# A fixed-price dispute of case (b) (FPD-1): delivered work the client does not release is
# disputed through support (MS-DSP-1); the milestone is ``disputed`` until the dispute gives
# its shares, then released (what the freelancer side gets) with the rest left in the
# contract's escrow for the client (rulebook §5.3 M10-M11: the contract stays active).


def _live_ms(c: Contract) -> Milestone | None:
    return c.live_milestone


def milestone_delivered(c: Contract, ctx: Context) -> Reason | None:
    """MS-DSP-1: only a milestone delivered and not released is disputed."""
    ms = _live_ms(c)
    if ms is not None and ms.state in DELIVERED:
        return None
    if ms is not None:
        state = ms.state.value.replace("_", " ")
        return fail(
            f"milestone {ms.id} is {state}; only delivered work waiting for payment is disputed",
            milestone=ms.id,
        )
    return fail(f"no milestone of contract {c.id} has delivered work waiting for payment")


def milestone_disputed(c: Contract, ctx: Context) -> Reason | None:
    """MS-DSP-1: a dispute's shares settle the milestone it is about."""
    ms = _live_ms(c)
    if ms is None or ms.state is not MilestoneState.DISPUTED:
        return fail(f"no milestone of contract {c.id} is disputed")
    return None


def not_disputed(c: Contract, ctx: Context) -> Reason | None:
    """MS-DSP-1: work on a disputed milestone waits for the dispute."""
    ms = _live_ms(c)
    if ms is not None and ms.state is MilestoneState.DISPUTED:
        return fail(
            f"milestone {ms.id} is disputed; a mediation specialist decides what is released, "
            "and work resumes with the next milestone",
            milestone=ms.id,
        )
    return None


def _shares(c: Contract, ctx: Context) -> tuple[Money, Money]:
    # Left out, a share is the rest of what is held; neither given: all to the freelancer.
    ms = _live_ms(c)
    held = ms.held if ms is not None else Money(0, c.currency)
    zero = Money(0, c.currency)
    x: Money | None = ctx.payload["to_freelancer"]
    y: Money | None = ctx.payload["to_client"]
    if x is None and y is None:
        return held, zero
    if x is None:
        assert y is not None
        return (held - y if y <= held else zero), y
    if y is None:
        return x, (held - x if x <= held else zero)
    return x, y


def shares_add_up(c: Contract, ctx: Context) -> Reason | None:
    """FPD-5: the dispute's shares add up to the milestone's held money."""
    ms = _live_ms(c)
    if ms is None:
        return None  # milestone_disputed says why
    x, y = _shares(c, ctx)
    if x.currency != c.currency or y.currency != c.currency or x + y != ms.held:
        return fail(
            f"{x} to the freelancer side and {y} to the client do not make the {ms.held} "
            f"held for milestone {ms.id}",
            held=ms.held.cents,
        )
    return None


def dispute_milestone(c: Contract, ctx: Context) -> None:
    """MS-DSP-1: the milestone is disputed; its review clock stops."""
    ms = _live_ms(c)
    assert ms is not None, "the guards found the delivered milestone"
    REVIEW.fire_at(ms, "dispute", ctx.actor, ctx.now)
    c.deadlines = Deadline.drop(c.deadlines, review_key(ms))


def settle_milestone(c: Contract, ctx: Context) -> None:
    """FPD-5, MS-DSP-1: release the freelancer side's share; the client's stays in escrow."""
    ms = _live_ms(c)
    assert ms is not None, "the guards found the disputed milestone"
    x, _ = _shares(c, ctx)
    if x:
        REVIEW.fire_at(ms, "settle_dispute", ctx.actor, ctx.now, amount=x)
        paid_out(c, ms, ctx)
    else:  # nothing released: the milestone's money goes back to the escrow, for the client
        REVIEW.fire_at(ms, "cancel", SYSTEM, ctx.now)
        c.unallocated += ms.returned
        c.deadlines = Deadline.drop(c.deadlines, review_key(ms))


def no_milestone_disputed(c: Contract, ctx: Context) -> Reason | None:
    """MS-DSP-1 (decision, ADR 0074): the sides end a contract once its disputed milestone is
    decided. The platform closing an account for good still ends it (the milestone is
    cancelled and its money returned, as for any live milestone)."""
    ms = _live_ms(c)
    if side_of(ctx.actor) is not None and ms is not None and ms.state is MilestoneState.DISPUTED:
        return fail(
            f"milestone {ms.id} is disputed; the contract can end once the mediation specialist "
            "has decided who gets its money",
            milestone=ms.id,
        )
    return None


# --------------------------------------------------------------------------- dormancy
# DORM-1: a dormant contract's money released without the client acting (the client let the
# freelancer's request lapse) or as a mediator decided (the client disputed the request).
# The shares are of what the live milestone holds; money not allocated to a milestone stays
# in the escrow and goes back to the client when the contract ends.


def live_funds(c: Contract, ctx: Context) -> Reason | None:
    """DORM-1: a release needs a milestone funded or in review, holding money."""
    ms = _live_ms(c)
    if ms is None or ms.state is MilestoneState.DISPUTED or not ms.held:
        return fail(f"no milestone of contract {c.id} holds money that can be released now")
    return None


def dormant_shares(c: Contract, ctx: Context) -> Reason | None:
    """DORM-1: the watch (silence) or the mediator gives the shares; they add up."""
    if ctx.payload["to_freelancer"] is None and ctx.payload["to_client"] is None:
        return fail(
            "a dormant contract's money is released as its dormancy watch or a mediator "
            "decided: give the freelancer side's share, the client's, or both"
        )
    return shares_add_up(c, ctx)


def release_dormant(c: Contract, ctx: Context) -> None:
    """DORM-1: release the freelancer side's share; the client's stays in the escrow."""
    ms = _live_ms(c)
    assert ms is not None, "the guards found the live milestone"
    x, _ = _shares(c, ctx)
    if x:
        REVIEW.fire_at(ms, "release_held", ctx.actor, ctx.now, amount=x)
        paid_out(c, ms, ctx)
    else:
        REVIEW.fire_at(ms, "cancel", SYSTEM, ctx.now)
        c.unallocated += ms.returned
        c.deadlines = Deadline.drop(c.deadlines, review_key(ms))

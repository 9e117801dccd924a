"""Invariants of rulebook §6 as named predicates, shared by property tests and checkers.

Each predicate takes an aggregate (or a group of them) and returns a list of
problems: an empty list means the invariant holds. A problem is a sentence that
names the aggregate and the values that break the rule.

>>> from statemachines import Milestone, Money
>>> ms = Milestone(id="M-1", contract="C-1", client="co-1", freelancer="fl-1", amount=Money(900))
>>> check_milestone(ms)
[]
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from statemachines.core.actors import CLIENT_DECIDERS
from statemachines.core.clock import ManualClock
from statemachines.core.snapshots import from_dict, register_invariants, to_dict
from statemachines.machines.contract.table import (
    CONTRACT,
    Contract,
    ContractLifecycle,
    ContractState,
)
from statemachines.machines.contract.values import BillingWeek, PaymentKind, RefundStatus, week_of
from statemachines.machines.milestone import Milestone, MilestoneState
from statemachines.rules.contract import (
    BONUS_AFTER_END,
    ESCROW_REFUND_RESPONSE,
    REFUND_WINDOW,
    WEEK,
    WORK_HISTORY_MIN,
)
from statemachines.rules.milestone import MILESTONE_MIN, REVIEW_WINDOW, SECURITY_HOLD

__all__ = [
    "CONTRACT_INVARIANTS",
    "MILESTONE_INVARIANTS",
    "TIMED_CONTRACT_INVARIANTS",
    "check_contract",
    "check_milestone",
    "inv_ctr_1_monotone_lifecycle",
    "inv_ctr_2_diary_lock",
    "inv_ctr_3_weekly_limit",
    "inv_derived_1_refunded",
    "inv_money_1_escrow_conservation",
    "inv_money_2_per_milestone",
    "inv_money_3_settled",
    "inv_money_4_dispute_partition",
    "inv_money_5_refund_bound",
    "inv_money_6_refunds_irreversible",
    "inv_money_7_hourly_billing",
    "inv_money_8_availability",
    "inv_money_9_client_side",
    "inv_ms_1_single_active_milestone",
    "inv_ms_2_review_timer",
    "inv_ms_3_no_early_or_stale_auto_release",
    "inv_ms_4_minimum",
    "inv_ms_contract",
    "inv_ms_money",
    "inv_time_2_escrow_refund",
    "inv_time_3_feedback",
    "inv_time_5_timers",
    "inv_time_6_bonus_window",
    "replays_identically",
]

Invariant = Callable[[Any], list[str]]

_M = MilestoneState
_ACTIVE = frozenset(
    {_M.FUNDED, _M.SUBMITTED, _M.CHANGES_REQUESTED, _M.RESUBMITTED, _M.DISPUTED}  # MS-DSP-1
)
_REVIEWING = frozenset({_M.SUBMITTED, _M.RESUBMITTED})


def inv_ms_1_single_active_milestone(milestones: Iterable[Milestone]) -> list[str]:
    """INV-MS-1: at most one milestone of a contract is funded or under review."""
    active = [m.id for m in milestones if m.state in _ACTIVE]
    if len(active) > 1:
        return [f"{len(active)} milestones are active at once: {', '.join(active)}"]
    return []


def inv_ms_2_review_timer(ms: Milestone) -> list[str]:
    """INV-MS-2: in review iff one review deadline, due 14 days after the latest submission."""
    reviews = [d for d in ms.deadlines if d.event == "review_lapse"]
    if ms.state in _REVIEWING:
        if len(reviews) != 1:
            return [f"{ms.id} is {ms.state.value} with {len(reviews)} review deadlines"]
        assert ms.submitted_at is not None
        expected = ms.submitted_at + REVIEW_WINDOW
        if reviews[0].due != expected:
            return [f"{ms.id} review is due {reviews[0].due}, expected {expected}"]
        return []
    if reviews:
        return [f"{ms.id} is {ms.state.value} but a review deadline is still live"]
    return []


def inv_ms_3_no_early_or_stale_auto_release(ms: Milestone) -> list[str]:
    """INV-MS-3: an automatic release happens exactly at the deadline of the latest submission.

    No request for changes or approval may stand between that submission and
    the automatic release.
    """
    problems = []
    last_submit = None
    for decision in ms.history:
        if decision.event in {"submit", "resubmit"}:
            last_submit = decision
        elif decision.event in {"request_changes", "approve"}:
            last_submit = None
        elif decision.event == "review_lapse":
            if last_submit is None:
                problems.append(f"{ms.id} was auto-approved without a live submission")
            elif decision.at != last_submit.at + REVIEW_WINDOW:
                problems.append(
                    f"{ms.id} was auto-approved at {decision.at}, "
                    f"not 14 days after the submission at {last_submit.at}"
                )
    return problems


def inv_ms_4_minimum(ms: Milestone) -> list[str]:
    """INV-MS-4: every funded milestone holds at least US$5.00."""
    if ms.funded and ms.funded < MILESTONE_MIN:
        return [f"{ms.id} was funded with {ms.funded}, below {MILESTONE_MIN}"]
    return []


def inv_ms_money(ms: Milestone) -> list[str]:
    """INV-MONEY-2 for one milestone: released never exceeds funded plus extra charged."""
    if ms.released.cents > ms.funded.cents + ms.extra.cents:
        return [f"{ms.id} released {ms.released} but only {ms.funded} + {ms.extra} was charged"]
    if ms.state is _M.APPROVED and not ms.released:
        return [f"{ms.id} is approved but released nothing"]
    return []


MILESTONE_INVARIANTS: tuple[Invariant, ...] = (
    inv_ms_2_review_timer,
    inv_ms_3_no_early_or_stale_auto_release,
    inv_ms_4_minimum,
    inv_ms_money,
)
"""Invariants of a single milestone (INV-MS-1 is checked over a contract's milestones)."""


def check_milestone(ms: Milestone) -> list[str]:
    """Every problem the single-milestone invariants find in *ms*."""
    return [problem for invariant in MILESTONE_INVARIANTS for problem in invariant(ms)]


# --------------------------------------------------------------------------- contracts
#
# Rulebook §6.2-6.5 for one contract (hourly or fixed-price). Predicates that
# need the time take ``now``; all of them read only the contract, its
# milestones and its history, so a model checker can call them after any step.

_C = ContractState
_AFTER_END = frozenset({_C.ENDING, _C.ENDED, _C.REFUNDED})
_RUNNING = frozenset({_C.ACTIVE, _C.PAUSED})
_OVER = frozenset({_C.ENDED, _C.REFUNDED})


def _cents(value: object) -> int:
    assert isinstance(value, dict), value
    cents = value["cents"]
    assert isinstance(cents, int)
    return cents


def inv_ctr_1_monotone_lifecycle(c: Contract) -> list[str]:
    """INV-CTR-1: never back to work after the end; ended once; ``ended_at`` never moves."""
    problems = []
    ends = [d for d in c.history if d.event == "end_contract"]
    for d in c.history:
        if d.source in _AFTER_END and d.target in _RUNNING:
            problems.append(f"{c.id} went from {d.source.value} back to {d.target.value}")
    if len(ends) > 1:
        problems.append(f"{c.id} was ended {len(ends)} times")
    if ends and c.ended_at != ends[0].at:
        problems.append(f"{c.id} ended at {ends[0].at} but records ended_at {c.ended_at}")
    if (c.ended_at is None) != (c.state in _RUNNING):
        problems.append(f"{c.id} is {c.state.value} with ended_at {c.ended_at}")
    return problems


@functools.lru_cache(maxsize=4096)
def _edits_close(worked: datetime) -> datetime:
    """When the week *worked* falls in stops taking changes (a contract logs in a few
    weeks at a time: the same answers are asked again and again)."""
    return BillingWeek(week_of(worked)).edits_close


@functools.lru_cache(maxsize=4096)
def _pay_day(paid_at: datetime) -> datetime:
    """The Wednesday an invoice paid at *paid_at* becomes available."""
    return BillingWeek(week_of(paid_at) - WEEK).available_at


def inv_ctr_2_diary_lock(c: Contract) -> list[str]:
    """INV-CTR-2: time changes only on an active contract, and never in an invoiced week."""
    problems = []
    for d in c.history:
        if d.event not in {"log_time", "delete_time"}:
            continue
        if d.source is not _C.ACTIVE:
            problems.append(f"{c.id}: {d.event} succeeded while {d.source.value}")
        on = d.payload.get("on")
        worked = d.at if on is None else datetime.fromisoformat(str(on))
        closes = _edits_close(worked)
        if d.at >= closes:
            problems.append(f"{c.id}: {d.event} at {d.at} changed a week invoiced at {closes}")
    if c.diary_locked != (c.is_hourly and c.ended_at is not None):
        problems.append(f"{c.id} diary_locked is {c.diary_locked} while {c.state.value}")
    return problems


def inv_ctr_3_weekly_limit(c: Contract) -> list[str]:
    """INV-CTR-3: billed time in a week never exceeds the logged time or the limit in force."""
    problems = []
    for w in c.weeks:
        if w.billable > w.logged:
            problems.append(f"{c.id} {w.label}: billed {w.billable} of {w.logged} minutes")
        if w.limit is not None and w.billable > w.limit:
            problems.append(f"{c.id} {w.label}: billed {w.billable} minutes over a {w.limit} limit")
    return problems


def inv_money_1_escrow_conservation(c: Contract) -> list[str]:
    """INV-MONEY-1: charged into escrow = released + returned to the client + held."""
    accounted = c.escrow_released + c.escrow_returned + c.escrow_held
    if c.escrow_charged != accounted:
        return [
            f"{c.id} charged {c.escrow_charged} into escrow but released {c.escrow_released}, "
            f"returned {c.escrow_returned} and holds {c.escrow_held}"
        ]
    if c.is_hourly and c.escrow_charged:
        return [f"hourly contract {c.id} has escrow ({c.escrow_charged})"]
    return []


def inv_money_2_per_milestone(c: Contract) -> list[str]:
    """INV-MONEY-2: no milestone pays out or returns more than was charged for it."""
    return [
        f"{m.id} released {m.released} and returned {m.returned} of {m.funded} + {m.extra}"
        for m in c.milestones
        if m.released.cents + m.returned.cents > m.funded.cents + m.extra.cents
    ]


def inv_money_3_settled(c: Contract) -> list[str]:
    """INV-MONEY-3: a settled fixed-price contract holds nothing and has no open request."""
    if c.state not in _OVER:
        return []
    problems = []
    if c.escrow_held:
        problems.append(f"{c.id} is {c.state.value} but still holds {c.escrow_held}")
    err = c.escrow_refund
    if err is not None and err.status in {RefundStatus.PENDING, RefundStatus.DISPUTED}:
        problems.append(f"{c.id} is {c.state.value} with {err.label} still {err.status.value}")
    return problems


def inv_money_4_dispute_partition(c: Contract) -> list[str]:
    """INV-MONEY-4: a settled escrow-refund request splits exactly the amount in dispute."""
    err = c.escrow_refund
    if err is None or err.status is not RefundStatus.RESOLVED:
        return []
    assert err.to_freelancer is not None
    assert err.to_client is not None
    if err.to_freelancer + err.to_client != err.amount:
        return [f"{c.id}: {err.to_freelancer} + {err.to_client} does not make {err.amount}"]
    return []


def inv_money_5_refund_bound(c: Contract) -> list[str]:
    """INV-MONEY-5: refunds never exceed a payment, and come within 180 days of it."""
    problems = [
        f"{c.id}: {p.id} of {p.amount} was refunded {p.refunded}"
        for p in c.payments
        if p.refunded > p.amount
    ]
    for d in c.history:
        if d.event == "give_refund":
            payment = c.payment(str(d.payload["payment"]))
            if payment is None or d.at - payment.paid_at > REFUND_WINDOW:
                problems.append(f"{c.id}: refund at {d.at} of a payment not refundable then")
    return problems


def inv_money_6_refunds_irreversible(c: Contract) -> list[str]:
    """INV-MONEY-6: refunds only add up: the total is the sum of every refund ever given."""
    given = sum(_cents(d.payload["amount"]) for d in c.history if d.event == "give_refund")
    on_payments = sum(p.refunded.cents for p in c.payments)
    if not c.refunds_total.cents == given == on_payments:
        return [
            f"{c.id} refunds total {c.refunds_total}, the history gives {given} cents and the "
            f"payments {on_payments} cents"
        ]
    return []


def inv_money_7_hourly_billing(c: Contract) -> list[str]:
    """INV-MONEY-7: each week is invoiced once, at its Monday 12:00 UTC, at the rate."""
    problems = []
    hourly = [p for p in c.payments if p.kind is PaymentKind.HOURLY]
    if len({p.source for p in hourly}) != len(hourly):
        problems.append(f"{c.id} invoiced a week twice: {[p.source for p in hourly]}")
    for w in c.weeks:
        if w.invoiced_at is None:
            continue
        if w.invoiced_at != w.edits_close:
            problems.append(f"{c.id} {w.label} was invoiced at {w.invoiced_at}")
        assert c.rate is not None
        assert w.amount is not None
        if w.amount.cents != c.rate.cents * w.billable // 60:
            problems.append(f"{c.id} {w.label} invoiced {w.amount} for {w.billable} minutes")
    return problems


def inv_money_8_availability(c: Contract) -> list[str]:
    """INV-MONEY-8: hourly pay is available on its Wednesday, other pay 5 days after it."""
    problems = []
    for p in c.payments:
        if p.available_at is None:
            problems.append(f"{c.id}: {p.id} has no availability date")
        elif p.kind is PaymentKind.HOURLY:
            wednesday = _pay_day(p.paid_at)
            if p.available_at != wednesday:
                problems.append(f"{c.id}: {p.id} is available {p.available_at}, not {wednesday}")
        elif p.available_at < p.paid_at + SECURITY_HOLD:
            problems.append(f"{c.id}: {p.id} is available before its 5-day hold ends")
    return problems


def inv_money_9_client_side(c: Contract) -> list[str]:
    """INV-MONEY-9: the client is never credited more than it was charged on the contract.

    Charges are escrow fundings, hourly invoices and bonuses; credits are escrow returned
    and refunds given by the freelancer side.
    """
    charged = c.escrow_charged.cents + sum(
        p.amount.cents for p in c.payments if p.kind in {PaymentKind.HOURLY, PaymentKind.BONUS}
    )
    credited = c.escrow_returned.cents + c.refunds_total.cents
    if credited > charged:
        return [f"{c.id} credited the client {credited} cents of {charged} charged"]
    return []


def inv_time_2_escrow_refund(c: Contract, now: datetime) -> list[str]:
    """INV-TIME-2: an escrow-refund request is pending for 7 days at most."""
    err = c.escrow_refund
    if err is None or err.status is not RefundStatus.PENDING:
        return []
    if err.due != err.opened_at + ESCROW_REFUND_RESPONSE or now >= err.due:
        return [f"{c.id}: {err.label} is still pending at {now} (due {err.due})"]
    if not any(d.event == "refund_request_lapse" and d.due == err.due for d in c.deadlines):
        return [f"{c.id}: {err.label} is pending without its deadline"]
    return []


def inv_time_3_feedback(c: Contract) -> list[str]:
    """INV-TIME-3: feedback is left before the window closes, or late with permission."""
    problems = []
    granted: set[str] = set()
    for d in c.history:
        side = "client" if d.actor.role in CLIENT_DECIDERS else "freelancer"
        if d.event == "allow_late_feedback":
            granted.add("freelancer" if side == "client" else "client")
        if d.event == "leave_feedback":
            closes = c.feedback_closes
            if closes is None or (d.at >= closes and side not in granted):
                problems.append(f"{c.id}: {side} feedback at {d.at} after the window closed")
    return problems


def inv_time_5_timers(c: Contract, now: datetime) -> list[str]:
    """INV-TIME-5: every deadline fires once, none is overdue, each can fire from here."""
    keys = [d.deadline for d in c.history if d.deadline is not None]
    problems = []
    if len(set(keys)) != len(keys):
        problems.append(f"{c.id}: a deadline fired twice: {sorted(keys)}")
    for deadline in c.deadlines:
        if deadline.due <= now:
            problems.append(f"{c.id}: {deadline.key} was due at {deadline.due} and did not fire")
        if not CONTRACT.edges_from(c.state, deadline.event):
            problems.append(f"{c.id}: {deadline.key} cannot fire from {c.state.value}")
    return problems


def inv_time_6_bonus_window(c: Contract) -> list[str]:
    """INV-TIME-6: no bonus more than 365 days after the end."""
    return [
        f"{c.id}: bonus at {d.at}, over 365 days after the end at {c.ended_at}"
        for d in c.history
        if d.event == "pay_bonus" and c.ended_at is not None and d.at - c.ended_at > BONUS_AFTER_END
    ]


def inv_derived_1_refunded(c: Contract) -> list[str]:
    """INV-DERIVED-1: ``refunded`` iff settled with net pay below US$1.00; then feedback hides."""
    low = c.net_paid.cents < WORK_HISTORY_MIN.cents
    refunded = c.state is _C.REFUNDED
    problems = []
    if refunded != (c.state in _OVER and low):
        problems.append(f"{c.id} is {c.state.value} with net pay {c.net_paid}")
    if c.feedback_withdrawn != refunded:
        problems.append(f"{c.id} is {c.state.value} but feedback_withdrawn={c.feedback_withdrawn}")
    return problems


def inv_ms_contract(c: Contract) -> list[str]:
    """INV-MS-1..4 and INV-MONEY-2 for every milestone of a fixed-price contract."""
    problems = inv_ms_1_single_active_milestone(c.milestones)
    for ms in c.milestones:
        problems += check_milestone(ms)
    return problems


CONTRACT_INVARIANTS: tuple[Invariant, ...] = (
    inv_ctr_1_monotone_lifecycle,
    inv_ctr_2_diary_lock,
    inv_ctr_3_weekly_limit,
    inv_money_1_escrow_conservation,
    inv_money_2_per_milestone,
    inv_money_3_settled,
    inv_money_4_dispute_partition,
    inv_money_5_refund_bound,
    inv_money_6_refunds_irreversible,
    inv_money_7_hourly_billing,
    inv_money_8_availability,
    inv_money_9_client_side,
    inv_time_3_feedback,
    inv_time_6_bonus_window,
    inv_derived_1_refunded,
    inv_ms_contract,
)
"""Invariants of one contract that do not depend on the time."""

TIMED_CONTRACT_INVARIANTS: tuple[Callable[[Contract, datetime], list[str]], ...] = (
    inv_time_2_escrow_refund,
    inv_time_5_timers,
)
"""Invariants of one contract at a moment (after every due deadline has fired)."""


def check_contract(c: Contract, now: datetime) -> list[str]:
    """Every problem the contract invariants find in *c* at *now* (deadlines fired)."""
    problems = [problem for invariant in CONTRACT_INVARIANTS for problem in invariant(c)]
    for timed in TIMED_CONTRACT_INVARIANTS:
        problems += timed(c, now)
    return problems


def replays_identically(initial: Mapping[str, Any], c: Contract) -> bool:
    """INV-TIME-5: replaying *c*'s history on its first snapshot rebuilds it exactly."""
    start = from_dict(initial)
    assert isinstance(start, Contract)
    clock = ManualClock(c.history[-1].at if c.history else start.started_at)
    rebuilt = ContractLifecycle(clock=clock).replay(start, c.history)
    return to_dict(rebuilt) == to_dict(c)


register_invariants(Milestone, MILESTONE_INVARIANTS)
register_invariants(Contract, CONTRACT_INVARIANTS)

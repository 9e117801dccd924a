"""Edges and refusals that no other contract test reaches: each branch of an event refused
and fired on its own (ending paid or unpaid, during a pause, while ending, once refunded).

An event with two branches (``approve_refund``, ``resolve_dispute``, ``give_refund``,
``pay_bonus``, ``settle``) is a separate edge per branch: the branch is chosen by the net pay
the event would leave, so each test below states which branch it is on. Fixtures as in
``test_after.py`` (a fixed-price contract that paid US$40.00 on 2026-01-02) and
``test_fixed.py`` (milestone C-2-M1 of US$200.00 submitted at 2026-03-02 09:00 UTC).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from statemachines import UTC, Contract, ContractLifecycle, ContractState, ManualClock, Money
from statemachines.machines.contract.values import RefundStatus
from statemachines.machines.invariants import check_contract
from tests.machines.contract.conftest import FREELANCER, HIRING, OWNER, PAID, SUPPORT, at, refund
from tests.machines.contract.test_hourly import refused

S = ContractState
SECOND = timedelta(seconds=1)
OVER_180 = PAID + timedelta(days=181)
OVER_365 = PAID + timedelta(days=365) + SECOND
FEEDBACK_CLOSED = datetime(2026, 1, 17, tzinfo=UTC)
"""00:00 UTC after the 14th day following an end on 2026-01-02."""


def ending(flow: ContractLifecycle, c: Contract, cents: int = 20_000) -> Contract:
    """Fund a milestone of *cents* on *c* and end it paying nothing: ending, refund pending."""
    flow.fire(c, "add_milestone", OWNER, amount=Money(cents))
    flow.fire(c, "fund_milestone", OWNER)
    flow.fire(c, "end_contract", OWNER, payment=Money(0))
    assert c.state is S.ENDING
    return c


def paused(lifecycle: ContractLifecycle, c: Contract, clock: ManualClock) -> Contract:
    """Hourly *c* with 90 minutes invoiced on Monday 2026-03-09 (US$60.00), then paused."""
    lifecycle.fire(c, "log_time", FREELANCER, minutes=90)
    clock.set(at(10, 8))
    lifecycle.advance(c)
    lifecycle.fire(c, "pause", OWNER)
    assert c.state is S.PAUSED
    return c


def hourly_refund(c: Contract, cents: int) -> dict[str, object]:
    """Arguments of a refund of *cents* from the first payment of hourly *c*."""
    return {"payment": c.payments[0].id, "amount": Money(cents), "balance": Money(1_000_000)}


def disputed(flow: ContractLifecycle, c: Contract, payment: Money) -> Contract:
    """End *c* (milestone C-2-M1 of US$200.00 submitted) paying *payment*; dispute the rest."""
    flow.fire(c, "end_contract", OWNER, payment=payment)
    flow.fire(c, "leave_feedback", FREELANCER)
    flow.fire(c, "dispute_refund", FREELANCER)
    assert c.escrow_refund is not None
    assert c.escrow_refund.status is RefundStatus.DISPUTED
    return c


# --------------------------------------------------------------------------- releasing


@pytest.mark.rule("MS-REVIEW-5")
def test_ms_review_5_releasing_nothing_without_a_submission_is_refused(
    lifecycle: ContractLifecycle, funded: Contract
) -> None:
    err = refused(lifecycle, funded, "release_milestone", OWNER, amount=Money(0))

    assert err.rule_ids == ("MS-REVIEW-5",)
    assert err.reasons == (
        "paying milestone C-2-M1 must release a positive amount, not US$0.00; to pay nothing, "
        "ask for changes or end the contract",
    )


# --------------------------------------------------------------------------- the escrow refund


@pytest.mark.rule("ESC-2")
def test_esc_2_a_late_approval_is_refused_when_the_end_paid_something(
    lifecycle: ContractLifecycle, submitted: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(5_000))  # branch: ended
    clock.set(at(9, 9))

    err = refused(lifecycle, submitted, "approve_refund", FREELANCER)

    assert err.rule_ids == ("ESC-2",)
    assert err.reasons == (
        "the escrow-refund request of US$150.00 opened 2026-03-02 09:00:00 UTC is answered: "
        "the 7 days to answer it ended at 2026-03-09 09:00:00 UTC; silence approved it",
    )


@pytest.mark.rule("ESC-2")
def test_esc_2_a_dispute_after_7_days_is_refused(
    lifecycle: ContractLifecycle, submitted: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(0))
    lifecycle.fire(submitted, "leave_feedback", FREELANCER)
    clock.set(at(9, 9))

    err = refused(lifecycle, submitted, "dispute_refund", FREELANCER)

    assert err.rule_ids == ("ESC-2",)
    assert err.reasons[0].endswith("ended at 2026-03-09 09:00:00 UTC; silence approved it")


@pytest.mark.rule("ESC-SPLIT-D")
def test_esc_split_d_support_giving_everything_back_leaves_the_contract_refunded(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    disputed(lifecycle, submitted, Money(0))

    lifecycle.fire(
        submitted, "resolve_dispute", SUPPORT, to_freelancer=Money(0), to_client=Money(20_000)
    )

    assert submitted.state is S.REFUNDED  # nothing was paid: REF-180-7
    assert submitted.escrow_returned == Money(20_000)
    assert check_contract(submitted, at(2, 9)) == []


@pytest.mark.rule("ESC-5", "ESC-SPLIT-D")
def test_esc_5_only_what_is_held_goes_back_when_the_split_leaves_it_refunded(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    disputed(lifecycle, submitted, Money(50))  # 50 cents paid: net pay below US$1.00

    err = refused(
        lifecycle,
        submitted,
        "resolve_dispute",
        SUPPORT,
        to_freelancer=Money(0),
        to_client=Money(20_000),
    )

    assert err.rule_ids == ("ESC-SPLIT-D", "ESC-5")
    assert err.reasons[1] == (
        "only the US$199.50 still held can go back to the client, not US$200.00; released "
        "earnings are not part of the request"
    )


# --------------------------------------------------------------------------- hourly settling


@pytest.mark.rule("CTR-END-3")
def test_ctr_end_3_an_hourly_week_refunded_in_full_settles_as_refunded(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=90)
    clock.set(at(10, 8))
    lifecycle.advance(hourly)  # the week is invoiced: US$60.00 paid
    lifecycle.fire(
        hourly,
        "give_refund",
        FREELANCER,
        payment=hourly.payments[0].id,
        amount=Money(6_000),
        balance=Money(6_000),
    )
    lifecycle.fire(hourly, "end_contract", OWNER)
    ended = hourly.state

    fired = lifecycle.advance(hourly, at(14))

    assert ended is S.ENDING  # the week is still open to the client's review
    assert [(d.event, d.target) for d in fired] == [("settle", S.REFUNDED)]
    assert check_contract(hourly, at(14)) == []


# --------------------------------------------------------------------------- refunds


@pytest.mark.rule("CTR-HR-3")
def test_ctr_hr_3_a_paused_contract_refuses_a_negative_weekly_limit(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    paused(lifecycle, hourly, clock)

    err = refused(lifecycle, hourly, "set_weekly_limit", OWNER, hours=-1)
    lifecycle.fire(hourly, "set_weekly_limit", OWNER, hours=10)

    assert err.rule_ids == ("CTR-HR-3",)
    assert err.reasons == ("a weekly limit is 0 hours or more, not -1",)
    assert (hourly.state, hourly.weekly_limit) == (S.PAUSED, 10)


@pytest.mark.rule("REF-180-1", "REF-180-3")
def test_ref_180_1_a_paused_contract_cannot_refund_a_payment_181_days_old(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    paused(lifecycle, hourly, clock)
    clock.set(at(9, 12) + timedelta(days=181))

    err = refused(lifecycle, hourly, "give_refund", FREELANCER, **hourly_refund(hourly, 1_000))

    assert err.rule_ids == ("REF-180-1", "REF-180-3")
    assert err.reasons[0] == (
        "the payment of US$60.00 on 2026-03-09 is 181 days old; refunds are possible for 180 days"
    )


@pytest.mark.rule("CTR-END-7", "REF-180-3")
def test_ctr_end_7_while_ending_an_old_payment_is_not_refunded(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    jan_clock.set(OVER_180)
    ending(flow, paid)

    err = refused(flow, paid, "give_refund", FREELANCER, **refund(1_000))

    assert err.rule_ids == ("CTR-END-7", "REF-180-3")
    assert "is 181 days old; refunds are possible for 180 days" in err.reasons[0]


@pytest.mark.rule("REF-180-2", "REF-180-3")
def test_ref_180_2_while_ending_a_refund_is_at_most_what_is_left(
    flow: ContractLifecycle, paid: Contract
) -> None:
    ending(flow, paid)

    err = refused(flow, paid, "give_refund", FREELANCER, **refund(4_001))
    flow.fire(paid, "give_refund", FREELANCER, **refund(4_000))

    assert err.rule_ids == ("REF-180-2", "REF-180-3")
    assert err.reasons[0] == (
        "US$40.01 is more than the US$40.00 left to refund of the payment of US$40.00 on 2026-01-02"
    )
    assert paid.state is S.ENDING


@pytest.mark.rule("REF-180-2")
def test_ref_180_2_while_ending_a_client_cannot_ask_back_more_than_is_left(
    flow: ContractLifecycle, paid: Contract
) -> None:
    ending(flow, paid)

    err = refused(flow, paid, "request_refund", OWNER, payment="C-2-P1", amount=Money(4_001))
    flow.fire(paid, "request_refund", OWNER, payment="C-2-P1", amount=Money(4_000))

    assert err.rule_ids == ("REF-180-2",)
    assert err.reasons[0] == (
        "US$40.01 is more than the US$40.00 left to refund of the payment of US$40.00 on 2026-01-02"
    )
    assert paid.state is S.ENDING


@pytest.mark.rule("REF-180-5")
@pytest.mark.parametrize(
    ("cents", "branch"), [(1_000, "stays ended"), (4_000, "would leave it refunded")]
)
def test_ref_180_5_an_ended_contract_refunds_only_what_it_billed(
    flow: ContractLifecycle, paid: Contract, cents: int, branch: str
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    unbilled = {"payment": "C-2-P9", "amount": Money(cents), "balance": Money(1_000_000)}

    err = refused(flow, paid, "give_refund", FREELANCER, **unbilled)

    assert err.rule_ids[0] == "REF-180-5", branch
    assert err.reasons[0] == (
        "contract C-2 made no payment 'C-2-P9'; only money already billed can be refunded "
        "(time not invoiced yet is deleted from the work diary instead)"
    )
    assert paid.state is S.ENDED


@pytest.mark.rule("CTR-END-7", "REF-180-3")
def test_ctr_end_7_a_full_refund_181_days_after_the_end_is_refused(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    jan_clock.set(OVER_180)
    flow.advance(paid)

    err = refused(flow, paid, "give_refund", FREELANCER, **refund(4_000))  # branch: refunded

    assert err.rule_ids == ("CTR-END-7", "REF-180-3")
    assert paid.state is S.ENDED


# --------------------------------------------------------------------------- bonuses


@pytest.mark.rule("PAY-2")
def test_pay_2_a_bonus_during_a_pause_pays_something(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    paused(lifecycle, hourly, clock)

    err = refused(lifecycle, hourly, "pay_bonus", OWNER, amount=Money(0))
    lifecycle.fire(hourly, "pay_bonus", OWNER, amount=Money(500))

    assert err.rule_ids == ("PAY-2",)
    assert err.reasons == ("a bonus must be more than US$0.00",)
    assert hourly.state is S.PAUSED


@pytest.mark.rule("PAY-2")
def test_pay_2_a_bonus_while_ending_pays_something(flow: ContractLifecycle, paid: Contract) -> None:
    ending(flow, paid)

    err = refused(flow, paid, "pay_bonus", HIRING, amount=Money(0))

    assert err.rule_ids == ("PAY-2",)
    assert err.reasons == ("a bonus must be more than US$0.00",)


@pytest.mark.rule("PAY-2")
def test_pay_2_a_refunded_contract_gets_no_bonus_after_365_days(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    flow.fire(paid, "give_refund", FREELANCER, **refund(4_000))
    jan_clock.set(OVER_365)
    flow.advance(paid)

    err = refused(flow, paid, "pay_bonus", OWNER, amount=Money(50))  # branch: stays refunded

    assert paid.state is S.REFUNDED
    assert err.rule_ids == ("PAY-2",)
    assert err.reasons == (
        "contract C-2 ended on 2026-01-02; bonuses can be paid for 365 days after the end, "
        "until 2027-01-02 09:00:00 UTC",
    )


# --------------------------------------------------------------------------- refund requests


@pytest.mark.rule("REF-REQ-1")
def test_ref_req_1_no_request_after_365_days_during_a_pause(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    paused(lifecycle, hourly, clock)
    payment = hourly.payments[0].id
    clock.set(at(9, 12) + timedelta(days=366))

    err = refused(lifecycle, hourly, "request_refund", OWNER, payment=payment, amount=Money(100))

    assert err.rule_ids == ("REF-REQ-1",)
    assert err.reasons[0].startswith("the payment of US$60.00 on 2026-03-09 is 366 days old")


@pytest.mark.rule("REF-REQ-1")
def test_ref_req_1_no_request_after_365_days_while_ending(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    jan_clock.set(OVER_365)
    ending(flow, paid)

    err = refused(flow, paid, "request_refund", OWNER, payment="C-2-P1", amount=Money(1_000))

    assert err.rule_ids == ("REF-REQ-1",)


@pytest.mark.rule("REF-REQ-1")
def test_ref_req_1_no_request_after_365_days_once_ended(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    jan_clock.set(OVER_365)
    flow.advance(paid)

    err = refused(flow, paid, "request_refund", OWNER, payment="C-2-P1", amount=Money(1_000))

    assert err.rule_ids == ("REF-REQ-1",)
    assert paid.state is S.ENDED


@pytest.mark.rule("REF-REQ-1")
def test_ref_req_1_a_refunded_contract_may_ask_for_the_rest_for_365_days(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    flow.fire(paid, "give_refund", FREELANCER, **refund(3_950))  # 50 cents left: refunded
    flow.fire(paid, "request_refund", OWNER, payment="C-2-P1", amount=Money(50))
    jan_clock.set(OVER_365)
    flow.advance(paid)

    err = refused(flow, paid, "request_refund", OWNER, payment="C-2-P1", amount=Money(50))

    assert paid.state is S.REFUNDED
    assert len(paid.refund_requests) == 1
    assert err.rule_ids == ("REF-REQ-1",)


# --------------------------------------------------------------------------- feedback


@pytest.mark.rule("FB-1", "REF-REQ-3")
def test_fb_1_the_window_closes_while_a_dispute_keeps_the_contract_ending(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "add_milestone", OWNER, amount=Money(20_000))
    flow.fire(paid, "fund_milestone", OWNER)
    flow.fire(paid, "request_refund", OWNER, payment="C-2-P1", amount=Money(1_000))
    disputed(flow, paid, Money(0))
    jan_clock.set(FEEDBACK_CLOSED)

    fired = flow.advance(paid)
    late = refused(flow, paid, "leave_feedback", HIRING)
    flow.fire(paid, "allow_late_feedback", FREELANCER)
    flow.fire(paid, "leave_feedback", HIRING)

    assert [(d.event, d.target) for d in fired] == [("close_feedback", S.ENDING)]
    assert late.rule_ids == ("REF-REQ-3",)
    assert late.reasons == (
        "the feedback window of contract C-2 closed at 2026-01-17 00:00:00 UTC; waiting for "
        "a refund does not extend it",
    )
    assert paid.state is S.ENDING
    assert paid.feedback_visible


@pytest.mark.rule("REF-REQ-3")
def test_ref_req_3_a_refunded_contract_waiting_for_a_refund_gets_no_late_feedback(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "request_refund", OWNER, payment="C-2-P1", amount=Money(1_000))
    flow.fire(paid, "end_contract", OWNER)
    flow.fire(paid, "give_refund", FREELANCER, **refund(4_000))
    jan_clock.set(FEEDBACK_CLOSED)
    flow.advance(paid)

    err = refused(flow, paid, "leave_feedback", FREELANCER)

    assert paid.state is S.REFUNDED
    assert err.rule_ids == ("REF-REQ-3",)

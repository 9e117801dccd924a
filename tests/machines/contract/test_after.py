"""One test per rule that applies after the money moved: refunds, bonuses, refund requests,
feedback and the end itself (REF-180-*, REF-REQ-*, PAY-*, FB-*, CTR-END-6..9, INV-DERIVED-1).

Most tests start from a fixed-price contract that paid US$40.00 on 2026-01-02 09:00 UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from statemachines import (
    UTC,
    Contract,
    ContractLifecycle,
    ContractState,
    ManualClock,
    Money,
    to_dict,
)
from statemachines.errors import InvalidPayload
from statemachines.machines.contract.values import Balance, Payment, PaymentKind, Side
from statemachines.machines.invariants import check_contract
from tests.machines.contract.conftest import FREELANCER, HIRING, OWNER, PAID, at, refund
from tests.machines.contract.test_hourly import refused

S = ContractState
SECOND = timedelta(seconds=1)


# --------------------------------------------------------------------------- REF-180


@pytest.mark.rule("REF-180-1")
@pytest.mark.parametrize("age", [timedelta(days=179), timedelta(days=180)], ids=["179", "180"])
def test_ref_180_1_a_payment_up_to_180_days_old_can_be_refunded(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock, age: timedelta
) -> None:
    jan_clock.set(PAID + age)

    flow.fire(paid, "give_refund", FREELANCER, **refund(1_000))

    assert paid.net_paid == Money(3_000)


@pytest.mark.rule("REF-180-1", "REF-180-3")
@pytest.mark.parametrize(
    "age", [timedelta(days=180) + SECOND, timedelta(days=181)], ids=["180+1s", "181"]
)
def test_ref_180_1_a_payment_181_days_old_cannot_be_refunded(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock, age: timedelta
) -> None:
    jan_clock.set(PAID + age)

    err = refused(flow, paid, "give_refund", FREELANCER, **refund(1_000))

    assert err.rule_ids == ("REF-180-1", "REF-180-3")  # nothing paid in the last 180 days
    assert err.reasons[0] == (
        "the payment of US$40.00 on 2026-01-02 is 181 days old; refunds are possible for 180 days"
    )


@pytest.mark.rule("CTR-END-7", "REF-180-3")
def test_ctr_end_7_after_the_end_the_same_180_days_apply(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    jan_clock.set(PAID + timedelta(days=180))
    flow.advance(paid)
    flow.fire(paid, "give_refund", FREELANCER, **refund(1_000))
    jan_clock.set(PAID + timedelta(days=181))

    err = refused(flow, paid, "give_refund", FREELANCER, **refund(1_000))

    assert err.rule_ids == ("CTR-END-7", "REF-180-3")
    assert "is 181 days old; refunds are possible for 180 days" in err.reasons[0]


@pytest.mark.rule("REF-180-2", "REF-180-3")
def test_ref_180_2_a_refund_is_all_or_part_of_what_is_left(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "give_refund", FREELANCER, **refund(1_500))

    err = refused(flow, paid, "give_refund", FREELANCER, **refund(2_501))
    flow.fire(paid, "give_refund", FREELANCER, **refund(2_500))

    assert err.rule_ids == ("REF-180-2", "REF-180-3")
    assert err.reasons[0] == (
        "US$25.01 is more than the US$25.00 left to refund of the payment of US$40.00 on 2026-01-02"
    )
    assert paid.payments[0].refunded == Money(4_000)


@pytest.mark.rule("REF-180-2")
def test_ref_180_2_a_refund_returns_something(flow: ContractLifecycle, paid: Contract) -> None:
    err = refused(flow, paid, "give_refund", FREELANCER, **refund(0))

    assert err.rule_ids == ("REF-180-2",)
    assert err.reasons == ("a refund must be more than US$0.00",)


@pytest.mark.rule("REF-180-3")
def test_ref_180_3_a_refund_is_capped_by_the_freelancers_balance(
    flow: ContractLifecycle, paid: Contract
) -> None:
    err = refused(flow, paid, "give_refund", FREELANCER, **refund(2_000, balance=1_999))

    assert err.rule_ids == ("REF-180-3",)
    assert err.reasons == (
        "US$20.00 is more than the freelancer's balance of US$19.99 (available and pending)",
    )


@pytest.mark.rule("REF-180-3")
def test_ref_180_3_a_contract_used_alone_is_told_the_balance(
    flow: ContractLifecycle, paid: Contract
) -> None:
    before = to_dict(paid)

    with pytest.raises(InvalidPayload, match="needs the argument 'balance'"):
        flow.fire(paid, "give_refund", FREELANCER, payment="C-2-P1", amount=Money(1_000))

    assert to_dict(paid) == before


@pytest.mark.rule("REF-180-3")
def test_ref_180_3_a_balance_source_is_believed_over_the_caller(
    jan_clock: ManualClock, paid: Contract
) -> None:
    seen: list[tuple[str, datetime]] = []

    def balances(c: Contract, now: datetime) -> Balance:
        seen.append((c.id, now))
        return Balance(Money(500), Money(1_000))

    flow = ContractLifecycle(clock=jan_clock, balances=balances)
    err = refused(flow, paid, "give_refund", FREELANCER, **refund(1_501, balance=10**6))
    flow.fire(paid, "give_refund", FREELANCER, payment="C-2-P1", amount=Money(1_500))

    assert err.rule_ids == ("REF-180-3",)
    assert err.reasons == (
        "US$15.01 is more than the freelancer's balance of US$15.00 "
        "(US$5.00 available, US$10.00 pending)",
    )
    assert paid.net_paid == Money(2_500)
    assert seen == [("C-2", jan_clock.now())] * 2


@pytest.mark.rule("REF-180-3")
@pytest.mark.parametrize(
    ("withdrawn", "available", "pending", "overdraft"),
    [(0, 3_000, 1_000, 0), (3_500, 0, 500, 0), (4_500, 0, 0, 500)],
)
def test_ref_180_3_a_balance_is_taken_from_available_then_pending_and_never_clamped(
    withdrawn: int, available: int, pending: int, overdraft: int
) -> None:
    now = datetime(2026, 3, 10, tzinfo=UTC)
    payments = [
        Payment("C-1-P1", PaymentKind.HOURLY, Money(3_000), now, available_at=now),
        Payment("C-1-P2", PaymentKind.BONUS, Money(1_000), now, available_at=now + SECOND),
    ]

    b = Balance.of(payments, Money(withdrawn), now)

    assert (b.available, b.pending, b.overdraft) == (
        Money(available),
        Money(pending),
        Money(overdraft),
    )


@pytest.mark.rule("REF-180-3")
def test_ref_180_3_older_payments_do_not_count_towards_the_cap(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    jan_clock.set(PAID + timedelta(days=100))
    flow.fire(paid, "pay_bonus", OWNER, amount=Money(10_000))
    jan_clock.set(PAID + timedelta(days=190))
    bonus = {"payment": "C-2-P2", "amount": Money(10_000), "balance": Money(10**6)}

    flow.fire(paid, "give_refund", FREELANCER, **bonus)

    assert paid.net_paid == Money(4_000)


@pytest.mark.rule("REF-180-4")
def test_ref_180_4_a_refund_is_immediate_and_cannot_be_undone(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "give_refund", FREELANCER, **refund(1_000))

    assert paid.payments[0].refunded == Money(1_000)
    assert paid.refunds_total == Money(1_000)
    assert not any("unrefund" in event or "reverse" in event for event in flow.spec.events)


@pytest.mark.rule("REF-180-5")
def test_ref_180_5_only_billed_money_is_refunded(flow: ContractLifecycle, paid: Contract) -> None:
    err = refused(
        flow,
        paid,
        "give_refund",
        FREELANCER,
        payment="C-2-P9",
        amount=Money(100),
        balance=Money(100),
    )

    assert err.rule_ids == ("REF-180-5",)
    assert err.reasons == (
        "contract C-2 made no payment 'C-2-P9'; only money already billed can be refunded "
        "(time not invoiced yet is deleted from the work diary instead)",
    )


@pytest.mark.rule("REF-180-6")
def test_ref_180_6_refunds_come_off_the_lifetime_billings(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "give_refund", FREELANCER, **refund(1_000))

    assert paid.lifetime_billings == Money(3_000)


@pytest.mark.rule("REF-180-7")
def test_ref_180_7_a_refund_below_us_1_on_an_ended_contract_makes_it_refunded(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    flow.fire(paid, "give_refund", FREELANCER, **refund(3_900))
    at_one_dollar = paid.state  # US$1.00 left: still shown

    flow.fire(paid, "give_refund", FREELANCER, **refund(1))

    assert (at_one_dollar, paid.state) == (S.ENDED, S.REFUNDED)
    assert not paid.in_work_history
    assert paid.refunded_at == PAID


@pytest.mark.rule("REF-180-7")
def test_ref_180_7_a_running_contract_stays_active_whatever_its_net_pay(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "give_refund", FREELANCER, **refund(4_000))

    assert paid.state is S.ACTIVE


@pytest.mark.rule("REF-180-1", "REF-180-7")
def test_ref_180_1_a_refunded_contract_refunds_the_last_99_cents_within_180_days(
    flow: ContractLifecycle, paid: Contract
) -> None:
    # Net pay US$0.99 after a first refund: the contract is refunded (REF-180-7), and the
    # freelancer may still give back the rest of a payment inside 180 days (REF-180-1).
    flow.fire(paid, "end_contract", OWNER)
    flow.fire(paid, "give_refund", FREELANCER, **refund(3_901))
    assert (paid.state, paid.net_paid) == (S.REFUNDED, Money(99))

    flow.fire(paid, "give_refund", FREELANCER, **refund(99))

    assert paid.state is S.REFUNDED
    assert paid.net_paid == Money(0)
    assert paid.refunds_total == Money(4_000)
    assert paid.payments[0].left == Money(0)
    assert check_contract(paid, paid.history[-1].at) == []


@pytest.mark.rule("REF-180-1", "REF-180-2")
def test_ref_180_1_a_refunded_contract_refunds_no_more_than_is_left(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    flow.fire(paid, "give_refund", FREELANCER, **refund(3_901))

    err = refused(flow, paid, "give_refund", FREELANCER, **refund(100))

    assert err.rule_ids == ("REF-180-2", "REF-180-3")
    assert err.reasons[0] == (
        "US$1.00 is more than the US$0.99 left to refund of the payment of US$40.00 on 2026-01-02"
    )


# --------------------------------------------------------------------------- bonuses


@pytest.mark.rule("PAY-2")
def test_pay_2_a_bonus_lifts_a_refunded_contract_back_to_ended(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    flow.fire(paid, "give_refund", FREELANCER, **refund(4_000))
    refunded = paid.state

    flow.fire(paid, "pay_bonus", HIRING, amount=Money(100))

    assert (refunded, paid.state) == (S.REFUNDED, S.ENDED)
    assert paid.ended_at == PAID  # INV-CTR-1: the end is not moved


@pytest.mark.rule("PAY-2")
def test_pay_2_a_bonus_that_leaves_net_pay_under_us_1_keeps_it_refunded(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    flow.fire(paid, "give_refund", FREELANCER, **refund(4_000))

    flow.fire(paid, "pay_bonus", HIRING, amount=Money(99))

    assert paid.state is S.REFUNDED


@pytest.mark.rule("PAY-2")
def test_pay_2_a_bonus_pays_something(flow: ContractLifecycle, paid: Contract) -> None:
    err = refused(flow, paid, "pay_bonus", OWNER, amount=Money(0))

    assert err.rule_ids == ("PAY-2",)
    assert err.reasons == ("a bonus must be more than US$0.00",)


@pytest.mark.rule("CTR-END-8")
def test_ctr_end_8_a_bonus_365_days_after_the_end_is_paid(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    jan_clock.set(PAID + timedelta(days=365))
    flow.advance(paid)

    flow.fire(paid, "pay_bonus", OWNER, amount=Money(2_000))

    assert paid.payments[-1].amount == Money(2_000)
    assert paid.state is S.ENDED


@pytest.mark.rule("PAY-2")
def test_pay_2_a_bonus_one_second_after_365_days_is_refused(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    jan_clock.set(PAID + timedelta(days=365) + SECOND)
    flow.advance(paid)

    err = refused(flow, paid, "pay_bonus", OWNER, amount=Money(2_000))

    assert err.rule_ids == ("PAY-2",)
    assert err.reasons == (
        "contract C-2 ended on 2026-01-02; bonuses can be paid for 365 days after the end, "
        "until 2027-01-02 09:00:00 UTC",
    )


@pytest.mark.rule("PAY-1")
def test_pay_1_a_bonus_is_available_five_days_after_it_is_paid(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "pay_bonus", OWNER, amount=Money(2_000))

    assert paid.payments[-1].available_at == PAID + timedelta(days=5)


# --------------------------------------------------------------------------- refund requests


@pytest.mark.rule("REF-REQ-1")
def test_ref_req_1_a_request_up_to_180_days_is_handled_in_the_product(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    jan_clock.set(PAID + timedelta(days=180))

    flow.fire(paid, "request_refund", OWNER, payment="C-2-P1", amount=Money(1_000))

    assert paid.refund_requests[0].via_support is False


@pytest.mark.rule("REF-REQ-1")
def test_ref_req_1_a_request_at_181_days_goes_to_support(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    jan_clock.set(PAID + timedelta(days=181))

    flow.fire(paid, "request_refund", OWNER, payment="C-2-P1", amount=Money(1_000))

    assert paid.refund_requests[0].via_support is True


@pytest.mark.rule("REF-REQ-1")
def test_ref_req_1_no_request_after_365_days(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    jan_clock.set(PAID + timedelta(days=365) + SECOND)

    err = refused(flow, paid, "request_refund", OWNER, payment="C-2-P1", amount=Money(1_000))

    assert err.rule_ids == ("REF-REQ-1",)
    assert err.reasons == (
        "the payment of US$40.00 on 2026-01-02 is 366 days old; a refund can be requested for "
        "365 days (through support after 180 days)",
    )


@pytest.mark.rule("REF-REQ-2")
def test_ref_req_2_a_request_names_a_payment_made_on_the_platform(
    flow: ContractLifecycle, paid: Contract
) -> None:
    err = refused(flow, paid, "request_refund", OWNER, payment="cash", amount=Money(1_000))

    assert err.rule_ids == ("REF-REQ-2",)
    assert err.reasons == (
        "contract C-2 made no payment 'cash'; refunds go through the platform, for payments "
        "made on it",
    )


@pytest.mark.rule("REF-REQ-3")
def test_ref_req_3_waiting_for_a_refund_does_not_extend_the_feedback_window(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "request_refund", OWNER, payment="C-2-P1", amount=Money(1_000))
    flow.fire(paid, "end_contract", OWNER)
    jan_clock.set(datetime(2026, 1, 17, tzinfo=UTC))
    flow.advance(paid)

    err = refused(flow, paid, "leave_feedback", FREELANCER)

    assert err.rule_ids == ("REF-REQ-3",)
    assert err.reasons == (
        "the feedback window of contract C-2 closed at 2026-01-17 00:00:00 UTC; waiting for "
        "a refund does not extend it",
    )


# --------------------------------------------------------------------------- feedback


@pytest.mark.rule("CTR-END-6")
def test_ctr_end_6_the_end_opens_feedback_for_both_sides(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "end_contract", FREELANCER)

    flow.fire(paid, "leave_feedback", FREELANCER, text="clear brief")
    flow.fire(paid, "leave_feedback", HIRING, text="on time")

    assert (paid.freelancer_feedback_at, paid.client_feedback_at) == (PAID, PAID)


@pytest.mark.rule("FB-1")
def test_fb_1_feedback_at_the_last_second_of_day_14_is_accepted(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    jan_clock.set(datetime(2026, 1, 16, 23, 59, 59, tzinfo=UTC))
    flow.advance(paid)

    flow.fire(paid, "leave_feedback", FREELANCER)

    assert paid.freelancer_feedback_at == jan_clock.now()


@pytest.mark.rule("FB-1")
def test_fb_1_feedback_at_midnight_after_day_14_is_refused(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    jan_clock.set(datetime(2026, 1, 17, tzinfo=UTC))
    flow.advance(paid)

    err = refused(flow, paid, "leave_feedback", OWNER)

    assert err.rule_ids == ("FB-1",)
    assert err.reasons == (
        "the feedback window of contract C-2 closed at 2026-01-17 00:00:00 UTC, 14 days after "
        "it ended; the other side can allow late feedback",
    )


@pytest.mark.rule("FB-1")
def test_fb_1_each_side_leaves_feedback_once(flow: ContractLifecycle, paid: Contract) -> None:
    flow.fire(paid, "end_contract", OWNER)
    flow.fire(paid, "leave_feedback", OWNER)

    err = refused(flow, paid, "leave_feedback", HIRING)

    assert err.rule_ids == ("FB-1",)
    assert err.reasons == ("the client already left feedback on 2026-01-02 09:00:00 UTC",)


@pytest.mark.rule("FB-2")
def test_fb_2_feedback_stays_hidden_until_both_sides_left_it(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    flow.fire(paid, "leave_feedback", OWNER)
    hidden = paid.feedback_visible

    flow.fire(paid, "leave_feedback", FREELANCER)

    assert (hidden, paid.feedback_visible) == (False, True)


@pytest.mark.rule("FB-2")
def test_fb_2_one_sided_feedback_is_published_when_the_window_closes(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    flow.fire(paid, "leave_feedback", OWNER)

    fired = flow.advance(paid, datetime(2026, 1, 17, tzinfo=UTC))

    assert [d.event for d in fired] == ["close_feedback"]
    assert paid.feedback_published_at == datetime(2026, 1, 17, tzinfo=UTC)


@pytest.mark.rule("FB-3")
def test_fb_3_the_other_side_may_allow_late_feedback_after_the_window(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    jan_clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    flow.advance(paid)

    flow.fire(paid, "allow_late_feedback", OWNER)
    flow.fire(paid, "leave_feedback", FREELANCER)

    assert paid.late_feedback == (Side.FREELANCER,)
    assert paid.feedback_visible


@pytest.mark.rule("FB-3")
def test_fb_3_both_sides_may_let_the_other_leave_late_feedback(
    flow: ContractLifecycle, paid: Contract, jan_clock: ManualClock
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    jan_clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    flow.advance(paid)

    flow.fire(paid, "allow_late_feedback", OWNER)
    flow.fire(paid, "allow_late_feedback", FREELANCER)
    flow.fire(paid, "leave_feedback", FREELANCER)
    flow.fire(paid, "leave_feedback", HIRING)

    assert paid.late_feedback == (Side.FREELANCER, Side.CLIENT)
    assert check_contract(paid, jan_clock.now()) == []


@pytest.mark.rule("FB-3")
def test_fb_3_late_feedback_needs_no_permission_while_the_window_is_open(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "end_contract", OWNER)

    err = refused(flow, paid, "allow_late_feedback", OWNER)

    assert err.rule_ids == ("FB-3",)
    assert err.reasons == (
        "the feedback window of contract C-2 is open until 2026-01-17 00:00:00 UTC; the "
        "freelancer can still leave feedback without permission",
    )


@pytest.mark.rule("FB-4")
def test_fb_4_feedback_of_a_refunded_contract_is_not_shown(
    flow: ContractLifecycle, paid: Contract
) -> None:
    flow.fire(paid, "end_contract", OWNER)
    flow.fire(paid, "leave_feedback", OWNER)
    flow.fire(paid, "leave_feedback", FREELANCER)

    flow.fire(paid, "give_refund", FREELANCER, **refund(4_000))
    hidden = paid.feedback_visible
    flow.fire(paid, "pay_bonus", OWNER, amount=Money(500))

    assert (hidden, paid.feedback_visible) == (False, True)


# --------------------------------------------------------------------------- the end itself


@pytest.mark.rule("CTR-END-9")
def test_ctr_end_9_a_contract_ends_once(flow: ContractLifecycle, paid: Contract) -> None:
    flow.fire(paid, "end_contract", OWNER)
    before = to_dict(paid)

    err = refused(flow, paid, "end_contract", FREELANCER)

    assert err.rule_ids == ("CTR-END-9",)
    assert err.reasons == (
        "contract C-2 ended on 2026-01-02; a contract ends once and is never reopened, so more "
        "work needs a new contract",
    )
    assert to_dict(paid) == before


@pytest.mark.rule("CTR-END-9")
def test_ctr_end_9_an_ended_hourly_contract_is_never_restarted(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "end_contract", OWNER)

    err = refused(lifecycle, hourly, "restart", OWNER)

    assert err.rule_ids == ("CTR-END-9",)


def test_inv_derived_1_a_contract_ended_without_pay_is_refunded(
    lifecycle: ContractLifecycle, fixed: Contract
) -> None:
    lifecycle.fire(fixed, "end_contract", OWNER)

    assert fixed.state is S.REFUNDED
    assert fixed.feedback_withdrawn
    assert check_contract(fixed, at(2, 9)) == []

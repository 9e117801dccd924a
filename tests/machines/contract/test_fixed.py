"""One test per fixed-price contract rule: milestones in escrow, ending, the escrow refund.

Fixtures: ``funded`` has milestone C-2-M1 (US$200.00) funded and C-2-M2 (US$100.00) in
draft; ``submitted`` has C-2-M1 submitted at 2026-03-02 09:00 UTC.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import (
    SYSTEM,
    Contract,
    ContractLifecycle,
    ContractState,
    ManualClock,
    MilestoneState,
    Money,
    NotPermitted,
    to_dict,
)
from statemachines.machines.contract.values import PaymentKind, RefundStatus
from statemachines.machines.invariants import check_contract
from tests.machines.contract.conftest import (
    AGENCY_MEMBER,
    BUSINESS_MANAGER,
    FREELANCER,
    HIRING,
    OWNER,
    SOURCING,
    SUPPORT,
    at,
    fixed_contract,
)
from tests.machines.contract.test_hourly import refused

S = ContractState
M = MilestoneState
FOURTEEN_DAYS = timedelta(days=14)
SEVEN_DAYS = timedelta(days=7)


def holds(c: Contract, cents: int) -> None:
    """The contract holds *cents* in escrow and its books balance (INV-MONEY-1)."""
    assert c.escrow_held == Money(cents)
    assert check_contract(c, c.history[-1].at) == []


# --------------------------------------------------------------------------- milestones


@pytest.mark.rule("MS-1")
def test_ms_1_a_milestone_under_us_5_is_refused(
    lifecycle: ContractLifecycle, fixed: Contract
) -> None:
    err = refused(lifecycle, fixed, "add_milestone", OWNER, amount=Money(499))

    assert err.rule_ids == ("MS-1",)
    assert err.reasons == ("a milestone must be at least US$5.00, not US$4.99",)


@pytest.mark.rule("MS-1")
def test_ms_1_a_milestone_of_us_5_is_accepted(
    lifecycle: ContractLifecycle, fixed: Contract
) -> None:
    lifecycle.fire(fixed, "add_milestone", OWNER, amount=Money(500))
    lifecycle.fire(fixed, "fund_milestone", OWNER)

    assert fixed.milestones[0].state is M.FUNDED
    holds(fixed, 500)


@pytest.mark.rule("MS-2")
def test_ms_2_one_milestone_at_a_time(lifecycle: ContractLifecycle, funded: Contract) -> None:
    err = refused(lifecycle, funded, "fund_milestone", HIRING)

    assert err.rule_ids == ("MS-2",)
    assert err.reasons == (
        "milestone C-2-M1 is still funded; it must be paid before the next milestone is funded",
    )


@pytest.mark.rule("MS-2")
def test_ms_2_funding_needs_a_milestone_waiting(
    lifecycle: ContractLifecycle, fixed: Contract
) -> None:
    err = refused(lifecycle, fixed, "fund_milestone", OWNER)

    assert err.rule_ids == ("MS-2",)
    assert err.reasons == ("contract C-2 has no milestone waiting to be funded; add one first",)


@pytest.mark.rule("MS-2")
def test_ms_2_a_partial_release_leaves_the_rest_to_fund_the_next_milestone(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "approve_milestone", OWNER, amount=Money(15_000))
    holds(submitted, 5_000)

    lifecycle.fire(submitted, "fund_milestone", OWNER)

    assert submitted.unallocated == Money(0)
    assert submitted.escrow_charged == Money(25_000)  # 200 + (100 - 50 left over)
    assert submitted.milestones[1].funded == Money(10_000)
    holds(submitted, 10_000)


@pytest.mark.rule("MS-4")
def test_ms_4_work_is_submitted_on_a_funded_milestone(
    lifecycle: ContractLifecycle, fixed: Contract
) -> None:
    lifecycle.fire(fixed, "add_milestone", OWNER, amount=Money(1_000))

    err = refused(lifecycle, fixed, "submit_work", FREELANCER)

    assert err.rule_ids == ("MS-4",)
    assert err.reasons == (
        "contract C-2 has no funded milestone; the client funds one before work is submitted",
    )


@pytest.mark.rule("MS-REVIEW-2")
def test_ms_review_2_the_review_has_not_lapsed_one_second_early(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    fired = lifecycle.advance(submitted, at(2, 9) + FOURTEEN_DAYS - timedelta(seconds=1))

    assert fired == []
    assert submitted.milestones[0].state is M.SUBMITTED


@pytest.mark.rule("MS-REVIEW-2")
def test_ms_review_2_the_lapse_pays_the_milestone_in_full(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    fired = lifecycle.advance(submitted, at(2, 9) + FOURTEEN_DAYS)

    assert [(d.event, d.at) for d in fired] == [
        ("milestone_review_lapse", at(2, 9) + FOURTEEN_DAYS)
    ]
    ms = submitted.milestones[0]
    assert (ms.state, ms.auto_approved, ms.released) == (M.APPROVED, True, Money(20_000))
    assert submitted.payments[0].amount == Money(20_000)
    holds(submitted, 0)


@pytest.mark.rule("MS-REVIEW-3")
def test_ms_review_3_asking_for_changes_stops_the_clock(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "request_changes", HIRING, message="more contrast")

    fired = lifecycle.advance(submitted, at(30))

    assert fired == []
    assert submitted.milestones[0].state is M.CHANGES_REQUESTED
    assert submitted.deadlines == ()


@pytest.mark.rule("MS-REVIEW-4")
def test_ms_review_4_a_resubmission_gets_a_fresh_14_days(
    lifecycle: ContractLifecycle, submitted: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(submitted, "request_changes", HIRING)
    clock.set(at(10))
    lifecycle.fire(submitted, "submit_work", FREELANCER)

    assert submitted.milestones[0].state is M.RESUBMITTED
    assert submitted.deadlines[0].due == at(24)


@pytest.mark.rule("MS-REVIEW-1")
def test_ms_review_1_approval_needs_a_submission(
    lifecycle: ContractLifecycle, funded: Contract
) -> None:
    err = refused(lifecycle, funded, "approve_milestone", OWNER)

    assert err.rule_ids == ("MS-REVIEW-1",)
    assert err.reasons == (
        "no milestone of contract C-2 is waiting for review (milestone C-2-M1 is funded)",
    )


@pytest.mark.rule("MS-REVIEW-6")
def test_ms_review_6_the_client_releases_without_a_submission(
    lifecycle: ContractLifecycle, funded: Contract
) -> None:
    lifecycle.fire(funded, "release_milestone", OWNER)

    assert funded.milestones[0].state is M.APPROVED
    assert funded.payments[0].kind is PaymentKind.MILESTONE
    holds(funded, 0)


@pytest.mark.rule("CTR-END-10")
def test_ctr_end_10_paying_the_last_milestone_suggests_ending(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "approve_milestone", OWNER)
    after_first = submitted.end_suggested

    lifecycle.fire(submitted, "fund_milestone", OWNER)
    lifecycle.fire(submitted, "release_milestone", OWNER)

    assert (after_first, submitted.end_suggested) == (False, True)
    assert submitted.state is S.ACTIVE


# --------------------------------------------------------------------------- ending


@pytest.mark.rule("CTR-GEN-1")
def test_ctr_gen_1_either_side_may_end_at_any_time(lifecycle: ContractLifecycle) -> None:
    by_client, by_agency = fixed_contract(), fixed_contract(agency=True)

    lifecycle.fire(by_client, "end_contract", HIRING)
    lifecycle.fire(by_agency, "end_contract", BUSINESS_MANAGER)

    assert by_client.ended_at == by_agency.ended_at == at(2, 9)


@pytest.mark.rule("CTR-GEN-1")
def test_ctr_gen_1_a_sourcing_member_or_an_agency_member_may_not_end(
    lifecycle: ContractLifecycle,
) -> None:
    c = fixed_contract(agency=True)

    with pytest.raises(NotPermitted) as sourcing:
        lifecycle.fire(c, "end_contract", SOURCING)
    with pytest.raises(NotPermitted) as member:
        lifecycle.fire(c, "end_contract", AGENCY_MEMBER)

    # TEAM-5 and TEAM-8 say which of the client's and the agency's people end contracts
    assert sourcing.value.rule_ids == ("TEAM-5",)
    assert sourcing.value.reasons == (
        "a sourcing member cannot do this on contract C-2; only the client company's owner, "
        "admins or hiring managers, or the agency's owner or business managers can",
    )
    assert member.value.rule_ids == ("TEAM-8",)


@pytest.mark.rule("CTR-END-4")
def test_ctr_end_4_the_freelancer_ending_returns_every_held_dollar_at_once(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", FREELANCER)

    assert submitted.escrow_returned == Money(20_000)
    assert submitted.escrow_refund is None
    assert [m.state for m in submitted.milestones] == [M.CANCELLED, M.CANCELLED]
    assert [d.event for d in submitted.deadlines] == ["close_feedback"]
    assert submitted.state is S.REFUNDED  # nothing was ever paid
    holds(submitted, 0)


@pytest.mark.rule("CTR-END-4")
def test_ctr_end_4_earlier_payments_stay_with_the_freelancer(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "approve_milestone", OWNER, amount=Money(15_000))

    lifecycle.fire(submitted, "end_contract", FREELANCER)

    assert submitted.escrow_returned == Money(5_000)
    assert submitted.net_paid == Money(15_000)
    assert submitted.state is S.ENDED


@pytest.mark.rule("CTR-END-5")
def test_ctr_end_5_the_client_pays_the_whole_remainder_by_default(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER)

    assert submitted.state is S.ENDED
    assert submitted.payments[0].kind is PaymentKind.FINAL
    assert submitted.net_paid == Money(20_000)
    holds(submitted, 0)


@pytest.mark.rule("CTR-END-5")
def test_ctr_end_5_the_client_may_pay_more_than_is_held(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(25_000))

    assert submitted.escrow_charged == Money(25_000)
    assert submitted.escrow_released == Money(25_000)
    holds(submitted, 0)


@pytest.mark.rule("CTR-END-5")
def test_ctr_end_5_only_the_client_chooses_a_final_payment(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    err = refused(lifecycle, submitted, "end_contract", FREELANCER, payment=Money(100))

    assert err.rule_ids == ("CTR-END-5",)
    assert err.reasons == (
        "a final payment is chosen only by a client ending a fixed-price contract; pay a bonus "
        "instead",
    )


@pytest.mark.rule("BILL-6")
def test_bill_6_a_final_payment_is_available_five_days_later(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER)

    assert submitted.payments[0].available_at == at(7, 9)


@pytest.mark.rule("MS-END-D")
def test_ms_end_d_an_unpaid_milestone_is_cancelled_and_hands_back_its_money(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(0))

    ms = submitted.milestones[0]
    assert (ms.state, ms.returned, ms.held) == (M.CANCELLED, Money(20_000), Money(0))
    assert submitted.unallocated == Money(20_000)  # waiting for the escrow-refund request
    assert ms.history[-1].event == "cancel"


# --------------------------------------------------------------------------- the escrow refund


@pytest.mark.rule("ESC-1")
def test_esc_1_paying_less_than_is_held_asks_for_the_rest_back(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(5_000))

    err = submitted.escrow_refund
    assert submitted.state is S.ENDING
    assert err is not None
    assert (err.amount, err.status, err.due) == (Money(15_000), RefundStatus.PENDING, at(9, 9))
    holds(submitted, 15_000)


@pytest.mark.rule("ESC-1")
def test_esc_1_without_a_request_there_is_nothing_to_approve(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=60)
    lifecycle.fire(hourly, "end_contract", OWNER)

    err = refused(lifecycle, hourly, "approve_refund", FREELANCER)

    assert err.rule_ids == ("ESC-1",)
    assert err.reasons == ("contract C-1 has no escrow-refund request",)


@pytest.mark.rule("ESC-2")
def test_esc_2_the_freelancer_answers_until_the_last_second_of_day_7(
    lifecycle: ContractLifecycle, submitted: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(0))
    clock.set(at(9, 8, 59, 59))

    lifecycle.fire(submitted, "approve_refund", FREELANCER)

    assert submitted.escrow_refund is not None
    assert submitted.escrow_refund.status is RefundStatus.APPROVED


@pytest.mark.rule("ESC-2")
def test_esc_2_after_7_days_only_silence_answers(
    lifecycle: ContractLifecycle, submitted: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(0))
    clock.set(at(9, 9))

    err = refused(lifecycle, submitted, "approve_refund", FREELANCER)

    assert err.rule_ids == ("ESC-2",)
    assert err.reasons == (
        "the escrow-refund request of US$200.00 opened 2026-03-02 09:00:00 UTC is answered: "
        "the 7 days to answer it ended at 2026-03-09 09:00:00 UTC; silence approved it",
    )


@pytest.mark.rule("ESC-3")
def test_esc_3_silence_for_7_days_returns_the_money_to_the_client(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(5_000))

    fired = lifecycle.advance(submitted, at(2, 9) + SEVEN_DAYS)

    assert [d.event for d in fired] == ["refund_request_lapse"]
    assert submitted.escrow_refund is not None
    assert submitted.escrow_refund.status is RefundStatus.AUTO_APPROVED
    assert submitted.escrow_returned == Money(15_000)
    assert submitted.state is S.ENDED
    holds(submitted, 0)


@pytest.mark.rule("ESC-3")
def test_esc_3_approval_returns_the_money_and_settles_the_contract(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(0))

    lifecycle.fire(submitted, "approve_refund", FREELANCER)

    assert submitted.escrow_returned == Money(20_000)
    assert submitted.state is S.REFUNDED  # nothing was paid: REF-180-7
    assert submitted.deadlines[0].event == "close_feedback"


@pytest.mark.rule("ESC-4")
def test_esc_4_a_dispute_needs_the_freelancers_feedback_first(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(0))

    err = refused(lifecycle, submitted, "dispute_refund", FREELANCER)

    assert err.rule_ids == ("ESC-4",)
    assert err.reasons == (
        "leave feedback for the client of contract C-2 first; a dispute of the escrow refund "
        "can be opened only after that",
    )


@pytest.mark.rule("ESC-4")
def test_esc_4_a_disputed_request_waits_for_support(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(0))
    lifecycle.fire(submitted, "leave_feedback", FREELANCER, text="paid nothing for good work")

    lifecycle.fire(submitted, "dispute_refund", FREELANCER)
    fired = lifecycle.advance(submitted, at(12))

    assert submitted.escrow_refund is not None
    assert submitted.escrow_refund.status is RefundStatus.DISPUTED
    assert fired == []
    assert submitted.state is S.ENDING


@pytest.mark.rule("ESC-SPLIT-D")
def test_esc_split_d_support_splits_the_held_amount(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(0))
    lifecycle.fire(submitted, "leave_feedback", FREELANCER)
    lifecycle.fire(submitted, "dispute_refund", FREELANCER)

    lifecycle.fire(
        submitted, "resolve_dispute", SUPPORT, to_freelancer=Money(12_000), to_client=Money(8_000)
    )

    assert submitted.state is S.ENDED
    assert (submitted.escrow_released, submitted.escrow_returned) == (Money(12_000), Money(8_000))
    assert submitted.payments[-1].kind is PaymentKind.SETTLEMENT
    assert submitted.payments[-1].available_at == at(7, 9)  # PAY-1
    holds(submitted, 0)


@pytest.mark.rule("ESC-SPLIT-D")
def test_esc_split_d_the_shares_must_add_up_to_the_cent(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(0))
    lifecycle.fire(submitted, "leave_feedback", FREELANCER)
    lifecycle.fire(submitted, "dispute_refund", FREELANCER)

    err = refused(
        lifecycle,
        submitted,
        "resolve_dispute",
        SUPPORT,
        to_freelancer=Money(12_000),
        to_client=Money(7_999),
    )

    assert err.rule_ids == ("ESC-SPLIT-D",)
    assert err.reasons == (
        "US$120.00 to the freelancer and US$79.99 to the client make US$199.99, but US$200.00 "
        "is in dispute",
    )


@pytest.mark.rule("ESC-5", "ESC-SPLIT-D")
def test_esc_5_released_earnings_are_not_part_of_the_request(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(5_000))
    lifecycle.fire(submitted, "leave_feedback", FREELANCER)
    lifecycle.fire(submitted, "dispute_refund", FREELANCER)

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
        "only the US$150.00 still held can go back to the client, not US$200.00; released "
        "earnings are not part of the request"
    )


@pytest.mark.rule("ESC-2", "ESC-3")
def test_esc_2_only_the_platform_fires_the_lapse(
    lifecycle: ContractLifecycle, submitted: Contract
) -> None:
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(0))
    before = to_dict(submitted)

    with pytest.raises(NotPermitted):
        lifecycle.fire(submitted, "refund_request_lapse", OWNER)
    err = refused(lifecycle, submitted, "refund_request_lapse", SYSTEM)

    assert err.rule_ids == ("ESC-3",)
    assert to_dict(submitted) == before

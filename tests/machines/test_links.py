"""The machines around a contract, started from it and acting on it both or neither."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import (
    Contract,
    ContractLifecycle,
    ContractState,
    InvalidInput,
    ManualClock,
    Money,
    TransitionRefused,
    to_dict,
)
from statemachines.machines.contract.values import RefundStatus
from statemachines.machines.fixed_dispute import FixedDisputes, FixedDisputeState, Resolution
from statemachines.machines.hourly_dispute import HourlyDisputes
from statemachines.machines.links import (
    dispute_escrow_refund,
    dormancy_report,
    escrow_dispute_for,
    grant_refund,
    hourly_dispute_for,
    milestone_dispute_for,
    refund_request_for,
    settle_escrow_dispute,
)
from statemachines.machines.refund_request import RefundRequests, RefundRequestState
from tests.machines.contract.conftest import (
    FREELANCER,
    MONDAY,
    OWNER,
    SUPPORT,
    fixed_contract,
    hourly_contract,
)

DAY = timedelta(days=1)


@pytest.fixture
def contracts(clock: ManualClock) -> ContractLifecycle:
    return ContractLifecycle(clock=clock)


def _paid_fixed(contracts: ContractLifecycle) -> Contract:
    c = fixed_contract()
    contracts.fire(c, "add_milestone", OWNER, amount=Money(30_000))
    contracts.fire(c, "fund_milestone", OWNER)
    contracts.fire(c, "submit_work", FREELANCER)
    contracts.fire(c, "approve_milestone", OWNER)
    return c


def _ending_with_request(contracts: ContractLifecycle) -> Contract:
    c = fixed_contract()
    contracts.fire(c, "add_milestone", OWNER, amount=Money(30_000))
    contracts.fire(c, "fund_milestone", OWNER)
    contracts.fire(c, "submit_work", FREELANCER)
    contracts.fire(c, "end_contract", OWNER, payment=Money(10_000))
    return c


@pytest.mark.rule("REF-REQ-1", "REF-180-3")
def test_a_refund_request_is_granted_through_the_contracts_own_refund(
    contracts: ContractLifecycle, clock: ManualClock
) -> None:
    c = _paid_fixed(contracts)
    requests = RefundRequests(clock=clock)
    r = refund_request_for(c, c.payments[0].id, "R-1")
    requests.fire(r, "request", OWNER, amount=Money(5_000))

    grant_refund(requests, contracts, r, c, FREELANCER, amount=Money(5_000), balance=Money(30_000))

    assert r.state is RefundRequestState.GRANTED_FULL
    assert c.payments[0].refunded == Money(5_000)
    assert c.refunds_total == Money(5_000)


@pytest.mark.rule("REF-180-2")
def test_when_the_contract_refuses_the_refund_the_request_is_untouched(
    contracts: ContractLifecycle, clock: ManualClock
) -> None:
    c = _paid_fixed(contracts)
    requests = RefundRequests(clock=clock)
    r = refund_request_for(c, c.payments[0].id, "R-1")
    requests.fire(r, "request", OWNER, amount=Money(5_000))
    contracts.fire(
        c,
        "give_refund",
        FREELANCER,
        payment=c.payments[0].id,
        amount=Money(27_000),
        balance=Money(30_000),
    )
    before_r, before_c = to_dict(r), to_dict(c)

    with pytest.raises(TransitionRefused) as err:
        grant_refund(
            requests, contracts, r, c, FREELANCER, amount=Money(5_000), balance=Money(30_000)
        )

    assert err.value.machine == "contract"
    assert "REF-180-2" in err.value.rule_ids
    assert (to_dict(r), to_dict(c)) == (before_r, before_c)


@pytest.mark.rule("ESC-4", "FPD-1", "FPD-3", "ESC-SPLIT-D")
def test_a_disputed_escrow_refund_is_settled_by_the_fixed_price_dispute(
    contracts: ContractLifecycle, clock: ManualClock
) -> None:
    c = _ending_with_request(contracts)
    disputes = FixedDisputes(clock=clock)
    contracts.fire(c, "leave_feedback", FREELANCER, text="unclear brief")

    _, d = dispute_escrow_refund(contracts, disputes, c, FREELANCER, "FD-1")

    assert c.escrow_refund is not None
    assert c.escrow_refund.status is RefundStatus.DISPUTED
    assert d.state is FixedDisputeState.AWAITING_CLIENT
    assert d.amount == Money(20_000)
    disputes.advance(d, d.respond_by)
    assert d.resolution is Resolution.CLIENT_SILENT

    settle_escrow_dispute(contracts, c, d)

    assert c.state is ContractState.ENDED
    assert c.escrow_released == Money(30_000)
    assert c.escrow_held == Money(0)


@pytest.mark.rule("FB-6", "ESC-4")
def test_without_feedback_neither_the_contract_nor_a_dispute_changes(
    contracts: ContractLifecycle, clock: ManualClock
) -> None:
    c = _ending_with_request(contracts)
    before = to_dict(c)

    with pytest.raises(TransitionRefused) as err:
        dispute_escrow_refund(contracts, FixedDisputes(clock=clock), c, FREELANCER, "FD-1")

    assert err.value.rule_ids == ("ESC-4",)
    assert to_dict(c) == before


@pytest.mark.rule("FPD-5", "FPD-6", "ESC-5")
def test_an_award_is_paid_out_as_the_arbitrator_split_it(
    contracts: ContractLifecycle, clock: ManualClock
) -> None:
    c = _ending_with_request(contracts)
    disputes = FixedDisputes(clock=clock)
    contracts.fire(c, "leave_feedback", FREELANCER)
    _, d = dispute_escrow_refund(contracts, disputes, c, FREELANCER, "FD-1")
    disputes.fire(d, "decline", OWNER, reason="never delivered", evidence="chat log")
    disputes.advance(d, clock.now() + 30 * DAY)
    clock.advance(days=31)
    disputes.fire(d, "pay_fee", OWNER)
    disputes.fire(d, "pay_fee", FREELANCER)
    disputes.fire(d, "award", SUPPORT, to_freelancer=Money(5_000), to_client=Money(15_000))

    settle_escrow_dispute(contracts, c, d)

    assert (c.escrow_released, c.escrow_returned) == (Money(15_000), Money(15_000))
    assert c.state is ContractState.ENDED


def test_an_unsettled_dispute_cannot_settle_the_contract(
    contracts: ContractLifecycle, clock: ManualClock
) -> None:
    c = _ending_with_request(contracts)

    with pytest.raises(InvalidInput, match="has not settled held money"):
        settle_escrow_dispute(contracts, c, escrow_dispute_for(c, "FD-1"))


@pytest.mark.rule("HDSP-1", "BILL-3")
def test_an_hourly_dispute_starts_from_the_invoiced_week(
    contracts: ContractLifecycle, clock: ManualClock
) -> None:
    c = hourly_contract(limit=None)
    contracts.fire(c, "log_time", FREELANCER, minutes=300)
    clock.set(MONDAY + 7 * DAY + timedelta(hours=13))
    contracts.advance(c)

    d = hourly_dispute_for(c, MONDAY, "HD-1")
    HourlyDisputes(clock=clock).fire(d, "file", OWNER, minutes=300)

    assert (d.billed, d.rate, d.disputed_amount) == (300, c.rate, c.payments[0].amount)
    with pytest.raises(InvalidInput, match="no invoice for week 2026-03-09"):
        hourly_dispute_for(c, MONDAY + 7 * DAY, "HD-2")


@pytest.mark.rule("MS-DSP-1")
def test_a_milestone_dispute_starts_from_the_milestone(
    contracts: ContractLifecycle, clock: ManualClock
) -> None:
    c = fixed_contract()
    contracts.fire(c, "add_milestone", OWNER, amount=Money(30_000))
    contracts.fire(c, "fund_milestone", OWNER)
    contracts.fire(c, "submit_work", FREELANCER)

    d = milestone_dispute_for(c, c.milestones[0].id, "FD-2")
    FixedDisputes(clock=clock).fire(d, "file", SUPPORT)

    assert (d.amount, d.milestone_state) == (Money(30_000), "submitted")
    with pytest.raises(InvalidInput, match="no milestone 'C-2-M9'"):
        milestone_dispute_for(c, "C-2-M9", "FD-3")


@pytest.mark.rule("DORM-1")
def test_the_dormancy_report_carries_what_the_contract_holds(
    contracts: ContractLifecycle,
) -> None:
    c = fixed_contract()
    contracts.fire(c, "add_milestone", OWNER, amount=Money(30_000))
    contracts.fire(c, "fund_milestone", OWNER)

    assert dormancy_report(c, added=True) == {"held": Money(30_000), "added": True, "due": None}


@pytest.mark.rule("DORM-1")
def test_dorm_1_the_report_carries_the_latest_due_date_of_an_open_milestone(
    contracts: ContractLifecycle,
) -> None:
    c = fixed_contract()
    first, second = (c.started_at + timedelta(days=n) for n in (30, 60))
    contracts.fire(c, "add_milestone", OWNER, amount=Money(30_000), due=first)
    contracts.fire(c, "add_milestone", OWNER, amount=Money(5_000), due=second)
    contracts.fire(c, "add_milestone", OWNER, amount=Money(5_000))
    assert dormancy_report(c)["due"] == second

    contracts.fire(c, "delete_milestone", OWNER, milestone="C-2-M2")

    assert dormancy_report(c)["due"] == first
    contracts.fire(c, "fund_milestone", OWNER)
    contracts.fire(c, "release_milestone", OWNER)
    assert dormancy_report(c) == {"held": Money(0), "added": False, "due": None}

"""A dormancy watch acting on its contract in the marketplace, on every store (DORM-1):
milestone due dates keep it from going dormant early, and the client's release or taking
back of a dormant contract's money acts on the contract, or nothing happens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import (
    Contract,
    ContractState,
    ManualClock,
    Money,
    TransitionRefused,
    to_dict,
)
from statemachines.machines.account.table import Account, AccountType
from statemachines.machines.contract.values import RefundStatus
from statemachines.machines.links import milestone_due_dates
from statemachines.machines.milestone import MilestoneState
from statemachines.marketplace.commands import Fire, OpenCase
from statemachines.marketplace.market import Marketplace
from statemachines.testing.cast import ANA as OWNER
from statemachines.testing.cast import FL as FREELANCER
from statemachines.testing.cast import SUP as SUPPORT
from tests.marketplace.conftest import MakeMarket

DAY = timedelta(days=1)


def _watched(make_market: MakeMarket, clock: ManualClock, *, submit: bool = False) -> Marketplace:
    """C-1 with milestone M1 (US$300.00) funded, watched by DW-1 from now."""
    market = make_market(clock)
    market.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    market.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    market.add_contract(
        Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=clock.now())
    )
    market.handle(OpenCase("dormancy", "C-1", "DW-1")).result()
    market.fire("contract", "C-1", "add_milestone", OWNER, amount=Money(30_000))
    market.fire("contract", "C-1", "fund_milestone", OWNER)
    if submit:
        market.fire("contract", "C-1", "submit_work", FREELANCER)
    return market


def _dormant(market: Marketplace, clock: ManualClock) -> None:
    clock.set(market.get("dormancy", "DW-1").dormant_at)
    market.advance()
    assert market.get("dormancy", "DW-1").state.value == "client_window"


@pytest.mark.rule("DORM-1")
def test_dorm_1_a_milestone_due_later_keeps_the_contract_from_going_dormant_before_then(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _watched(make_market, clock)
    due = clock.now() + 120 * DAY

    market.fire("contract", "C-1", "add_milestone", OWNER, amount=Money(5_000), due=due)

    contract = market.get("contract", "C-1")
    assert milestone_due_dates(contract) == {"C-1-M2": due}
    watch = market.get("dormancy", "DW-1")
    assert (watch.latest_due, watch.dormant_at) == (due, due + 90 * DAY)
    market.fire("contract", "C-1", "delete_milestone", OWNER, milestone="C-1-M2")
    assert market.get("dormancy", "DW-1").latest_due == due  # a later due date is kept


@pytest.mark.rule("DORM-1", "MS-REVIEW-6")
def test_dorm_1_the_client_releasing_a_dormant_contracts_money_releases_its_milestone(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _watched(make_market, clock)
    _dormant(market, clock)

    market.fire("dormancy", "DW-1", "release_funds", OWNER)

    contract = market.get("contract", "C-1")
    assert (contract.milestones[0].state, contract.escrow_released) == (
        MilestoneState.APPROVED,
        Money(30_000),
    )
    assert market.get("dormancy", "DW-1").state.value == "settled"


@pytest.mark.rule("DORM-1", "MS-REVIEW-6")
def test_dorm_1_approving_the_freelancers_request_releases_the_milestone(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _watched(make_market, clock)
    _dormant(market, clock)
    clock.advance(days=7)
    market.advance()
    market.fire("dormancy", "DW-1", "request_release", FREELANCER)

    market.fire("dormancy", "DW-1", "approve_release", OWNER)

    contract = market.get("contract", "C-1")
    assert (contract.milestones[0].state, contract.escrow_released) == (
        MilestoneState.APPROVED,
        Money(30_000),
    )
    assert market.get("dormancy", "DW-1").state.value == "released"


@pytest.mark.rule("DORM-1", "ESC-1")
def test_dorm_1_taking_the_money_back_ends_the_contract_with_an_escrow_refund_request(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _watched(make_market, clock)
    _dormant(market, clock)

    market.fire("dormancy", "DW-1", "take_back_funds", OWNER)

    contract = market.get("contract", "C-1")
    assert contract.state is ContractState.ENDING
    assert contract.escrow_refund is not None
    assert (contract.escrow_refund.amount, contract.escrow_refund.status) == (
        Money(30_000),
        RefundStatus.PENDING,
    )


@pytest.mark.rule("DORM-1", "MS-REVIEW-1")
def test_dorm_1_a_release_the_contract_refuses_changes_nothing(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    # Changes were asked for: nothing is waiting for review, so nothing can be approved, and
    # a milestone sent back is not released without a submission (a gap: ADR 0075).
    market = _watched(make_market, clock, submit=True)
    market.fire("contract", "C-1", "request_changes", OWNER)
    _dormant(market, clock)
    before = (to_dict(market.get("contract", "C-1")), to_dict(market.get("dormancy", "DW-1")))

    outcome = market.handle(Fire("dormancy", "DW-1", "release_funds", OWNER, {}))

    assert isinstance(outcome.error, TransitionRefused)
    assert outcome.error.rule_ids == ("MS-REVIEW-1",)
    after = (to_dict(market.get("contract", "C-1")), to_dict(market.get("dormancy", "DW-1")))
    assert after == before


def _release_requested(make_market: MakeMarket, clock: ManualClock) -> Marketplace:
    market = _watched(make_market, clock)
    _dormant(market, clock)
    clock.advance(days=7)
    market.advance()
    market.fire("dormancy", "DW-1", "request_release", FREELANCER)
    return market


@pytest.mark.rule("DORM-1")
def test_dorm_1_the_clients_silence_on_the_request_releases_the_milestone(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _release_requested(make_market, clock)

    clock.advance(days=14)
    market.advance()

    assert market.get("dormancy", "DW-1").state.value == "released"
    contract = market.get("contract", "C-1")
    assert (contract.milestones[0].state, contract.escrow_released) == (
        MilestoneState.APPROVED,
        Money(30_000),
    )


@pytest.mark.rule("DORM-1", "FPD-5")
def test_dorm_1_a_disputed_release_is_mediated_and_its_shares_paid(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _release_requested(make_market, clock)

    market.fire("dormancy", "DW-1", "dispute_release", OWNER)

    dispute = market.get("fixed_dispute", "DW-1-mediation")
    assert (dispute.state.value, dispute.amount) == ("mediation", Money(30_000))
    market.fire(
        "fixed_dispute",
        "DW-1-mediation",
        "settle",
        SUPPORT,
        to_freelancer=Money(21_000),
        to_client=Money(9_000),
    )
    contract = market.get("contract", "C-1")
    assert (contract.escrow_released, contract.unallocated) == (Money(21_000), Money(9_000))

"""The cases around a contract in the marketplace, on every store: each case and its contract
change together or not at all, and the outbox tells the same story as the aggregates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import (
    SYSTEM,
    ContractState,
    InvalidInput,
    ManualClock,
    Money,
    TransitionRefused,
    to_dict,
)
from statemachines.machines.account.table import AccountState
from statemachines.machines.contract.values import RefundStatus, Side
from statemachines.marketplace.audit import history_problems
from statemachines.marketplace.commands import DisputeEscrowRefund, Fire, OpenCase
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.model import CASES
from statemachines.testing.cast import ANA as OWNER
from statemachines.testing.cast import FL as FREELANCER
from statemachines.testing.cast import SUP as SUPPORT
from tests.marketplace.conftest import MakeMarket, work_submitted

DAY = timedelta(days=1)


def _cases_agree(market: Marketplace) -> None:
    problems = [
        p
        for kind in CASES
        for agg in market.all(kind)
        for p in history_problems(market, kind, agg.id)
    ]
    assert problems == []


@pytest.mark.rule("REF-REQ-1", "REF-180-4")
def test_a_granted_refund_request_refunds_the_contracts_payment(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = work_submitted(make_market(clock))
    market.fire("contract", "C-1", "approve_milestone", OWNER)
    market.handle(OpenCase("refund_request", "C-1", "R-1", payment="C-1-P1")).result()
    market.fire("refund_request", "R-1", "request", OWNER, amount=Money(10_000))

    outcome = market.handle(
        Fire(
            "refund_request",
            "R-1",
            "give_refund",
            FREELANCER,
            {"amount": Money(4_000), "balance": Money(30_000)},
        )
    )

    assert [(ch.kind, ch.decision.event) for ch in outcome.changes] == [
        ("refund_request", "give_refund"),
        ("contract", "give_refund"),
    ]
    contract = market.get("contract", "C-1")
    assert contract.payments[0].refunded == Money(4_000)
    assert market.get("refund_request", "R-1").state.value == "granted_partial"
    _cases_agree(market)


@pytest.mark.rule("REF-180-3")
def test_a_grant_the_contract_refuses_changes_neither(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = work_submitted(make_market(clock))
    market.fire("contract", "C-1", "approve_milestone", OWNER)
    market.handle(OpenCase("refund_request", "C-1", "R-1", payment="C-1-P1")).result()
    market.fire("refund_request", "R-1", "request", OWNER, amount=Money(10_000))
    market.fire(
        "contract",
        "C-1",
        "give_refund",
        FREELANCER,
        payment="C-1-P1",
        amount=Money(25_000),
        balance=Money(30_000),
    )
    before = (to_dict(market.get("refund_request", "R-1")), to_dict(market.get("contract", "C-1")))

    with pytest.raises(TransitionRefused) as err:
        market.fire(
            "refund_request",
            "R-1",
            "give_refund",
            FREELANCER,
            amount=Money(10_000),
            balance=Money(30_000),
        )

    assert err.value.machine == "contract"
    after = (to_dict(market.get("refund_request", "R-1")), to_dict(market.get("contract", "C-1")))
    assert after == before


@pytest.mark.rule("ESC-4", "FPD-1", "FPD-3", "FPD-4")
def test_a_disputed_escrow_refund_is_settled_by_the_fixed_price_dispute(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = work_submitted(make_market(clock))
    market.fire("contract", "C-1", "end_contract", OWNER, payment=Money(10_000))
    market.fire("contract", "C-1", "leave_feedback", FREELANCER, text="slow answers")

    market.handle(DisputeEscrowRefund("C-1", "FD-1", FREELANCER)).result()

    contract = market.get("contract", "C-1")
    assert contract.escrow_refund.status is RefundStatus.DISPUTED
    assert market.get("fixed_dispute", "FD-1").state.value == "awaiting_client"

    market.fire("fixed_dispute", "FD-1", "accept", OWNER)

    contract = market.get("contract", "C-1")
    assert contract.state is ContractState.ENDED
    assert (contract.escrow_released, contract.escrow_returned) == (Money(30_000), Money(0))
    _cases_agree(market)


@pytest.mark.rule("FB-6", "ESC-4")
def test_without_feedback_the_escrow_dispute_changes_nothing(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = work_submitted(make_market(clock))
    market.fire("contract", "C-1", "end_contract", OWNER, payment=Money(10_000))
    before = to_dict(market.get("contract", "C-1"))

    outcome = market.handle(DisputeEscrowRefund("C-1", "FD-1", FREELANCER))

    assert isinstance(outcome.error, TransitionRefused)
    assert to_dict(market.get("contract", "C-1")) == before
    assert market.all("fixed_dispute") == []


@pytest.mark.rule("FPD-8", "SUSP-2")
def test_an_award_not_complied_with_suspends_the_account(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = work_submitted(make_market(clock))
    market.fire("contract", "C-1", "end_contract", OWNER, payment=Money(0))
    market.fire("contract", "C-1", "leave_feedback", FREELANCER)
    market.handle(DisputeEscrowRefund("C-1", "FD-1", FREELANCER)).result()
    market.fire("fixed_dispute", "FD-1", "decline", OWNER, reason="not done", evidence="log")
    clock.advance(days=31)
    market.advance()
    market.fire("fixed_dispute", "FD-1", "pay_fee", OWNER)
    market.fire("fixed_dispute", "FD-1", "pay_fee", FREELANCER)
    market.fire(
        "fixed_dispute",
        "FD-1",
        "award",
        SUPPORT,
        to_freelancer=Money(20_000),
        to_client=Money(10_000),
    )
    assert market.get("contract", "C-1").escrow_released == Money(20_000)

    market.fire("fixed_dispute", "FD-1", "report_non_compliance", SUPPORT, side=Side.CLIENT)

    assert market.account("co-1").state is AccountState.SUSPENDED


@pytest.mark.rule("DORM-1")
def test_the_contract_reports_its_activity_to_its_dormancy_watch(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = work_submitted(make_market(clock))
    market.handle(OpenCase("dormancy", "C-1", "DW-1")).result()
    market.fire("dormancy", "DW-1", "activity", SYSTEM, held=Money(30_000))
    clock.advance(days=10)

    market.fire("contract", "C-1", "request_changes", OWNER)

    watch = market.get("dormancy", "DW-1")
    assert (watch.state.value, watch.dormant_at) == ("watching", clock.now() + 90 * DAY)
    clock.advance(days=104)
    market.advance()
    assert market.get("dormancy", "DW-1").state.value == "closed"
    contract = market.get("contract", "C-1")
    assert contract.state is ContractState.REFUNDED  # ended with nothing paid (REF-180-7)
    assert contract.escrow_returned == Money(30_000)
    _cases_agree(market)


def test_a_case_needs_the_facts_it_is_built_from(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = work_submitted(make_market(clock))

    outcome = market.handle(OpenCase("hourly_dispute", "C-1", "HD-1"))

    assert isinstance(outcome.error, InvalidInput)
    assert market.all("hourly_dispute") == []

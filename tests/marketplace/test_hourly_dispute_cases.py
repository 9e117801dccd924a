"""An hourly dispute acting on its contract in the marketplace, on every store (HDSP-2).

Filing holds the disputed hours out of the week's payment and pauses the contract with a
weekly limit of 0; when the dispute is over the hours kept are paid into the week's
payment and the refunded ones stay out; the client restarts the contract. A filing the
contract refuses files nothing.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from statemachines import (
    UTC,
    Contract,
    ContractState,
    ManualClock,
    Money,
    TransitionRefused,
    to_dict,
)
from statemachines.machines.account.table import Account, AccountType
from statemachines.machines.contract.values import PauseReason
from statemachines.marketplace.commands import Fire, OpenCase
from statemachines.marketplace.market import Marketplace
from statemachines.testing.cast import ANA as OWNER
from statemachines.testing.cast import FL as FREELANCER
from statemachines.testing.cast import SUP as SUPPORT
from tests.marketplace.conftest import MakeMarket

WEEK = datetime(2026, 3, 2, tzinfo=UTC)
"""The billed week: 10 hours at US$30.00, invoiced on Monday 2026-03-09 at 12:00 UTC."""


def _billed(make_market: MakeMarket, clock: ManualClock) -> Marketplace:
    market = make_market(clock)
    market.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    market.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    market.add_contract(
        Contract.hourly(
            "C-1", client="co-1", freelancer="fl-1", rate=Money(3_000), started_at=clock.now()
        )
    )
    market.fire("contract", "C-1", "log_time", FREELANCER, minutes=600)
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))  # Tuesday: the week is in review
    market.advance()
    market.handle(OpenCase("hourly_dispute", "C-1", "HD-1", week=WEEK)).result()
    return market


def _filed(make_market: MakeMarket, clock: ManualClock, minutes: int = 180) -> Marketplace:
    market = _billed(make_market, clock)
    market.fire("hourly_dispute", "HD-1", "file", OWNER, minutes=minutes, reason="idle Tuesday")
    return market


@pytest.mark.rule("HDSP-2")
def test_hdsp_2_filing_pauses_the_contract_and_holds_the_hours_out_of_the_payment(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _filed(make_market, clock)

    contract = market.get("contract", "C-1")
    assert (contract.state, contract.pause_reason, contract.weekly_limit) == (
        ContractState.PAUSED,
        PauseReason.DISPUTE,
        0,
    )
    assert contract.payments[0].amount == Money(21_000)  # US$300.00 billed, US$90.00 held
    assert next(e for e in contract.history if e.event == "dispute_hours").payload["minutes"] == 180
    with pytest.raises(TransitionRefused) as refused:
        market.fire("contract", "C-1", "restart", OWNER)
    assert refused.value.rule_ids == ("HDSP-2",)
    with pytest.raises(TransitionRefused) as refused:
        market.fire("contract", "C-1", "set_weekly_limit", OWNER, hours=40)
    assert refused.value.rule_ids == ("HDSP-2",)


@pytest.mark.rule("HDSP-5", "CTR-HR-5", "HDSP-2")
def test_hdsp_5_support_pays_the_covered_hours_and_the_client_restarts(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _filed(make_market, clock)
    market.fire("hourly_dispute", "HD-1", "decline", FREELANCER)

    market.fire("hourly_dispute", "HD-1", "decide", SUPPORT, manual=45, idle=15)

    contract = market.get("contract", "C-1")
    dispute = market.get("hourly_dispute", "HD-1")
    assert (dispute.refund_amount, dispute.paid_amount) == (Money(3_000), Money(6_000))
    assert contract.payments[0].amount == Money(27_000)  # US$300.00 less the hour refunded
    assert (contract.state, contract.pause_reason) == (ContractState.PAUSED, PauseReason.CLIENT)
    market.fire("contract", "C-1", "restart", OWNER)
    assert market.get("contract", "C-1").state is ContractState.ACTIVE


@pytest.mark.rule("HDSP-4")
def test_hdsp_4_accepted_every_disputed_hour_stays_out_of_the_payment(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _filed(make_market, clock)

    market.fire("hourly_dispute", "HD-1", "accept", FREELANCER)

    assert market.get("contract", "C-1").payments[0].amount == Money(21_000)


@pytest.mark.rule("HDSP-7")
def test_hdsp_7_withdrawn_every_disputed_hour_is_paid(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _filed(make_market, clock)

    market.fire("hourly_dispute", "HD-1", "cancel", OWNER)

    contract = market.get("contract", "C-1")
    assert contract.payments[0].amount == Money(30_000)
    assert contract.pause_reason is PauseReason.CLIENT


@pytest.mark.rule("HDSP-1", "HDSP-2")
def test_hdsp_1_a_filing_the_contract_refuses_files_nothing(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    # The freelancer refunded most of the week first: the hours are no longer on the payment.
    market = _billed(make_market, clock)
    market.fire(
        "contract",
        "C-1",
        "give_refund",
        FREELANCER,
        payment="C-1-P1",
        amount=Money(25_000),
        balance=Money(30_000),
    )
    before = (to_dict(market.get("contract", "C-1")), to_dict(market.get("hourly_dispute", "HD-1")))

    outcome = market.handle(
        Fire("hourly_dispute", "HD-1", "file", OWNER, {"minutes": 180, "reason": "idle"})
    )

    assert isinstance(outcome.error, TransitionRefused)
    assert outcome.error.rule_ids == ("HDSP-1",)
    assert str(outcome.error).endswith(
        "3 hours were billed at US$90.00, but only US$50.00 of the payment for week "
        "2026-03-02 is left after refunds"
    )
    after = (to_dict(market.get("contract", "C-1")), to_dict(market.get("hourly_dispute", "HD-1")))
    assert after == before

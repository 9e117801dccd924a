"""A fixed-price dispute of a milestone not released (FPD-1 case b) acting on the milestone,
on every store: filing through support disputes the milestone (MS-DSP-1), and the dispute's
shares are paid on it when it ends; a filing the contract refuses files nothing."""

from __future__ import annotations

import pytest

from statemachines import (
    Contract,
    ManualClock,
    Money,
    TransitionRefused,
    to_dict,
)
from statemachines.machines.account.table import Account, AccountType
from statemachines.machines.milestone import MilestoneState
from statemachines.marketplace.commands import Fire, OpenCase
from statemachines.marketplace.market import Marketplace
from statemachines.testing.cast import ANA as OWNER
from statemachines.testing.cast import FL as FREELANCER
from statemachines.testing.cast import SUP as SUPPORT
from tests.marketplace.conftest import MakeMarket


def _delivered(make_market: MakeMarket, clock: ManualClock, *, submit: bool = True) -> Marketplace:
    market = make_market(clock)
    market.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    market.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    market.add_contract(
        Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=clock.now())
    )
    market.fire("contract", "C-1", "add_milestone", OWNER, amount=Money(30_000))
    market.fire("contract", "C-1", "fund_milestone", OWNER)
    if submit:
        market.fire("contract", "C-1", "submit_work", FREELANCER)
    market.handle(OpenCase("fixed_dispute", "C-1", "FD-1", milestone="C-1-M1")).result()
    return market


@pytest.mark.rule("MS-DSP-1", "FPD-1", "FPD-4")
def test_ms_dsp_1_filed_through_support_the_milestone_is_disputed_until_the_client_accepts(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _delivered(make_market, clock)

    market.fire("fixed_dispute", "FD-1", "file", SUPPORT)

    ms = market.get("contract", "C-1").milestones[0]
    assert (ms.state, ms.review_due) == (MilestoneState.DISPUTED, None)
    market.fire("fixed_dispute", "FD-1", "accept", OWNER)
    contract = market.get("contract", "C-1")
    assert (contract.milestones[0].state, contract.escrow_released, contract.unallocated) == (
        MilestoneState.APPROVED,
        Money(30_000),
        Money(0),
    )


@pytest.mark.rule("MS-DSP-1", "FPD-5")
def test_fpd_5_a_settled_split_releases_one_share_and_keeps_the_other_in_escrow(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _delivered(make_market, clock)
    market.fire("fixed_dispute", "FD-1", "file", SUPPORT)
    market.fire("fixed_dispute", "FD-1", "decline", OWNER, reason="half done", evidence="diff")

    market.fire(
        "fixed_dispute",
        "FD-1",
        "settle",
        SUPPORT,
        to_freelancer=Money(18_000),
        to_client=Money(12_000),
    )

    contract = market.get("contract", "C-1")
    assert (contract.milestones[0].released, contract.unallocated) == (
        Money(18_000),
        Money(12_000),
    )
    assert market.get("fixed_dispute", "FD-1").state.value == "resolved"


@pytest.mark.rule("MS-DSP-1", "FPD-1")
def test_ms_dsp_1_work_not_delivered_is_not_disputed_and_nothing_is_filed(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _delivered(make_market, clock, submit=False)
    before = to_dict(market.get("contract", "C-1"))

    outcome = market.handle(Fire("fixed_dispute", "FD-1", "file", SUPPORT, {}))

    assert isinstance(outcome.error, TransitionRefused)
    assert market.get("fixed_dispute", "FD-1").state.value == "draft"
    assert to_dict(market.get("contract", "C-1")) == before


@pytest.mark.rule("MS-DSP-2", "MS-DSP-1")
def test_ms_dsp_2_a_milestone_released_after_the_case_was_opened_files_nothing(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    # The draft read the milestone while it was submitted; the contract sees it released.
    market = _delivered(make_market, clock)
    market.fire("contract", "C-1", "approve_milestone", OWNER)
    before = to_dict(market.get("contract", "C-1"))

    outcome = market.handle(Fire("fixed_dispute", "FD-1", "file", SUPPORT, {}))

    assert isinstance(outcome.error, TransitionRefused)
    assert outcome.error.rule_ids == ("MS-DSP-1",)
    assert str(outcome.error).endswith(
        "no milestone of contract C-1 has delivered work waiting for payment"
    )
    assert market.get("fixed_dispute", "FD-1").state.value == "draft"
    assert to_dict(market.get("contract", "C-1")) == before

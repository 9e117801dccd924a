"""Mid-contract feedback, relationships and standings acting on (and told by) the other
aggregates in the marketplace (FB-5, CIRC-3, SUSP-3), on every store."""

from __future__ import annotations

from datetime import datetime

import pytest

from statemachines import (
    SYSTEM,
    UTC,
    Contract,
    ManualClock,
    Money,
    TransitionRefused,
)
from statemachines.machines.account.table import (
    Account,
    AccountState,
    AccountType,
    SuspensionReason,
)
from statemachines.machines.contract.values import Side
from statemachines.marketplace.commands import OpenCase
from statemachines.marketplace.market import Marketplace
from statemachines.rules.standing import EXCESSIVE_DISPUTES
from statemachines.testing.cast import AM as MEMBER
from statemachines.testing.cast import ANA as OWNER
from statemachines.testing.cast import FL as FREELANCER
from statemachines.testing.cast import SUP as SUPPORT
from tests.marketplace.conftest import MakeMarket

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _with_contract(make_market: MakeMarket, clock: ManualClock) -> Marketplace:
    market = make_market(clock)
    market.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    market.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    market.add_contract(Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=START))
    market.fire("contract", "C-1", "add_milestone", OWNER, amount=Money(30_000))
    market.fire("contract", "C-1", "fund_milestone", OWNER)
    return market


@pytest.mark.rule("FB-5")
def test_fb_5_the_contracts_payments_and_end_reach_its_mid_contract_feedback(
    make_market: MakeMarket,
) -> None:
    clock = ManualClock(START)
    market = _with_contract(make_market, clock)
    market.handle(OpenCase("mid_feedback", "C-1", "F-1")).result()
    clock.advance(days=31)

    market.fire("contract", "C-1", "release_milestone", OWNER)

    feedback = market.get("mid_feedback", "F-1")
    assert feedback.last_payment_at == clock.now()
    market.fire("mid_feedback", "F-1", "request", FREELANCER)
    assert market.get("mid_feedback", "F-1").state.value == "requested"
    market.fire("contract", "C-1", "end_contract", OWNER)
    assert market.get("mid_feedback", "F-1").state.value == "closed"


@pytest.mark.rule("CIRC-3")
def test_circ_3_confirmed_circumvention_suspends_the_account_that_took_part(
    make_market: MakeMarket,
) -> None:
    clock = ManualClock(START)
    market = _with_contract(make_market, clock)
    market.handle(OpenCase("relationship", "C-1", "R-1")).result()
    market.fire("relationship", "R-1", "start", SYSTEM)
    market.fire("relationship", "R-1", "report", OWNER, what="asked to pay by bank transfer")

    market.fire("relationship", "R-1", "confirm", SUPPORT, side=Side.FREELANCER)

    freelancer = market.account("fl-1")
    assert (freelancer.state, freelancer.suspension) == (
        AccountState.SUSPENDED,
        SuspensionReason.CIRCUMVENTION,
    )
    assert market.account("co-1").state is AccountState.ACTIVE


@pytest.mark.rule("SUSP-3")
def test_susp_3_disputes_against_an_agencys_people_are_counted_and_can_suspend_it(
    make_market: MakeMarket,
) -> None:
    clock = ManualClock(START)
    market = make_market(clock)
    market.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    market.open_account(Account(id="ag-1", type=AccountType.AGENCY, owner="ao", company="ag-1"))
    for n in range(1, EXCESSIVE_DISPUTES + 1):
        market.add_contract(
            Contract.hourly(
                f"C-{n}",
                client="co-1",
                freelancer="ag-1",
                rate=Money(3_000),
                started_at=START,
                agency=True,
                member="am",
            )
        )
        market.fire("contract", f"C-{n}", "log_time", MEMBER, minutes=120)
    market.handle(OpenCase("standing", "C-1", "ag-1")).result()
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    market.advance()
    with pytest.raises(TransitionRefused, match="SUSP-3"):
        market.fire("standing", "ag-1", "suspend_for_disputes", SUPPORT)

    for n in range(1, EXCESSIVE_DISPUTES + 1):
        market.handle(
            OpenCase("hourly_dispute", f"C-{n}", f"HD-{n}", week=datetime(2026, 3, 2, tzinfo=UTC))
        ).result()
        market.fire("hourly_dispute", f"HD-{n}", "file", OWNER, minutes=60)

    assert len(market.get("standing", "ag-1").disputes) == EXCESSIVE_DISPUTES
    market.fire("standing", "ag-1", "suspend_for_disputes", SUPPORT)
    agency = market.account("ag-1")
    assert (agency.state, agency.suspension) == (AccountState.SUSPENDED, SuspensionReason.TERMS)

"""SUSP-2, FPD-8: a side that does not comply with an arbitration award has its accounting
entity suspended for that reason (the client's company, or the agency rather than its
member), which blocks its withdrawals; an account suspended already stays as it is."""

from __future__ import annotations

import pytest

from statemachines import (
    Contract,
    IllegalTransition,
    ManualClock,
    Money,
)
from statemachines.machines.account.table import (
    Account,
    AccountState,
    AccountType,
    SuspensionReason,
)
from statemachines.machines.contract.values import Side
from statemachines.marketplace.commands import DisputeEscrowRefund
from statemachines.marketplace.market import Marketplace
from statemachines.testing.cast import AM as MEMBER
from statemachines.testing.cast import ANA as OWNER
from statemachines.testing.cast import AO as AGENCY_OWNER
from statemachines.testing.cast import SUP as SUPPORT
from tests.marketplace.conftest import MakeMarket


def _awarded(make_market: MakeMarket, clock: ManualClock) -> Marketplace:
    """Agency ag-1's contract C-1 with co-1 ended with US$300.00 held; arbitration awarded."""
    market = make_market(clock)
    market.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    market.open_account(Account(id="ag-1", type=AccountType.AGENCY, owner="ao", company="ag-1"))
    market.open_account(Account(id="am", type=AccountType.FREELANCER, owner="am"))
    market.add_contract(
        Contract.fixed("C-1", client="co-1", freelancer="ag-1", agency=True, started_at=clock.now())
    )
    market.fire("contract", "C-1", "add_milestone", OWNER, amount=Money(30_000))
    market.fire("contract", "C-1", "fund_milestone", OWNER)
    market.fire("contract", "C-1", "submit_work", MEMBER)
    market.fire("contract", "C-1", "end_contract", OWNER, payment=Money(0))
    market.fire("contract", "C-1", "leave_feedback", AGENCY_OWNER)
    market.handle(DisputeEscrowRefund("C-1", "FD-1", AGENCY_OWNER)).result()
    market.fire("fixed_dispute", "FD-1", "decline", OWNER, reason="not done", evidence="log")
    clock.advance(days=31)
    market.advance()
    market.fire("fixed_dispute", "FD-1", "pay_fee", OWNER)
    market.fire("fixed_dispute", "FD-1", "pay_fee", AGENCY_OWNER)
    market.fire(
        "fixed_dispute",
        "FD-1",
        "award",
        SUPPORT,
        to_freelancer=Money(10_000),
        to_client=Money(20_000),
    )
    return market


@pytest.mark.rule("SUSP-2", "FPD-8")
def test_susp_2_the_agency_not_its_member_is_suspended_for_the_award(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _awarded(make_market, clock)

    market.fire("fixed_dispute", "FD-1", "report_non_compliance", SUPPORT, side=Side.FREELANCER)

    agency = market.account("ag-1")
    assert (agency.state, agency.suspension) == (
        AccountState.SUSPENDED,
        SuspensionReason.ARBITRATION,
    )
    assert market.account("am").state is AccountState.ACTIVE
    assert market.account("co-1").state is AccountState.ACTIVE
    with pytest.raises(IllegalTransition):  # no withdrawals while suspended
        market.fire("account", "ag-1", "withdraw", AGENCY_OWNER, amount=Money(100))


@pytest.mark.rule("SUSP-2", "FPD-8")
def test_susp_2_the_clients_company_is_suspended_for_the_award(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _awarded(make_market, clock)

    market.fire("fixed_dispute", "FD-1", "report_non_compliance", SUPPORT, side=Side.CLIENT)

    client = market.account("co-1")
    assert (client.state, client.suspension) == (
        AccountState.SUSPENDED,
        SuspensionReason.ARBITRATION,
    )
    assert market.account("ag-1").state is AccountState.ACTIVE


@pytest.mark.rule("SUSP-2", "SUSP-1")
def test_susp_2_an_account_suspended_already_stays_suspended_as_it_was(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _awarded(make_market, clock)
    market.fire("account", "co-1", "suspend", SUPPORT, reason=SuspensionReason.BILLING)

    market.fire("fixed_dispute", "FD-1", "report_non_compliance", SUPPORT, side=Side.CLIENT)

    client = market.account("co-1")
    assert (client.state, client.suspension) == (AccountState.SUSPENDED, SuspensionReason.BILLING)
    assert market.get("fixed_dispute", "FD-1").suspend == ("co-1",)

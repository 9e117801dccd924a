"""The marketplace: obligations read from real aggregates, and effects across machines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest

from statemachines import (
    SYSTEM,
    UTC,
    Actor,
    Contract,
    ContractState,
    ManualClock,
    Money,
    NotPermitted,
    Role,
    TransitionRefused,
)
from statemachines.machines.account.table import (
    Account,
    AccountState,
    AccountType,
    SuspensionReason,
)
from statemachines.machines.team import MembershipState
from statemachines.marketplace.invariants import check_accounts
from statemachines.marketplace.market import Marketplace, Terms
from tests.conftest import START
from tests.machines.account.conftest import ADA_SELF, AM, ANA, AO, FL, HAL, SUP, TOM_SELF
from tests.marketplace.conftest import MakeMarket

S = AccountState
C = ContractState


@pytest.fixture
def market(clock: ManualClock, make_market: MakeMarket) -> Marketplace:
    """co-1 (owner ana), freelancer fl-1, agency ag-1 whose owner ao is also a freelancer."""
    m = make_market(clock)
    m.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    m.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    m.open_account(Account(id="ao", type=AccountType.FREELANCER, owner="ao", agency="ag-1"))
    m.open_account(Account(id="ag-1", type=AccountType.AGENCY, owner="ao", company="ag-1"))
    return m


def _hourly(market: Marketplace, cid: str = "C-1") -> Contract:
    c = Contract.hourly(cid, client="co-1", freelancer="fl-1", rate=Money(5_000), started_at=START)
    return market.add_contract(c, contact="ana")


def _fixed_with_escrow(market: Marketplace, cid: str = "C-2") -> Contract:
    c = market.add_contract(Contract.fixed(cid, client="co-1", freelancer="fl-1", started_at=START))
    market.fire("contract", cid, "add_milestone", ANA, amount=Money(20_000))
    market.fire("contract", cid, "fund_milestone", ANA)
    return c


def _states(market: Marketplace, ids: Iterable[str]) -> list[str]:
    return [market.get("contract", i).state.value for i in ids]


@pytest.mark.rule("SUSP-1")
def test_susp_1_suspension_pauses_hourly_contracts_and_reinstatement_resumes_them(
    market: Marketplace, clock: ManualClock
) -> None:
    _hourly(market, "C-1")
    _hourly(market, "C-3")
    market.fire("contract", "C-3", "pause", ANA)  # paused by the client beforehand
    clock.advance(hours=1)

    market.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.BILLING)
    paused = _states(market, ["C-1", "C-3"])
    clock.advance(days=1)
    market.fire("account", "co-1", "reinstate", SUP)

    assert paused == ["paused", "paused"]
    assert _states(market, ["C-1", "C-3"]) == ["active", "paused"]
    assert check_accounts(market) == []


@pytest.mark.rule("CIRC-4")
def test_circ_4_permanent_closure_ends_running_contracts_and_returns_held_escrow(
    market: Marketplace, clock: ManualClock
) -> None:
    c = _fixed_with_escrow(market)
    clock.advance(days=2)
    market.fire("account", "fl-1", "suspend", SUP, reason=SuspensionReason.CIRCUMVENTION)

    market.fire("account", "fl-1", "permanent_close", SUP)

    assert market.account("fl-1").state is S.CLOSED
    assert c.state in {C.ENDED, C.REFUNDED}
    assert c.escrow_returned == Money(20_000)
    assert c.escrow_held == Money(0)
    assert c.history[-1].event == "end_contract"
    assert c.history[-1].actor.role is Role.SYSTEM  # the platform ended it, not the freelancer
    assert c.ended_by is None


@pytest.mark.rule("ACC-GEN-8")
def test_acc_gen_8_only_support_suspends_through_the_marketplace(market: Marketplace) -> None:
    with pytest.raises(NotPermitted):
        market.fire("account", "fl-1", "suspend", ANA, reason=SuspensionReason.TERMS)


@pytest.mark.rule("ACC-FREEZE-D")
def test_acc_freeze_d_a_suspended_client_funds_no_milestone(
    market: Marketplace, clock: ManualClock
) -> None:
    c = market.add_contract(
        Contract.fixed("C-2", client="co-1", freelancer="fl-1", started_at=START)
    )
    market.fire("contract", "C-2", "add_milestone", ANA, amount=Money(20_000))
    market.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.BILLING)

    with pytest.raises(TransitionRefused) as info:
        market.fire("contract", "C-2", "fund_milestone", ANA)

    assert info.value.rule_ids == ("ACC-FREEZE-D",)
    assert info.value.reasons == ("account co-1 is suspended, so it cannot fund work",)
    assert c.escrow_held == Money(0)
    assert market.audit[-1].outcome == "refused"


@pytest.mark.rule("ACC-CLOSE-FL-2")
def test_acc_close_fl_2_a_contract_that_settles_lets_the_closing_account_finish(
    market: Marketplace, clock: ManualClock
) -> None:
    c = _fixed_with_escrow(market)
    market.fire("contract", "C-2", "end_contract", ANA, payment=Money(0))
    ending = c.state
    market.fire("account", "fl-1", "request_close", FL, confirm=True)
    closing = market.account("fl-1").state

    early = market.advance(START + timedelta(days=7, seconds=-1))
    clock.set(START + timedelta(days=7))
    market.advance()

    assert (ending, closing, early) == (C.ENDING, S.CLOSING, [])
    assert c.state is C.REFUNDED
    assert market.account("fl-1").state is S.DEACTIVATED
    assert market.account("fl-1").closed_at == START + timedelta(days=7)
    assert check_accounts(market) == []


def _hourly_ended_on_wednesday(market: Marketplace, clock: ManualClock) -> Contract:
    c = _hourly(market)
    clock.set(datetime(2026, 3, 4, 15, 0, tzinfo=UTC))
    market.fire("contract", "C-1", "log_time", FL, minutes=120)
    market.fire("contract", "C-1", "end_contract", ANA)
    return c


@pytest.mark.rule("ACC-CLOSE-CL-4")
def test_acc_close_cl_4_the_company_waits_for_the_end_of_friday(
    market: Marketplace, clock: ManualClock
) -> None:
    c = _hourly_ended_on_wednesday(market, clock)
    market.fire("account", "co-1", "request_close", ANA, confirm=True)
    friday = datetime(2026, 3, 14, 0, 0, tzinfo=UTC)

    clock.set(friday - timedelta(seconds=1))
    market.advance()
    before = market.account("co-1").state
    clock.set(friday)
    market.advance()

    assert before is S.CLOSING
    assert c.state is C.ENDED
    assert market.account("co-1").state is S.DEACTIVATED
    assert market.account("co-1").closed_at == friday
    assert check_accounts(market) == []


@pytest.mark.rule("ACC-CLOSE-FL-4")
def test_acc_close_fl_4_earnings_must_be_withdrawn_before_the_freelancer_closes(
    market: Marketplace, clock: ManualClock
) -> None:
    _hourly_ended_on_wednesday(market, clock)
    market.fire("account", "fl-1", "request_close", FL, confirm=True)
    clock.set(datetime(2026, 3, 16, 0, 0, tzinfo=UTC))
    market.advance()
    waiting = market.explain("account", "fl-1", "settle", SYSTEM)

    clock.set(datetime(2026, 3, 18, 0, 0, tzinfo=UTC))  # the Wednesday: available
    market.advance()
    available = market.obligations(market.account("fl-1"), clock.now()).available
    market.fire("account", "fl-1", "withdraw", FL, amount=available)

    assert waiting.rule_ids == ("ACC-CLOSE-FL-4",)
    assert "US$100.00 is still pending until 2026-03-18 00:00:00 UTC" in str(waiting)
    assert available == Money(10_000)
    assert market.account("fl-1").state is S.DEACTIVATED


@pytest.mark.rule("ACC-CLOSE-TM-1")
def test_acc_close_tm_1_leaving_the_last_team_deactivates_an_admin(market: Marketplace) -> None:
    market.invite("co-1", "ada", Role.CLIENT_ADMIN, ANA)
    market.fire("membership", "co-1/ada", "accept", ADA_SELF)
    assert market.account("ada").type is AccountType.TEAM_ADMIN

    market.fire("membership", "co-1/ada", "leave", ADA_SELF)

    assert market.account("ada").state is S.DEACTIVATED
    assert check_accounts(market) == []


@pytest.mark.rule("ACC-CLOSE-TM-2")
def test_acc_close_tm_2_a_removed_colleague_is_deactivated(market: Marketplace) -> None:
    market.invite("co-1", "tom", Role.TEAM_MEMBER, ANA)
    market.fire("membership", "co-1/tom", "accept", TOM_SELF)

    market.fire("membership", "co-1/tom", "remove", ANA)

    assert market.account("tom").state is S.DEACTIVATED


@pytest.mark.rule("ACC-CLOSE-CL-2")
def test_acc_close_cl_2_members_are_removed_through_their_memberships(
    market: Marketplace,
) -> None:
    market.invite("co-1", "hal", Role.HIRING_MANAGER, ANA)
    refused = market.explain("account", "co-1", "request_close", ANA, confirm=True)

    market.fire("membership", "co-1/hal", "remove", ANA, whole_company=True)
    market.fire("account", "co-1", "request_close", ANA, confirm=True)

    assert refused.rule_ids == ("ACC-CLOSE-CL-2",)
    assert market.account("co-1").state is S.DEACTIVATED
    assert market.get("membership", "co-1/ana").state is MembershipState.MEMBER


@pytest.mark.rule("ACC-CLOSE-CL-2", "ACC-CLOSE-CL-3", "ACC-CLOSE-CL-8", "TEAM-2")
def test_an_accepted_offer_starts_a_contract_whose_contact_person_stays(
    market: Marketplace,
) -> None:
    market.invite("co-1", "hal", Role.HIRING_MANAGER, ANA)
    market.fire("membership", "co-1/hal", "accept", HAL)
    market.draft_job("J-1", "co-1")
    market.fire("job", "J-1", "post", HAL)
    market.draft_proposal("P-1", "J-1", "fl-1", terms=Terms(hourly=True, rate=Money(4_000)))
    market.fire("proposal", "P-1", "submit", FL)
    market.fire("proposal", "P-1", "send_offer", HAL)
    market.fire("proposal", "P-1", "accept_offer", FL)
    market.fire("job", "J-1", "fill", HAL)

    contract = market.get("contract", "C-1")
    removal = market.explain("membership", "co-1/hal", "remove", ANA)
    closing = market.explain("account", "co-1", "request_close", ANA, confirm=True)

    assert (contract.is_hourly, contract.state) == (True, C.ACTIVE)
    assert removal.rule_ids == ("TEAM-2",)
    assert set(closing.rule_ids) == {"ACC-CLOSE-CL-2", "ACC-CLOSE-CL-8", "ACC-CLOSE-CL-3"}
    assert check_accounts(market) == []


@pytest.mark.rule("ACC-CLOSE-AG-6", "ACC-CLOSE-FL-5", "ACC-GEN-7")
def test_acc_close_ag_6_to_8_closing_an_agency_keeps_its_owner(
    market: Marketplace, clock: ManualClock
) -> None:
    market.open_account(Account(id="am", type=AccountType.FREELANCER, owner="am"))
    market.invite("ag-1", "am", Role.AGENCY_MEMBER, AO)
    market.fire("membership", "ag-1/am", "accept", AM)
    blocked = market.explain("account", "ao", "request_close", Actor("ao", Role.FREELANCER))
    market.fire("membership", "ag-1/am", "leave", AM)
    clock.advance(hours=2)

    market.fire("account", "ag-1", "request_close", AO, confirm=True)

    owner = market.account("ao")
    assert blocked.rule_ids == ("ACC-CLOSE-FL-5", "ACC-GEN-7")
    assert market.account("ag-1").state is S.CLOSED
    assert market.account("ag-1").profile_deleted
    assert (owner.state, owner.agency, owner.history[-1].event) == (
        S.ACTIVE,
        None,
        "unlink_agency",
    )
    assert market.account("am").state is S.ACTIVE
    assert check_accounts(market) == []


@pytest.mark.rule("ACC-DEACT-1")
def test_acc_deact_1_deactivation_keeps_every_record_and_offers_them_for_export(
    market: Marketplace, clock: ManualClock
) -> None:
    _hourly_ended_on_wednesday(market, clock)
    clock.set(datetime(2026, 3, 25, 0, 0, tzinfo=UTC))
    market.advance()
    market.fire("account", "fl-1", "withdraw", FL, amount=Money(10_000))
    market.fire("account", "fl-1", "request_close", FL, confirm=True)
    assert market.account("fl-1").state is S.DEACTIVATED

    export = market.export("fl-1", FL)

    assert export.contracts == ("C-1",)
    assert export.invoices == ("C-1-P1",)
    assert market.get("contract", "C-1").state is C.ENDED


@pytest.mark.rule("ACC-CLOSE-CL-6", "ACC-GEN-1")
def test_acc_gen_1_a_past_due_amount_is_paid_before_closing(market: Marketplace) -> None:
    market.record_past_due("co-1", Money(3_000))
    refused = market.explain("account", "co-1", "request_close", ANA, confirm=True)

    market.fire("account", "co-1", "pay_owed", ANA, amount=Money(3_000))
    market.fire("account", "co-1", "request_close", ANA, confirm=True)

    assert refused.rule_ids == ("ACC-CLOSE-CL-6",)
    assert market.account("co-1").state is S.DEACTIVATED


@pytest.mark.rule("ACC-FREEZE-D")
def test_acc_freeze_d_a_suspended_company_cannot_invite(market: Marketplace) -> None:
    co = market.account("co-1")
    market.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.TERMS)

    with pytest.raises(TransitionRefused, match="cannot invite members"):
        market.invite("co-1", "hal", Role.HIRING_MANAGER, ANA)

    assert co.state is S.SUSPENDED

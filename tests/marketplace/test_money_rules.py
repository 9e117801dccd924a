"""Money rules met across aggregates in the marketplace (issue 13).

A client company that closed, or any frozen account, starts nothing on either side
(ACC-DEACT-1, ACC-FREEZE-D, INV-ACC-9): no offer, no contract, no Monday invoice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
import pytest

from statemachines import UTC, Actor, Contract, ManualClock, Money, Role, TransitionRefused, to_dict
from statemachines.core.engine import MachineSpec
from statemachines.machines.account.table import (
    Account,
    AccountState,
    AccountType,
    SuspensionReason,
)
from statemachines.machines.contract.table import CONTRACT, ContractState
from statemachines.machines.contract.values import PauseReason
from statemachines.machines.proposal import PROPOSAL, ProposalState
from statemachines.machines.team import MembershipState
from statemachines.marketplace.invariants import check_accounts
from statemachines.marketplace.market import Marketplace, Terms
from statemachines.testing.cast import TOM
from statemachines.verify.search import check
from statemachines.verify.world import Bounds
from tests.conftest import START
from tests.machines.account.conftest import ANA, FL, SUP
from tests.marketplace.conftest import MakeMarket

S = AccountState
BO = Actor("bo", Role.CLIENT_OWNER, party="co-2")
HOURLY = Terms(hourly=True, rate=Money(2_500))


@pytest.fixture
def market(clock: ManualClock, make_market: MakeMarket) -> Marketplace:
    """co-1 (owner ana) with a job J-1 that fl-1 proposed on, hourly at US$25.00."""
    m = make_market(clock)
    m.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    m.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    m.draft_job("J-1", "co-1")
    m.fire("job", "J-1", "post", ANA)
    m.draft_proposal("P-1", "J-1", "fl-1", terms=HOURLY)
    m.fire("proposal", "P-1", "submit", FL)
    return m


def _close_company(market: Marketplace) -> None:
    market.fire("job", "J-1", "remove_posting", ANA)
    market.fire("account", "co-1", "request_close", ANA, confirm=True)
    assert market.account("co-1").state is S.DEACTIVATED


def _nothing_started(market: Marketplace, clock: ManualClock) -> None:
    clock.set(datetime(2026, 3, 16, 12, 0, tzinfo=UTC))  # the next Monday invoice has run
    market.advance()
    assert market.all("contract") == []
    assert check_accounts(market) == []


@pytest.mark.rule("ACC-DEACT-1")
def test_acc_deact_1_a_closed_company_sends_no_offer_on_an_earlier_proposal(
    market: Marketplace, clock: ManualClock
) -> None:
    _close_company(market)

    with pytest.raises(TransitionRefused) as info:
        market.fire("proposal", "P-1", "send_offer", ANA)

    assert info.value.rule_ids == ("ACC-DEACT-1",)
    assert info.value.reasons == (
        "account co-1 is deactivated and hidden, so it cannot make offers",
    )
    assert market.get("proposal", "P-1").state is ProposalState.SUBMITTED
    _nothing_started(market, clock)


@pytest.mark.rule("ACC-DEACT-1")
def test_acc_deact_1_an_offer_sent_while_active_is_not_accepted_after_the_company_closed(
    market: Marketplace, clock: ManualClock
) -> None:
    market.fire("proposal", "P-1", "send_offer", ANA)
    _close_company(market)

    with pytest.raises(TransitionRefused) as info:
        market.fire("proposal", "P-1", "accept_offer", FL)

    assert info.value.rule_ids == ("ACC-DEACT-1",)
    assert info.value.reasons == (
        "account co-1 is deactivated and hidden, so it cannot start contracts",
    )
    assert market.get("proposal", "P-1").state is ProposalState.OFFER_PENDING
    _nothing_started(market, clock)


HIRING = Bounds(contracts=0, jobs=1, team=False, focus=("account", "job", "proposal"))
"""Jobs, proposals and account closing, explored to the end (about 2,500 states)."""


def drop_rule(
    monkeypatch: pytest.MonkeyPatch, spec: MachineSpec[Any, Any], event: str, rule_id: str
) -> None:
    """Break *spec* for one test: *event*'s edges lose their guards citing *rule_id*."""
    index = {
        key: tuple(
            attrs.evolve(e, guards=tuple(g for g in e.guards if g.rule_id != rule_id))
            if e.event == event
            else e
            for e in edges
        )
        for key, edges in spec._index.items()
    }
    monkeypatch.setattr(spec, "_index", index)


@pytest.mark.rule("ACC-DEACT-1")
@pytest.mark.parametrize("event", ["send_offer", "accept_offer"])
def test_acc_deact_1_the_checker_flags_a_closed_company_that_hires(
    monkeypatch: pytest.MonkeyPatch, event: str
) -> None:
    drop_rule(monkeypatch, PROPOSAL, event, "ACC-DEACT-1")

    report = check(HIRING)

    assert report.violation is not None
    assert f"{event!r} on proposal P-1 while account co-1 was deactivated" in report.violation
    assert [(s.target, s.event) for s in report.trace][-1] == ("P-1", event)


# --------------------------------------------------------------------------- REF-180-3


def _paid_and_withdrawn(market: Marketplace, clock: ManualClock, withdraw: int) -> Contract:
    """C-1, hourly at US$50.00: 4 hours in the week of 2 March, paid US$200.00 (available
    on 18 March); fl-1 then withdraws *withdraw* cents."""
    c = Contract.hourly(
        "C-1", client="co-1", freelancer="fl-1", rate=Money(5_000), started_at=START
    )
    market.add_contract(c, contact="ana")
    clock.set(datetime(2026, 3, 4, 15, 0, tzinfo=UTC))
    market.fire("contract", "C-1", "log_time", FL, minutes=240)
    clock.set(datetime(2026, 3, 25, 9, 0, tzinfo=UTC))
    market.advance()
    if withdraw:
        market.fire("account", "fl-1", "withdraw", FL, amount=Money(withdraw))
    paid: Contract = market.get("contract", "C-1")
    return paid


@pytest.mark.rule("REF-180-3")
def test_ref_180_3_the_marketplace_caps_a_refund_by_the_balance_it_keeps(
    market: Marketplace, clock: ManualClock
) -> None:
    c = _paid_and_withdrawn(market, clock, withdraw=20_000)
    before = to_dict(c)

    with pytest.raises(TransitionRefused) as info:  # the caller's balance is not believed
        market.fire(
            "contract", "C-1", "give_refund", FL,
            payment="C-1-P1", amount=Money(20_000), balance=Money(20_000),
        )  # fmt: skip

    assert info.value.rule_ids == ("REF-180-3",)
    assert info.value.reasons == (
        "US$200.00 is more than the freelancer's balance of US$0.00 "
        "(US$0.00 available, US$0.00 pending)",
    )
    assert info.value.violations[0].data["balance"] == 0
    assert to_dict(market.get("contract", "C-1")) == before
    assert check_accounts(market) == []


@pytest.mark.rule("REF-180-3")
def test_ref_180_3_a_refund_inside_the_balance_comes_out_of_it(
    market: Marketplace, clock: ManualClock
) -> None:
    _paid_and_withdrawn(market, clock, withdraw=15_000)

    refused = market.explain(
        "contract", "C-1", "give_refund", FL, payment="C-1-P1", amount=Money(5_001)
    )
    market.fire("contract", "C-1", "give_refund", FL, payment="C-1-P1", amount=Money(5_000))
    ob = market.obligations(market.account("fl-1"), clock.now())

    assert refused.rule_ids == ("REF-180-3",)
    assert "US$50.01 is more than the freelancer's balance of US$50.00" in str(refused)
    assert (ob.available, ob.pending) == (Money(0), Money(0))
    assert check_accounts(market) == []


@pytest.mark.rule("REF-180-3")
def test_ref_180_3_an_overdraft_is_shown_never_clamped(
    market: Marketplace, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _paid_and_withdrawn(market, clock, withdraw=20_000)
    drop_rule(monkeypatch, CONTRACT, "give_refund", "REF-180-3")  # a broken cap

    market.fire("contract", "C-1", "give_refund", FL, payment="C-1-P1", amount=Money(20_000))

    assert check_accounts(market) == ["fl-1's balance is overdrawn by US$200.00"]


# --------------------------------------------------------------------------- ACC-GEN-2


@pytest.mark.rule("ACC-GEN-2")
@pytest.mark.parametrize(
    ("first", "second"),
    [
        (AccountType.FREELANCER, AccountType.CLIENT),
        (AccountType.CLIENT, AccountType.FREELANCER),
        (AccountType.COMBINED, AccountType.CLIENT),
        (AccountType.ENTERPRISE, AccountType.COMBINED),
    ],
)
def test_acc_gen_2_one_persons_freelancer_and_client_profiles_are_not_two_accounts(
    clock: ManualClock, make_market: MakeMarket, first: AccountType, second: AccountType
) -> None:
    market = make_market(clock)
    market.open_account(_owned_by("zoe", first, "a-1"))
    before = [to_dict(a) for a in market.all("account")], market.all("membership")

    with pytest.raises(TransitionRefused) as info:
        market.open_account(_owned_by("zoe", second, "a-2"))

    assert info.value.rule_ids == ("ACC-GEN-2",)
    assert info.value.reasons == (
        f"zoe already holds account a-1 ({first.value}); one person's freelancer and client "
        "profiles are one account, closed as a whole: open a combined account instead",
    )
    assert ([to_dict(a) for a in market.all("account")], market.all("membership")) == before


@pytest.mark.rule("ACC-GEN-2")
def test_acc_gen_2_an_agency_owner_keeps_a_freelancer_account_beside_the_agency(
    clock: ManualClock, make_market: MakeMarket
) -> None:
    market = make_market(clock)
    market.open_account(_owned_by("ao", AccountType.FREELANCER, "ao"))
    market.open_account(_owned_by("ao", AccountType.AGENCY, "ag-1"))
    market.open_account(_owned_by("ana", AccountType.CLIENT, "co-1"))
    market.open_account(_owned_by("ana", AccountType.CLIENT, "co-2"))  # two companies

    assert len(market.all("account")) == 4


def _owned_by(person: str, kind: AccountType, key: str) -> Account:
    company = key if kind.client_side or kind is AccountType.AGENCY else None
    return Account(id=key, type=kind, owner=person, company=company)


# --------------------------------------------------------------------------- ACC-CLOSE-TM-2


@pytest.fixture
def teams(clock: ManualClock, make_market: MakeMarket) -> Marketplace:
    """co-1 (owner ana) and co-2 (owner bo); tom, a colleague without admin rights, on co-1."""
    m = make_market(clock)
    m.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    m.open_account(Account(id="co-2", type=AccountType.CLIENT, owner="bo", company="co-2"))
    m.invite("co-1", "tom", Role.TEAM_MEMBER, ANA)
    m.fire("membership", "co-1/tom", "accept", TOM)
    assert m.account("tom").type is AccountType.TEAM_MEMBER
    return m


@pytest.mark.rule("ACC-CLOSE-TM-2")
def test_acc_close_tm_2_a_colleague_does_not_leave_their_last_team_themselves(
    teams: Marketplace,
) -> None:
    with pytest.raises(TransitionRefused) as info:
        teams.fire("membership", "co-1/tom", "leave", TOM)
    teams.fire("membership", "co-1/tom", "remove", ANA)

    assert info.value.rule_ids == ("ACC-CLOSE-TM-2",)
    assert info.value.reasons == (
        "tom has no admin rights and co-1 is their last team, so leaving it would close "
        "their account; only the owner or an admin of co-1 can do that, by removing them",
    )
    assert teams.get("membership", "co-1/tom").state is MembershipState.REMOVED
    assert teams.account("tom").state is S.DEACTIVATED
    assert check_accounts(teams) == []


@pytest.mark.rule("ACC-CLOSE-TM-2", "ACC-TEAMS-D")
def test_acc_close_tm_2_a_colleague_with_another_team_may_leave_one(teams: Marketplace) -> None:
    teams.invite("co-2", "tom", Role.TEAM_MEMBER, BO)

    teams.fire("membership", "co-1/tom", "leave", TOM)

    assert teams.get("membership", "co-1/tom").state is MembershipState.LEFT
    assert teams.account("tom").state is S.ACTIVE
    assert check_accounts(teams) == []


# --------------------------------------------------------------------------- suspensions


@pytest.fixture
def working(clock: ManualClock, make_market: MakeMarket) -> Marketplace:
    """co-1 (owner ana) and fl-1 on hourly contract C-1, active since START."""
    m = make_market(clock)
    m.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    m.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    c = Contract.hourly(
        "C-1", client="co-1", freelancer="fl-1", rate=Money(5_000), started_at=START
    )
    m.add_contract(c, contact="ana")
    clock.advance(hours=1)
    return m


def _refusal(market: Marketplace, event: str, actor: Actor, **kw: Any) -> tuple[str, ...]:
    with pytest.raises(TransitionRefused) as info:
        market.fire("contract", "C-1", event, actor, **kw)
    return info.value.reasons


@pytest.mark.rule("SUSP-D")
def test_susp_d_a_suspended_freelancers_contracts_pause_for_that_reason(
    working: Marketplace, clock: ManualClock
) -> None:
    working.fire("account", "fl-1", "suspend", SUP, reason=SuspensionReason.TERMS)
    c = working.get("contract", "C-1")
    paused = (c.state, c.pause_reason)

    restart = _refusal(working, "restart", ANA)
    log = _refusal(working, "log_time", FL, minutes=60)
    clock.advance(days=1)
    working.fire("account", "fl-1", "reinstate", SUP)

    assert paused == (ContractState.PAUSED, PauseReason.FREELANCER_SUSPENDED)
    assert restart == (
        "contract C-1 was paused by the platform on 2026-03-02 10:00:00 UTC because the "
        "freelancer's account is suspended; it restarts when that account is reinstated",
    )
    assert log == (
        "contract C-1 was paused by the platform on 2026-03-02 10:00:00 UTC because the "
        "freelancer's account is suspended; time can be logged again once it is restarted",
    )
    assert working.get("contract", "C-1").state is ContractState.ACTIVE
    assert check_accounts(working) == []


@pytest.mark.rule("SUSP-1", "SUSP-D")
def test_susp_d_a_contract_stays_paused_while_either_side_is_suspended(
    working: Marketplace, clock: ManualClock
) -> None:
    working.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.TERMS)
    working.fire("account", "fl-1", "suspend", SUP, reason=SuspensionReason.TERMS)
    clock.advance(days=1)

    working.fire("account", "co-1", "reinstate", SUP)
    c = working.get("contract", "C-1")
    after_client = (c.state, c.pause_reason)
    clock.advance(days=1)
    working.fire("account", "fl-1", "reinstate", SUP)

    assert after_client == (ContractState.PAUSED, PauseReason.FREELANCER_SUSPENDED)
    assert working.get("contract", "C-1").state is ContractState.ACTIVE
    assert [d.event for d in working.get("contract", "C-1").history][-3:] == [
        "client_reinstated",
        "freelancer_suspended",
        "freelancer_reinstated",
    ]
    assert check_accounts(working) == []


@pytest.mark.rule("SUSP-1")
def test_susp_1_a_client_suspended_for_its_terms_pauses_with_that_reason(
    working: Marketplace,
) -> None:
    working.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.TERMS)

    restart = _refusal(working, "restart", ANA)

    assert working.get("contract", "C-1").pause_reason is PauseReason.CLIENT_SUSPENDED
    assert restart == (
        "contract C-1 was paused by the platform on 2026-03-02 10:00:00 UTC because the "
        "client's account is suspended; it restarts when that account is reinstated",
    )


@pytest.mark.rule("SUSP-1")
def test_susp_1_a_client_suspended_for_billing_pauses_for_billing(working: Marketplace) -> None:
    working.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.BILLING)

    restart = _refusal(working, "restart", ANA)
    working.fire("account", "co-1", "reinstate", SUP)

    assert restart == (
        "contract C-1 was paused by the platform on 2026-03-02 10:00:00 UTC because of a "
        "problem with the client's billing method; it restarts when that is fixed",
    )
    assert working.get("contract", "C-1").state is ContractState.ACTIVE


@pytest.mark.rule("ACC-FREEZE-D")
def test_acc_freeze_d_no_new_milestone_for_a_suspended_freelancer(
    clock: ManualClock, make_market: MakeMarket
) -> None:
    m = make_market(clock)
    m.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    m.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    m.add_contract(Contract.fixed("C-2", client="co-1", freelancer="fl-1", started_at=START))
    m.fire("contract", "C-2", "add_milestone", ANA, amount=Money(20_000))
    m.fire("account", "fl-1", "suspend", SUP, reason=SuspensionReason.TERMS)

    with pytest.raises(TransitionRefused) as fund:
        m.fire("contract", "C-2", "fund_milestone", ANA)
    with pytest.raises(TransitionRefused) as add:
        m.fire("contract", "C-2", "add_milestone", ANA, amount=Money(5_000))

    assert (
        fund.value.reasons
        == add.value.reasons
        == ("account fl-1 is suspended, so it cannot take on work",)
    )
    assert fund.value.rule_ids == ("ACC-FREEZE-D",)
    assert m.get("contract", "C-2").escrow_held == Money(0)
    assert len(m.get("contract", "C-2").milestones) == 1


@pytest.mark.rule("CIRC-4", "MS-DSP-1")
def test_circ_4_closing_for_good_leaves_a_disputed_milestone_to_its_dispute(
    clock: ManualClock, make_market: MakeMarket
) -> None:
    m = make_market(clock)
    m.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    m.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    for key in ("C-1", "C-2"):
        m.add_contract(Contract.fixed(key, client="co-1", freelancer="fl-1", started_at=START))
        m.fire("contract", key, "add_milestone", ANA, amount=Money(500))
        m.fire("contract", key, "fund_milestone", ANA)
    m.fire("contract", "C-1", "submit_work", FL)
    m.fire("contract", "C-1", "dispute_milestone", SUP)
    m.fire("account", "fl-1", "suspend", SUP, reason=SuspensionReason.CIRCUMVENTION)

    m.fire("account", "fl-1", "permanent_close", SUP)

    assert m.account("fl-1").state is S.CLOSED
    assert m.get("contract", "C-1").state is ContractState.ACTIVE  # the dispute decides
    assert m.get("contract", "C-2").state is not ContractState.ACTIVE

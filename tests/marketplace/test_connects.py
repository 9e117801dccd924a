"""Connects in the marketplace, on every store: a proposal sent spends them from its side's
wallet, a post removed before any hire returns them once (JOB-4), and nothing else does
(PROP-3). The proposal and the wallet change together or not at all (ADR 0077)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from statemachines import (
    Actor,
    InvalidInput,
    ManualClock,
    NotPermitted,
    Role,
    TransitionRefused,
    to_dict,
)
from statemachines.machines.account.table import Account, AccountType
from statemachines.marketplace.commands import Fire, OpenWallet
from statemachines.marketplace.market import Marketplace
from statemachines.rules.account import JOB_POST_TTL
from statemachines.testing.cast import AM as MEMBER
from statemachines.testing.cast import ANA as OWNER
from statemachines.testing.cast import FL as FREELANCER
from statemachines.testing.cast import OTHER_FL as OTHER
from statemachines.testing.cast import SUP as SUPPORT
from tests.marketplace.conftest import MakeMarket


def _market(make_market: MakeMarket, clock: ManualClock) -> Marketplace:
    """A posted job J-1 of co-1; fl-1 and fl-2 hold 20 Connects each; P-1 and P-2 drafted."""
    market = make_market(clock)
    market.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    for who in (FREELANCER, OTHER):
        market.open_account(Account(id=who.id, type=AccountType.FREELANCER, owner=who.id))
        market.handle(OpenWallet(who.id)).result()
        market.fire("connects", who.id, "add", who, connects=20)
    market.draft_job("J-1", "co-1")
    market.fire("job", "J-1", "post", OWNER)
    market.draft_proposal("P-1", "J-1", "fl-1")
    market.draft_proposal("P-2", "J-1", "fl-2")
    return market


def _balance(market: Marketplace, owner: str) -> int:
    balance: int = market.get("connects", owner).balance
    return balance


def _both_sent(market: Marketplace) -> None:
    market.fire("proposal", "P-1", "submit", FREELANCER, connects=6)
    market.fire("proposal", "P-2", "submit", OTHER, connects=4)


@pytest.mark.rule("CONNECTS-D")
def test_connects_d_a_proposal_sent_spends_its_price_in_the_same_command(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _market(make_market, clock)

    outcome = market.handle(Fire("proposal", "P-1", "submit", FREELANCER, {"connects": 6}))

    assert [(ch.kind, ch.key, ch.decision.event) for ch in outcome.changes] == [
        ("proposal", "P-1", "submit"),
        ("connects", "fl-1", "spend"),
    ]
    wallet = market.get("connects", "fl-1")
    assert (wallet.balance, wallet.spent) == (14, (("P-1", 6),))
    assert market.get("proposal", "P-1").state.value == "submitted"


@pytest.mark.rule("CONNECTS-D")
def test_connects_d_a_proposal_the_balance_cannot_pay_for_is_refused_and_changes_nothing(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _market(make_market, clock)
    market.fire("proposal", "P-2", "submit", OTHER, connects=18)
    before = {k: to_dict(market.get(*k)) for k in (("proposal", "P-2"), ("connects", "fl-2"))}

    market.draft_proposal("P-3", "J-1", "fl-2")
    with pytest.raises(TransitionRefused) as err:
        market.fire("proposal", "P-3", "submit", OTHER, connects=6)

    assert err.value.rule_ids == ("CONNECTS-D",)
    assert err.value.reasons == ("proposal P-3 needs 6 Connects and fl-2 has 2",)
    assert market.get("proposal", "P-3").state.value == "draft"
    assert {k: to_dict(market.get(*k)) for k in before} == before
    assert market.store.revision("connects", "fl-2") == 3  # added, filled, spent once


@pytest.mark.rule("CONNECTS-D")
def test_connects_d_a_freelancer_without_a_wallet_sends_only_free_proposals(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _market(make_market, clock)
    market.open_account(Account(id="fl-3", type=AccountType.FREELANCER, owner="fl-3"))
    fl3 = Actor("fl-3", Role.FREELANCER, party="fl-3")
    market.draft_proposal("P-3", "J-1", "fl-3")

    with pytest.raises(TransitionRefused, match="needs 2 Connects and fl-3 has none"):
        market.fire("proposal", "P-3", "submit", fl3, connects=2)
    with pytest.raises(TransitionRefused, match="costs 0 Connects or more, not -1"):
        market.fire("proposal", "P-3", "submit", fl3, connects=-1)
    market.fire("proposal", "P-3", "submit", fl3)

    assert market.get("proposal", "P-3").state.value == "submitted"
    assert [w.id for w in market.all("connects")] == ["fl-1", "fl-2"]


@pytest.mark.rule("CONNECTS-D")
def test_connects_d_when_the_wallet_refuses_the_proposal_is_not_sent_either(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    # the proposal names the agency ag-1 as a freelancer of its own: its own checks pass
    # (the actor is that freelancer), the agency's wallet turns a lone freelancer away
    market = _market(make_market, clock)
    market.open_account(Account(id="ag-1", type=AccountType.AGENCY, owner="ao", company="ag-1"))
    market.handle(OpenWallet("ag-1")).result()
    market.fire("connects", "ag-1", "add", MEMBER, connects=10)
    market.draft_proposal("P-3", "J-1", "ag-1")
    before = to_dict(market.get("connects", "ag-1"))

    with pytest.raises(NotPermitted):
        market.fire("proposal", "P-3", "submit", Actor("ag-1", Role.FREELANCER), connects=6)

    assert market.get("proposal", "P-3").state.value == "draft"
    assert to_dict(market.get("connects", "ag-1")) == before


@pytest.mark.rule("TEAM-8")
def test_team_8_an_agency_members_proposal_spends_the_agencys_shared_connects(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _market(make_market, clock)
    market.open_account(Account(id="ag-1", type=AccountType.AGENCY, owner="ao", company="ag-1"))
    market.handle(OpenWallet("ag-1")).result()
    market.fire("connects", "ag-1", "add", MEMBER, connects=5)
    market.draft_proposal("P-3", "J-1", "ag-1", agency=True, author="am")
    market.draft_proposal("P-4", "J-1", "ag-1", agency=True, author="am")

    market.fire("proposal", "P-3", "submit", MEMBER, connects=4)
    with pytest.raises(TransitionRefused, match="needs 4 Connects and agency ag-1 has 1"):
        market.fire("proposal", "P-4", "submit", MEMBER, connects=4)

    assert _balance(market, "ag-1") == 1


def test_a_wallet_is_opened_for_a_freelancer_or_an_agency_only(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _market(make_market, clock)

    with pytest.raises(InvalidInput, match="co-1 is not a freelancer's account or an agency"):
        market.handle(OpenWallet("co-1")).result()
    with pytest.raises(InvalidInput, match="nobody is not a freelancer's account"):
        market.handle(OpenWallet("nobody")).result()
    assert [w.id for w in market.all("connects")] == ["fl-1", "fl-2"]


@pytest.mark.rule("JOB-4")
def test_job_4_a_post_the_client_removes_before_any_hire_returns_its_proposals_connects_once(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _market(make_market, clock)
    _both_sent(market)
    market.fire("proposal", "P-2", "send_offer", OWNER)  # an offer is not a contract

    outcome = market.handle(Fire("job", "J-1", "remove_posting", OWNER))

    assert [(ch.kind, ch.key, ch.decision.event) for ch in outcome.changes] == [
        ("job", "J-1", "remove_posting"),
        ("connects", "fl-1", "return_connects"),
        ("connects", "fl-2", "return_connects"),
    ]
    assert (_balance(market, "fl-1"), _balance(market, "fl-2")) == (20, 20)
    returned = market.get("connects", "fl-1").history[-1]
    assert returned.payload["reason"] == "client_cancelled"
    # JOB-3: the proposals stand; reposting and removing again returns nothing twice
    market.fire("job", "J-1", "repost", OWNER)
    market.fire("job", "J-1", "remove_posting", OWNER)
    assert (_balance(market, "fl-1"), _balance(market, "fl-2")) == (20, 20)
    assert market.get("connects", "fl-1").returned == ("P-1",)


@pytest.mark.rule("JOB-4")
def test_job_4_a_post_support_removes_for_its_terms_returns_the_connects(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _market(make_market, clock)
    _both_sent(market)

    market.fire("job", "J-1", "remove_posting", SUPPORT)

    assert (_balance(market, "fl-1"), _balance(market, "fl-2")) == (20, 20)
    returned = market.get("connects", "fl-2").history[-1]
    assert returned.payload["reason"] == "removed_for_terms"


def _withdrawn(market: Marketplace, clock: ManualClock) -> None:
    market.fire("proposal", "P-1", "withdraw", FREELANCER)
    market.fire("job", "J-1", "remove_posting", OWNER)


def _declined(market: Marketplace, clock: ManualClock) -> None:
    market.fire("proposal", "P-1", "decline", OWNER)
    market.fire("job", "J-1", "remove_posting", OWNER)


def _someone_else_hired(market: Marketplace, clock: ManualClock) -> None:
    market.fire("proposal", "P-2", "send_offer", OWNER)
    market.fire("proposal", "P-2", "accept_offer", OTHER)
    market.fire("job", "J-1", "remove_posting", OWNER)


def _filled(market: Marketplace, clock: ManualClock) -> None:
    market.fire("proposal", "P-2", "send_offer", OWNER)
    market.fire("proposal", "P-2", "accept_offer", OTHER)
    market.fire("job", "J-1", "fill", OWNER)


def _expired(market: Marketplace, clock: ManualClock) -> None:
    clock.set(clock.now() + JOB_POST_TTL)
    market.advance()
    assert market.get("job", "J-1").state.value == "expired"


@pytest.mark.rule("PROP-3")
@pytest.mark.parametrize(
    "ending",
    [_withdrawn, _declined, _someone_else_hired, _filled, _expired],
    ids=["withdrawn", "declined", "hired-someone-else", "filled", "expired"],
)
def test_prop_3_connects_stay_spent_when_the_proposal_or_post_ends_any_other_way(
    make_market: MakeMarket, clock: ManualClock, ending: Callable[[Marketplace, ManualClock], None]
) -> None:
    market = _market(make_market, clock)
    _both_sent(market)

    ending(market, clock)

    assert _balance(market, "fl-1") == 14
    assert market.get("connects", "fl-1").returned == ()

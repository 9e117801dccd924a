"""The kit's assertions pass on the outcome they name and fail, saying why, on any other."""

from __future__ import annotations

import pytest

from statemachines import Contract, Marketplace, Money
from statemachines.errors import IllegalTransition, NotPermitted, TransitionRefused, Violation
from statemachines.machines.account.table import Account, AccountType
from statemachines.testing import (
    START,
    assert_illegal,
    assert_not_permitted,
    assert_refused,
    assert_unchanged,
    illegal,
    not_permitted,
    refused,
)
from statemachines.testing.cast import ANA, PAT_HM


def a_contract(marketplace: Marketplace) -> Marketplace:
    marketplace.open_account(
        Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1")
    )
    marketplace.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    marketplace.add_contract(
        Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=START)
    )
    return marketplace


def refusal(*violations: Violation) -> TransitionRefused:
    return TransitionRefused(
        "refused", machine="contract", state="active", event="e", violations=violations
    )


@pytest.mark.rule("MS-1")
def test_ms_1_a_milestone_under_five_dollars_is_refused_and_changes_nothing(
    marketplace: Marketplace,
) -> None:
    market = a_contract(marketplace)

    with assert_unchanged(market), refused("MS-1", only=True) as caught:
        market.fire("contract", "C-1", "add_milestone", ANA, amount=Money(499))

    assert "US$4.99" in caught.error.violations[0].reason
    market.fire("contract", "C-1", "add_milestone", ANA, amount=Money(500))


def test_a_wrong_party_is_turned_away_and_an_illegal_event_named(
    marketplace: Marketplace,
) -> None:
    market = a_contract(marketplace)

    with assert_unchanged(market), not_permitted():
        market.fire("contract", "C-1", "end_contract", PAT_HM)
    with assert_unchanged(market), illegal():
        market.fire("contract", "C-1", "approve_refund", ANA)


def test_assert_refused_names_what_is_missing_extra_or_unreadable() -> None:
    err = refusal(Violation("MS-1", "a milestone must be at least US$5.00, not US$4.99"))

    assert assert_refused(err, "MS-1") is err
    with pytest.raises(AssertionError, match=r"cites \['MS-1'\], not \['MS-2'\]"):
        assert_refused(err, "MS-2")
    with pytest.raises(AssertionError, match="expected a refusal citing"):
        assert_refused(ValueError("no"), "MS-1")
    both = refusal(Violation("MS-1", "too small"), Violation("MS-2", "one at a time"))
    with pytest.raises(AssertionError, match=r"cites \['MS-2'\] besides"):
        assert_refused(both, "MS-1", only=True)
    coded = refusal(Violation("MS-1", "fund_milestone needs US$5.00"))
    with pytest.raises(AssertionError, match=r"not written for a person \(fund_milestone\)"):
        assert_refused(coded, "MS-1")
    assert assert_refused(coded, "MS-1", readable=False) is coded


def test_the_other_assertions_fail_on_another_outcome() -> None:
    turned_away = NotPermitted(
        "[ACC-CLOSE-CL-1] only the owner may close",
        machine="account",
        state="active",
        event="request_close",
        actor="ada",
        allowed_roles=("client_owner",),
    )
    assert assert_not_permitted(turned_away, "ACC-CLOSE-CL-1") is turned_away
    with pytest.raises(AssertionError, match=r"does not name \['TEAM-8'\]"):
        assert_not_permitted(turned_away, "TEAM-8")
    with pytest.raises(AssertionError, match="expected the actor to be turned away"):
        assert_not_permitted(refusal(Violation("MS-1", "too small")))
    no_edge = IllegalTransition("no edge", machine="contract", state="ended", event="pause")
    assert assert_illegal(no_edge) is no_edge
    with pytest.raises(AssertionError, match="expected an illegal transition"):
        assert_illegal(turned_away)


def test_a_block_that_raises_nothing_or_changes_something_fails(
    marketplace: Marketplace,
) -> None:
    market = a_contract(marketplace)

    with pytest.raises(AssertionError, match="nothing was raised"), refused("MS-1"):
        market.fire("contract", "C-1", "add_milestone", ANA, amount=Money(500))
    with pytest.raises(AssertionError, match="changed contract C-1"), assert_unchanged(market):
        market.fire("contract", "C-1", "add_milestone", ANA, amount=Money(500))
    contract = market.get("contract", "C-1")
    with pytest.raises(AssertionError, match="changed aggregate"), assert_unchanged(contract):
        market.fire("contract", "C-1", "fund_milestone", ANA)

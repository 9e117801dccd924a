"""Edges and refusals that no other account test reaches: blockers that come back while an
account is closing, an agency's own balance, and a reactivation link that outlives its window.

``settle`` has a branch per kind of account (a person's account is deactivated; an agency or
Enterprise closes for good), and each branch is its own edge: the tests below refuse each on
the account type that takes it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import SYSTEM, Actor, IllegalTransition, ManualClock, Money
from statemachines.machines.account.table import (
    Account,
    AccountLifecycle,
    AccountState,
    ContractFact,
    Obligations,
    Side,
)
from statemachines.rules.account import reactivation_deadline
from tests.conftest import START
from tests.machines.account.conftest import AO, ENT, FL, Facts, agency, enterprise, freelancer
from tests.machines.account.test_rules import close, refusal

S = AccountState


def closing(life: AccountLifecycle, acc: Account, actor: Actor) -> Account:
    """*acc*, closing at the request of *actor*."""
    close(life, acc, actor)
    assert acc.state is S.CLOSING
    return acc


# --------------------------------------------------------------------------- settle, a person


@pytest.mark.rule("ACC-CLOSE-CL-6", "ACC-GEN-1")
def test_acc_gen_1_money_owed_again_keeps_a_closing_freelancer_from_deactivating(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = closing(life, freelancer(), FL)
    facts.value = Obligations(owed=Money(2_500))  # a charge failed after the request

    reasons = refusal(life, acc, SYSTEM, "settle")
    wrong = refusal(life, acc, FL, "pay_owed", amount=Money(3_000))
    life.fire(acc, "pay_owed", FL, amount=Money(2_500))
    facts.value = Obligations()
    life.settle(acc)

    assert reasons == {"ACC-GEN-1": "US$25.00 is owed on the account; pay it under Billing first"}
    assert wrong == {"ACC-CLOSE-CL-6": "US$30.00 does not match what is owed (US$25.00)"}
    assert acc.state is S.DEACTIVATED


# --------------------------------------------------------------------------- settle, for good


@pytest.mark.rule("ACC-GEN-1")
def test_acc_gen_1_an_agency_owing_money_does_not_close_for_good(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = closing(life, agency(), AO)
    facts.value = Obligations(owed=Money(1_000))

    reasons = refusal(life, acc, SYSTEM, "settle")
    facts.value = Obligations()
    life.settle(acc)

    assert reasons == {"ACC-GEN-1": "US$10.00 is owed on the account; pay it under Billing first"}
    assert acc.state is S.CLOSED


@pytest.mark.rule("ACC-DEACT-2")
def test_acc_deact_2_an_agency_with_live_work_does_not_close_for_good(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = closing(life, agency(), AO)
    facts.value = Obligations(contracts=(ContractFact("C-4", "paused", Side.AGENCY),))

    reasons = refusal(life, acc, SYSTEM, "settle")

    assert reasons == {
        "ACC-DEACT-2": "1 contract still active or paused: C-4; an account with work cannot "
        "deactivate"
    }
    assert acc.state is S.CLOSING


@pytest.mark.rule("ACC-CLOSE-CL-3", "ACC-CLOSE-CL-6")
def test_acc_close_cl_3_and_cl_6_an_enterprise_waits_for_its_contracts_and_its_bills(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = closing(life, enterprise(), ENT)
    facts.value = Obligations(
        contracts=(ContractFact("C-2", "ending", Side.CLIENT),), owed=Money(4_000)
    )

    reasons = refusal(life, acc, SYSTEM, "settle")
    facts.value = Obligations()
    life.settle(acc)

    assert reasons == {
        "ACC-CLOSE-CL-3": "1 contract still ending: C-2; the account closes once they are settled",
        "ACC-CLOSE-CL-6": "US$40.00 of billing is outstanding; pay it under Billing",
    }
    assert acc.state is S.CLOSED


# --------------------------------------------------------------------------- an agency's balance


@pytest.mark.rule("ACC-CLOSE-AG-5")
def test_acc_close_ag_5_an_agency_withdraws_only_what_is_available(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = agency()
    facts.value = Obligations(available=Money(5_000))

    active = refusal(life, acc, AO, "withdraw", amount=Money(6_000))
    closing(life, acc, AO)
    while_closing = refusal(life, acc, AO, "withdraw", amount=Money(5_001))
    life.fire(acc, "withdraw", AO, amount=Money(5_000))

    assert active == {"ACC-CLOSE-AG-5": "cannot withdraw US$60.00: only US$50.00 is available"}
    assert while_closing == {
        "ACC-CLOSE-AG-5": "cannot withdraw US$50.01: only US$50.00 is available"
    }
    assert acc.state is S.CLOSING


# --------------------------------------------------------------------------- reactivation


def deactivated(life: AccountLifecycle) -> Account:
    """Freelancer fl-1, closed at START and deactivated."""
    acc = closing(life, freelancer(), FL)
    life.settle(acc)
    assert acc.state is S.DEACTIVATED
    return acc


@pytest.mark.rule("ACC-REACT-1")
def test_acc_react_1_a_link_requested_just_before_five_years_stops_working_at_five_years(
    life: AccountLifecycle, clock: ManualClock
) -> None:
    acc = deactivated(life)
    until = reactivation_deadline(START)
    clock.set(until - timedelta(hours=1))
    life.fire(acc, "request_reactivation_link", FL)
    clock.set(until)

    with pytest.raises(IllegalTransition, match="it became closed on 2031-03-02 09:00:00 UTC"):
        life.fire(acc, "confirm_reactivation", FL, token="fl-1-link-1")

    assert acc.state is S.DEACTIVATED


@pytest.mark.rule("ACC-REACT-4")
def test_acc_react_4_an_account_flagged_after_the_link_was_sent_cannot_use_it(
    life: AccountLifecycle,
) -> None:
    acc = deactivated(life)
    life.fire(acc, "request_reactivation_link", FL)
    acc.support_required = True  # the platform flags it before the link is opened

    reasons = refusal(life, acc, FL, "confirm_reactivation", token="fl-1-link-1")

    assert reasons == {
        "ACC-REACT-4": "account fl-1 is flagged by the platform; ask support to restore it"
    }
    assert acc.state is S.DEACTIVATED

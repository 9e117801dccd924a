"""The invariant predicates are not vacuous: each one reports a world that breaks it.

The worlds below are built by writing fields directly, which the machines never
allow; that is the point: a predicate that cannot see such a world would pass
the property test for nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from statemachines import (
    SYSTEM,
    Actor,
    Contract,
    ManualClock,
    Money,
    Role,
)
from statemachines.core.engine import Decision
from statemachines.machines.account.table import Account, AccountState, AccountType
from statemachines.machines.job import Job
from statemachines.machines.team import MembershipState
from statemachines.marketplace.invariants import (
    check_accounts,
    inv_acc_1_closed_is_absorbing,
    inv_acc_2_only_owners_close,
    inv_acc_3_no_closure_with_live_obligations,
    inv_acc_3_settled_with_nothing_left,
    inv_acc_4_combined_accounts_move_together,
    inv_acc_5_agency_closure_keeps_the_owner,
    inv_acc_6_reactivation_is_bounded,
    inv_acc_7_reactivation_token,
    inv_acc_8_team_accounts,
    inv_acc_9_no_activity_while_frozen,
    inv_team_1_contact_person_never_removed,
    inv_team_2_owner_always_a_member,
    inv_time_4_company_closure_timing,
)
from statemachines.marketplace.market import Marketplace
from tests.conftest import START
from tests.machines.account.conftest import ADA, ANA, FL, HAL, SUP
from tests.marketplace.conftest import open_market

S = AccountState


@pytest.fixture
def market(clock: ManualClock, store: str, tmp_path: Path) -> Iterator[Marketplace]:
    """A marketplace on each store. The worlds below write fields directly, so the SQLite
    file is not compared with them: the predicates read the objects the store hands out."""
    m = open_market(store, tmp_path, clock)
    m.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    m.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    yield m
    m.close()


def _decision(event: str, source: S, target: S, actor: Actor = SYSTEM, **kw: object) -> Decision:
    return Decision(START, actor, event, source, target, kw)


def test_a_healthy_marketplace_breaks_nothing(market: Marketplace) -> None:
    assert check_accounts(market) == []


def test_inv_acc_1_sees_an_account_leaving_closed(market: Marketplace) -> None:
    acc = market.account("fl-1")
    acc.history += [
        _decision("permanent_close", S.SUSPENDED, S.CLOSED, SUP),
        _decision("support_reactivate", S.CLOSED, S.ACTIVE, SUP),
    ]

    assert inv_acc_1_closed_is_absorbing(market) == [
        "fl-1 was closed, then accepted 'support_reactivate'",
        "fl-1 was closed but is active",
    ]


def test_inv_acc_2_sees_an_admin_closing_a_company(market: Marketplace) -> None:
    market.account("co-1").history.append(_decision("request_close", S.ACTIVE, S.CLOSING, ADA))

    assert inv_acc_2_only_owners_close(market) == [
        "co-1 (client) started closing for 'ada' (client admin for 'co-1')"
    ]


def test_inv_acc_3_sees_a_closing_company_with_an_open_job(market: Marketplace) -> None:
    job = market.draft_job("J-1", "co-1")
    market.fire("job", "J-1", "post", HAL)
    market.account("co-1").state = S.CLOSING

    assert job.state.value == "open"
    assert inv_acc_3_no_closure_with_live_obligations(market) == [
        "co-1 is closing with open jobs: ['J-1']"
    ]


def test_inv_acc_3_sees_money_left_at_settlement(market: Marketplace, clock: ManualClock) -> None:
    c = Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=START)
    market.add_contract(c)
    market.fire("contract", "C-1", "add_milestone", ANA, amount=Money(1_000))
    market.fire("contract", "C-1", "fund_milestone", ANA)
    market.fire("contract", "C-1", "release_milestone", ANA)

    problems = inv_acc_3_settled_with_nothing_left(market, market.account("fl-1"))

    assert problems == ["fl-1 settled with US$10.00 pending and US$0.00 available"]


def test_inv_acc_4_sees_a_client_profile_living_apart(market: Marketplace) -> None:
    market.open_account(Account(id="pat", type=AccountType.COMBINED, owner="pat", company="co-1"))

    assert inv_acc_4_combined_accounts_move_together(market) == [
        "client profile co-1 of pat lives in another account"
    ]


def test_inv_acc_5_sees_an_owner_still_linked(market: Marketplace) -> None:
    market.open_account(Account(id="ao", type=AccountType.FREELANCER, owner="ao", agency="ag-1"))
    ag = market.open_account(
        Account(id="ag-1", type=AccountType.AGENCY, owner="ao", company="ag-1")
    )
    ag.state = S.CLOSED

    assert inv_acc_5_agency_closure_keeps_the_owner(market) == [
        "ao is still linked to closed agency ag-1"
    ]


def test_inv_acc_6_sees_a_late_or_unauthorised_restore(market: Marketplace) -> None:
    acc = market.account("co-1")
    late = START + timedelta(days=6 * 365)
    acc.history += [
        _decision("settle", S.CLOSING, S.DEACTIVATED),
        Decision(late, ANA, "confirm_reactivation", S.DEACTIVATED, S.ACTIVE, {"token": "x"}),
    ]

    assert inv_acc_6_reactivation_is_bounded(market) == [
        f"co-1 was restored at {late} after its 5-year window",
        "co-1 (client) restored itself",
    ]


def test_inv_acc_7_sees_an_expired_or_reused_link(market: Marketplace) -> None:
    acc = market.account("fl-1")
    acc.history += [
        _decision("request_reactivation_link", S.DEACTIVATED, S.DEACTIVATED, FL),
        Decision(
            START + timedelta(hours=4),
            FL,
            "confirm_reactivation",
            S.DEACTIVATED,
            S.ACTIVE,
            {"token": "fl-1-link-1"},
        ),
    ]

    assert inv_acc_7_reactivation_token(market) == [
        f"fl-1 accepted link 'fl-1-link-1' at {START + timedelta(hours=4)}"
    ]


def test_inv_acc_8_sees_an_active_admin_without_a_team(market: Marketplace) -> None:
    market.open_account(Account(id="ada", type=AccountType.TEAM_ADMIN, owner="ada"))

    assert inv_acc_8_team_accounts(market) == ["team-only account ada is active without a team"]


def test_inv_acc_9_sees_a_job_posted_by_a_frozen_company() -> None:
    job = Job(id="J-1", company="co-1")
    step = Decision(START, HAL, "post", job.state, job.state, {})

    problems = inv_acc_9_no_activity_while_frozen({"co-1": S.CLOSING}, "job", job, step)

    assert problems == ["'post' on job J-1 while account co-1 was closing"]


def test_inv_team_1_sees_a_removed_contact_person(market: Marketplace) -> None:
    market.invite("co-1", "hal", Role.HIRING_MANAGER, ANA)
    market.add_contract(
        Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=START), contact="hal"
    )
    market.get("membership", "co-1/hal").state = MembershipState.REMOVED

    assert inv_team_1_contact_person_never_removed(market) == [
        "hal was removed from co-1 but is contact on C-1"
    ]


def test_inv_team_2_sees_an_owner_who_left(market: Marketplace) -> None:
    market.get("membership", "co-1/ana").state = MembershipState.LEFT

    assert inv_team_2_owner_always_a_member(market) == ["owner ana is not a member of co-1"]


def test_inv_time_4_sees_a_company_closed_before_friday_ended(market: Marketplace) -> None:
    c = Contract.hourly("C-1", client="co-1", freelancer="fl-1", rate=Money(100), started_at=START)
    c.ended_at = START + timedelta(days=2)
    market.add_contract(c)
    market.account("co-1").history.append(
        Decision(START + timedelta(days=5), SYSTEM, "settle", S.CLOSING, S.DEACTIVATED, {})
    )

    problems = inv_time_4_company_closure_timing(market)

    assert len(problems) == 1
    assert problems[0].endswith("before the review window of C-1 ended")

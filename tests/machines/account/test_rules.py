"""One test (or a few) per account rule, on the smallest situation that breaks it.

Each refusal test checks the rule ID and the words the user reads; each time
rule is tested on both sides of its boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from statemachines import (
    SYSTEM,
    UTC,
    Actor,
    IllegalTransition,
    ManualClock,
    Money,
    NotPermitted,
    Role,
    TransitionRefused,
)
from statemachines.machines.account.table import (
    Account,
    AccountLifecycle,
    AccountState,
    AccountType,
    ContractFact,
    Obligations,
    Side,
    SuspensionReason,
)
from statemachines.rules.account import reactivation_deadline
from tests.conftest import START
from tests.machines.account.conftest import (
    ADA,
    ADA_SELF,
    AM,
    ANA,
    AO,
    BM,
    CLOSERS,
    ENT,
    EVA,
    EVE,
    FL,
    HAL,
    MAKERS,
    OTHER_FL,
    OZ,
    PAT_CO,
    PAT_FL,
    SAM,
    SUP,
    TOM,
    TOM_SELF,
    Facts,
    agency,
    combined,
    company,
    enterprise,
    freelancer,
    team_admin,
    team_member,
)

S = AccountState


def refusal(
    life: AccountLifecycle,
    acc: Account,
    actor: Actor,
    event: str = "request_close",
    **payload: object,
) -> dict[str, str]:
    """Fire and expect a refusal; return rule ID -> reason, and check nothing changed."""
    state = acc.state
    with pytest.raises(TransitionRefused) as info:
        life.fire(acc, event, actor, **payload)
    assert acc.state is state
    return dict(zip(info.value.rule_ids, info.value.reasons, strict=True))


def turned_away(
    life: AccountLifecycle,
    acc: Account,
    actor: Actor,
    event: str = "request_close",
    **payload: object,
) -> dict[str, str]:
    """Fire and expect the actor turned away; return rule ID -> reason, nothing changed."""
    state = acc.state
    with pytest.raises(NotPermitted) as info:
        life.fire(acc, event, actor, **payload)
    assert acc.state is state
    return dict(zip(info.value.rule_ids, info.value.reasons, strict=True))


def close(life: AccountLifecycle, acc: Account, actor: Actor) -> None:
    """Request the closure, confirmed."""
    life.fire(acc, "request_close", actor, confirm=True)


def contract(cid: str, state: str, side: Side = Side.FREELANCER, **kw: object) -> ContractFact:
    return ContractFact(cid, state, side, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- general


@pytest.mark.rule("ACC-GEN-1")
def test_acc_gen_1_money_owed_on_a_freelancer_account_blocks_closing(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = freelancer()
    facts.value = Obligations(owed=Money(2_500))

    reasons = refusal(life, acc, FL, confirm=True)

    assert reasons == {"ACC-GEN-1": "US$25.00 is owed on the account; pay it under Billing first"}


@pytest.mark.rule("ACC-GEN-1")
def test_acc_gen_1_nothing_owed_lets_the_freelancer_start_closing(life: AccountLifecycle) -> None:
    acc = freelancer()

    close(life, acc, FL)

    assert acc.state is S.CLOSING


@pytest.mark.rule(
    "ACC-CLOSE-CL-3", "ACC-CLOSE-CL-5", "ACC-CLOSE-FL-2", "ACC-CLOSE-FL-3", "ACC-GEN-2"
)
def test_acc_gen_2_a_combined_account_needs_both_sets_of_guards(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = combined()
    facts.value = Obligations(
        contracts=(contract("C-1", "active"), contract("C-2", "paused", Side.CLIENT)),
        jobs=("J-1",),
        proposals=("P-1",),
    )

    reasons = refusal(life, acc, PAT_CO, confirm=True)

    assert set(reasons) == {
        "ACC-CLOSE-FL-2",
        "ACC-CLOSE-FL-3",
        "ACC-CLOSE-CL-3",
        "ACC-CLOSE-CL-5",
    }
    assert (
        reasons["ACC-CLOSE-FL-2"] == "1 contract still active or paused: C-1; end it under My Jobs"
    )
    assert reasons["ACC-CLOSE-CL-3"] == (
        "1 contract still active or paused: C-2; end it under Jobs > Contracts"
    )


@pytest.mark.rule("ACC-GEN-2")
@pytest.mark.parametrize("closer", [PAT_FL, PAT_CO], ids=["freelancer-profile", "client-profile"])
def test_acc_gen_2_closing_either_profile_closes_the_whole_account(
    life: AccountLifecycle, closer: Actor
) -> None:
    acc = combined()

    close(life, acc, closer)
    life.settle(acc)

    assert acc.state is S.DEACTIVATED
    assert not acc.visible


@pytest.mark.rule("ACC-GEN-3")
def test_acc_gen_3_without_a_security_question_the_account_cannot_close(
    life: AccountLifecycle,
) -> None:
    acc = freelancer()
    acc.security_question = False

    reasons = refusal(life, acc, FL, confirm=True)

    assert reasons == {
        "ACC-GEN-3": "no security question is set; add one under Settings > Password & Security"
    }
    life.fire(acc, "set_security_question", FL)
    close(life, acc, FL)
    assert acc.state is S.CLOSING


@pytest.mark.rule("ACC-GEN-4")
def test_acc_gen_4_a_flagged_account_is_told_to_contact_support(life: AccountLifecycle) -> None:
    acc = freelancer()
    acc.support_required = True

    reasons = refusal(life, acc, FL, confirm=True)

    assert reasons == {
        "ACC-GEN-4": "account fl-1 must be closed by support; contact support to go on"
    }
    close(life, acc, SUP)
    assert acc.state is S.CLOSING


@pytest.mark.rule("ACC-GEN-5")
def test_acc_gen_5_support_closes_only_when_its_checklist_is_clear(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = freelancer()
    facts.value = Obligations(
        contracts=(contract("C-3", "ending", dispute_open=True),),
        pending=Money(5_000),
        available=Money(1_000),
    )

    reasons = refusal(life, acc, SUP, confirm=True)

    assert reasons == {
        "ACC-GEN-5": "support's checklist is not clear: 1 contract not ended: C-3; 1 dispute "
        "open on C-3; US$50.00 still pending; US$10.00 not withdrawn"
    }
    close(life, acc, FL)  # the holder may wait these out in closing
    assert acc.state is S.CLOSING


@pytest.mark.rule("ACC-GEN-6")
def test_acc_gen_6_a_suspended_account_cannot_be_closed(life: AccountLifecycle) -> None:
    acc = freelancer()
    life.fire(acc, "suspend", SUP, reason=SuspensionReason.TERMS)

    reasons = refusal(life, acc, FL, confirm=True)

    assert reasons == {
        "ACC-GEN-6": "account fl-1 is suspended; it cannot be closed until the suspension is "
        "resolved, so contact support to escalate"
    }


@pytest.mark.rule("ACC-CLOSE-FL-3", "ACC-GEN-7")
def test_acc_gen_7_closing_is_checked_first_then_confirmed(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = freelancer()
    facts.value = Obligations(proposals=("P-1",))
    blocked = life.explain(acc, "request_close", FL)
    facts.value = Obligations()

    reasons = refusal(life, acc, FL)

    assert blocked.rule_ids == ("ACC-CLOSE-FL-3", "ACC-GEN-7")
    assert reasons == {
        "ACC-GEN-7": "account fl-1 meets the requirements; confirm to start closing (you may "
        "export your records first)"
    }
    close(life, acc, FL)
    assert acc.state is S.CLOSING


@pytest.mark.rule("ACC-GEN-7")
def test_acc_gen_7_the_holder_may_cancel_a_closing(life: AccountLifecycle, facts: Facts) -> None:
    acc = freelancer()
    facts.value = Obligations(pending=Money(100))
    close(life, acc, FL)

    life.fire(acc, "cancel_close", FL)

    assert acc.state is S.ACTIVE
    assert acc.close_requested_at is None


@pytest.mark.rule("ACC-GEN-8")
@pytest.mark.parametrize("reason", list(SuspensionReason))
def test_acc_gen_8_support_suspends_and_may_close_for_good(
    life: AccountLifecycle, reason: SuspensionReason
) -> None:
    acc = freelancer()

    life.fire(acc, "suspend", SUP, reason=reason)
    assert (acc.state, acc.suspension) == (S.SUSPENDED, reason)
    life.fire(acc, "permanent_close", SUP)

    assert acc.state is S.CLOSED


@pytest.mark.rule("ACC-GEN-8")
@pytest.mark.parametrize("actor", [FL, ANA, ENT, SYSTEM])
def test_acc_gen_8_only_support_suspends(life: AccountLifecycle, actor: Actor) -> None:
    acc = freelancer()

    with pytest.raises(NotPermitted):
        life.fire(acc, "suspend", actor, reason=SuspensionReason.TERMS)

    assert acc.state is S.ACTIVE


@pytest.mark.rule("ACC-GEN-8")
def test_acc_gen_8_suspension_cancels_a_closing(life: AccountLifecycle, facts: Facts) -> None:
    acc = company()
    facts.value = Obligations(
        contracts=(contract("C-1", "ended", Side.CLIENT, hourly=True, ended_at=START),)
    )
    close(life, acc, ANA)
    assert acc.deadlines

    life.fire(acc, "suspend", SUP, reason=SuspensionReason.BILLING)
    life.fire(acc, "reinstate", SUP)

    assert acc.state is S.ACTIVE
    assert acc.deadlines == ()
    assert acc.close_requested_at is None


# --------------------------------------------------------------------------- freelancer


@pytest.mark.rule("ACC-CLOSE-FL-1")
@pytest.mark.parametrize("actor", [OTHER_FL, ANA, AO, TOM, Actor("fl-1", Role.AGENCY_MEMBER)])
def test_acc_close_fl_1_only_the_holder_closes_a_freelancer_account(
    life: AccountLifecycle, actor: Actor
) -> None:
    acc = freelancer()

    with pytest.raises(NotPermitted, match=r"\[ACC-CLOSE-FL-1\] only the holder"):
        close(life, acc, actor)

    assert acc.state is S.ACTIVE


@pytest.mark.rule("ACC-CLOSE-FL-2")
def test_acc_close_fl_2_active_or_paused_contracts_block_closing(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = freelancer()
    facts.value = Obligations(
        contracts=(contract("C-1", "active"), contract("C-2", "paused"), contract("C-3", "ended"))
    )

    reasons = refusal(life, acc, FL, confirm=True)

    assert reasons == {
        "ACC-CLOSE-FL-2": "2 contracts still active or paused: C-1, C-2; end them under My Jobs"
    }


@pytest.mark.rule("ACC-CLOSE-FL-2")
def test_acc_close_fl_2_an_ending_contract_is_waited_out(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = freelancer()
    facts.value = Obligations(contracts=(contract("C-3", "ending"),))
    close(life, acc, FL)

    reasons = refusal(life, acc, SYSTEM, "settle")
    facts.value = Obligations(contracts=(contract("C-3", "ended"),))
    life.settle(acc)

    assert reasons == {
        "ACC-CLOSE-FL-2": "1 contract still ending: C-3; the account closes once they are settled"
    }
    assert acc.state is S.DEACTIVATED


@pytest.mark.rule("ACC-CLOSE-FL-3")
def test_acc_close_fl_3_open_proposals_and_offers_block_closing(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = freelancer()
    facts.value = Obligations(proposals=("P-1", "P-2", "P-3"), offers=("P-9",))

    reasons = refusal(life, acc, FL, confirm=True)

    assert reasons == {
        "ACC-CLOSE-FL-3": "3 proposals still open: P-1, P-2, P-3; withdraw them under "
        "Proposals; 1 offer waiting for an answer: P-9; decline or accept it"
    }


@pytest.mark.rule("ACC-CLOSE-FL-4")
def test_acc_close_fl_4_pending_money_is_waited_out_and_available_money_withdrawn(
    life: AccountLifecycle, facts: Facts, clock: ManualClock
) -> None:
    acc = freelancer()
    until = START + timedelta(days=5)
    facts.value = Obligations(pending=Money(5_000), pending_until=until)
    close(life, acc, FL)

    pending = refusal(life, acc, SYSTEM, "settle")
    facts.value = Obligations(available=Money(5_000))
    available = refusal(life, acc, SYSTEM, "settle")
    too_much = refusal(life, acc, FL, "withdraw", amount=Money(6_000))
    life.fire(acc, "withdraw", FL, amount=Money(5_000))
    facts.value = Obligations()
    life.settle(acc)

    assert pending == {"ACC-CLOSE-FL-4": "US$50.00 is still pending until 2026-03-07 09:00:00 UTC"}
    assert available == {"ACC-CLOSE-FL-4": "US$50.00 is available; withdraw it under Payments"}
    assert too_much == {"ACC-CLOSE-FL-4": "cannot withdraw US$60.00: only US$50.00 is available"}
    assert acc.state is S.DEACTIVATED


@pytest.mark.rule("ACC-CLOSE-FL-5")
def test_acc_close_fl_5_an_open_agency_must_be_closed_first(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = freelancer()
    facts.value = Obligations(agencies=("ag-1",))

    reasons = refusal(life, acc, FL, confirm=True)

    assert reasons == {
        "ACC-CLOSE-FL-5": "1 agency you own still open: ag-1; close it first under Settings > "
        "Agency Profile"
    }


# --------------------------------------------------------------------------- client company


@pytest.mark.rule("ACC-CLOSE-CL-1")
@pytest.mark.parametrize("actor", [ADA, HAL, SAM, TOM, OZ, FL])
def test_acc_close_cl_1_only_the_owner_closes_a_client_company(
    life: AccountLifecycle, actor: Actor
) -> None:
    acc = company()

    reasons = turned_away(life, acc, actor, confirm=True)

    assert reasons == {"ACC-CLOSE-CL-1": "only the owner of company co-1 can do this"}


@pytest.mark.rule("ACC-CLOSE-CL-2")
def test_acc_close_cl_2_other_members_must_be_removed(life: AccountLifecycle, facts: Facts) -> None:
    acc = company()
    facts.value = Obligations(members=("ada", "hal"))

    reasons = refusal(life, acc, ANA, confirm=True)

    assert reasons == {
        "ACC-CLOSE-CL-2": "2 other team members still in the company: ada, hal; remove them "
        "under Settings > Members"
    }


@pytest.mark.rule("ACC-CLOSE-CL-3")
def test_acc_close_cl_3_company_contracts_must_be_closed(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = company()
    facts.value = Obligations(contracts=(contract("C-1", "active", Side.CLIENT),))

    reasons = refusal(life, acc, ANA, confirm=True)

    assert reasons == {
        "ACC-CLOSE-CL-3": "1 contract still active or paused: C-1; end it under Jobs > Contracts"
    }


@pytest.mark.rule("ACC-CLOSE-CL-3")
def test_acc_close_cl_3_a_fixed_price_contract_still_ending_is_waited_out(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = company()
    facts.value = Obligations(contracts=(contract("C-2", "ending", Side.CLIENT),))
    close(life, acc, ANA)

    reasons = refusal(life, acc, SYSTEM, "settle")

    assert reasons == {
        "ACC-CLOSE-CL-3": "1 contract still ending: C-2; the account closes once they are settled"
    }


FRIDAY_END = datetime(2026, 3, 14, 0, 0, tzinfo=UTC)
"""The end of the Friday after the week in which a Wednesday-ended hourly contract ended."""


def _hourly_ended_wednesday(facts: Facts, *, dispute: bool = False) -> None:
    ended = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    facts.value = Obligations(
        contracts=(
            contract(
                "C-7", "ended", Side.CLIENT, hourly=True, ended_at=ended, dispute_open=dispute
            ),
        )
    )


@pytest.mark.rule("ACC-CLOSE-CL-4")
def test_acc_close_cl_4_the_billing_week_blocks_until_the_end_of_friday(
    life: AccountLifecycle, facts: Facts, clock: ManualClock
) -> None:
    acc = company()
    _hourly_ended_wednesday(facts)
    clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    close(life, acc, ANA)
    clock.set(FRIDAY_END - timedelta(seconds=1))

    reasons = refusal(life, acc, SYSTEM, "settle")
    assert life.advance(acc) == []

    assert reasons == {
        "ACC-CLOSE-CL-4": "the last billing week of 1 hourly contract is still open to disputes: "
        "C-7 until 2026-03-14 00:00:00 UTC; the company closes when it is over"
    }
    assert acc.state is S.CLOSING


@pytest.mark.rule("ACC-CLOSE-CL-4")
def test_acc_close_cl_4_the_company_closes_by_itself_at_saturday_midnight(
    life: AccountLifecycle, facts: Facts, clock: ManualClock
) -> None:
    acc = company()
    _hourly_ended_wednesday(facts)
    close(life, acc, ANA)
    clock.set(FRIDAY_END)

    fired = life.advance(acc)

    assert [d.event for d in fired] == ["billing_cycle_over", "settle"]
    assert acc.state is S.DEACTIVATED
    assert acc.closed_at == FRIDAY_END


@pytest.mark.rule("ACC-CLOSE-CL-4")
def test_acc_close_cl_4_an_open_hourly_dispute_keeps_the_week_open(
    life: AccountLifecycle, facts: Facts, clock: ManualClock
) -> None:
    acc = company()
    _hourly_ended_wednesday(facts, dispute=True)
    close(life, acc, ANA)
    clock.set(FRIDAY_END + timedelta(days=1))

    life.advance(acc)
    reasons = refusal(life, acc, SYSTEM, "settle")

    assert reasons["ACC-CLOSE-CL-4"].endswith(
        "C-7 (an hourly dispute is open); the company closes when it is over"
    )
    assert acc.state is S.CLOSING


@pytest.mark.rule("ACC-CLOSE-CL-5")
def test_acc_close_cl_5_open_job_posts_block_closing(life: AccountLifecycle, facts: Facts) -> None:
    acc = company()
    facts.value = Obligations(jobs=("J-4", "J-7", "J-9"))

    reasons = refusal(life, acc, ANA, confirm=True)

    assert reasons == {
        "ACC-CLOSE-CL-5": (
            "3 job posts still open: J-4, J-7, J-9; remove them under Jobs > Open Jobs"
        )
    }


@pytest.mark.rule("ACC-CLOSE-CL-6")
def test_acc_close_cl_6_outstanding_billing_must_be_paid(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = company()
    facts.value = Obligations(owed=Money(12_345))

    reasons = refusal(life, acc, ANA, confirm=True)
    wrong = refusal(life, acc, ANA, "pay_owed", amount=Money(99_999))
    life.fire(acc, "pay_owed", ANA, amount=Money(12_345))

    assert reasons == {
        "ACC-CLOSE-CL-6": "US$123.45 of billing is outstanding; pay it under Billing"
    }
    assert wrong == {"ACC-CLOSE-CL-6": "US$999.99 does not match what is owed (US$123.45)"}


@pytest.mark.rule("ACC-CLOSE-CL-2", "ACC-CLOSE-CL-3", "ACC-CLOSE-CL-8")
def test_acc_close_cl_8_a_contact_person_cannot_be_removed_before_their_contract_ends(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = company()
    facts.value = Obligations(
        members=("hal",), contracts=(contract("C-1", "active", Side.CLIENT, contact="hal"),)
    )

    reasons = refusal(life, acc, ANA, confirm=True)

    assert reasons["ACC-CLOSE-CL-8"] == (
        "1 member cannot be removed while they are the contact person on an active contract: "
        "hal (C-1); end or reassign those contracts first"
    )
    assert {"ACC-CLOSE-CL-2", "ACC-CLOSE-CL-3"} <= set(reasons)


# --------------------------------------------------------------------------- agency


@pytest.mark.rule("ACC-CLOSE-AG-1")
@pytest.mark.parametrize("actor", [BM, AM, FL, ANA])
def test_acc_close_ag_1_only_the_agency_owner_closes_it(
    life: AccountLifecycle, actor: Actor
) -> None:
    acc = agency()

    with pytest.raises(NotPermitted, match=r"\[ACC-CLOSE-AG-1\] only the owner of agency ag-1"):
        close(life, acc, actor)


@pytest.mark.rule("ACC-CLOSE-AG-2", "ACC-CLOSE-AG-3", "ACC-CLOSE-AG-4")
def test_acc_close_ag_2_to_4_members_contracts_and_proposals_block_closing(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = agency()
    facts.value = Obligations(
        members=("bm", "am"),
        contracts=(contract("C-5", "active", Side.AGENCY),),
        proposals=("P-5",),
    )

    reasons = refusal(life, acc, AO, confirm=True)

    assert reasons == {
        "ACC-CLOSE-AG-2": "2 agency members still in the agency: bm, am; remove them under "
        "Settings > Members",
        "ACC-CLOSE-AG-3": "1 contract still active or paused: C-5; end it under My Jobs",
        "ACC-CLOSE-AG-4": "1 agency proposal still open: P-5; withdraw or answer it under "
        "Proposals",
    }


@pytest.mark.rule("ACC-CLOSE-AG-3", "ACC-CLOSE-AG-5")
def test_acc_close_ag_3_and_5_ending_contracts_and_money_are_waited_out(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = agency()
    facts.value = Obligations(
        contracts=(contract("C-5", "ending", Side.AGENCY),), available=Money(700)
    )
    close(life, acc, AO)

    reasons = refusal(life, acc, SYSTEM, "settle")
    life.fire(acc, "withdraw", AO, amount=Money(700))

    assert reasons == {
        "ACC-CLOSE-AG-3": "1 contract still ending: C-5; the account closes once they are settled",
        "ACC-CLOSE-AG-5": "US$7.00 is available; withdraw it under Payments",
    }


@pytest.mark.rule("ACC-CLOSE-AG-10", "ACC-CLOSE-AG-6")
def test_acc_close_ag_6_and_10_a_closed_agency_is_closed_for_good(life: AccountLifecycle) -> None:
    """ACC-CLOSE-AG-6 and ACC-CLOSE-AG-10: no restorable stage for an agency."""
    acc = agency()
    close(life, acc, AO)

    life.settle(acc)

    assert acc.state is S.CLOSED
    assert acc.profile_deleted
    with pytest.raises(IllegalTransition):
        life.fire(acc, "support_reactivate", SUP)


@pytest.mark.rule("ACC-CLOSE-AG-7", "ACC-CLOSE-AG-8")
def test_acc_close_ag_7_and_8_the_owner_is_unlinked_and_the_jss_recomputed(
    life: AccountLifecycle, facts: Facts
) -> None:
    """ACC-CLOSE-AG-7 and ACC-CLOSE-AG-8: unlinked, JSS from personal contracts only."""
    owner = Account(
        id="ao",
        type=AccountType.FREELANCER,
        owner="ao",
        agency="ag-1",
        jss_basis=("C-1", "C-5", "C-6"),
    )
    facts.value = Obligations(personal_contracts=("C-1", "C-5"))

    life.fire(owner, "unlink_agency", SYSTEM)

    assert owner.state is S.ACTIVE
    assert owner.agency is None
    assert owner.jss_basis == ("C-1", "C-5")


# --------------------------------------------------------------------------- teams, enterprise


@pytest.mark.rule("ACC-CLOSE-TM-1")
def test_acc_close_tm_1_an_admin_closes_by_leaving_every_team(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = team_admin()
    facts.value = Obligations(teams=1)

    with pytest.raises(NotPermitted, match=r"\[ACC-CLOSE-TM-1\] an admin or manager"):
        close(life, acc, ADA_SELF)
    reasons = refusal(life, acc, SYSTEM, "teams_left")
    facts.value = Obligations(teams=0)
    life.fire(acc, "teams_left", SYSTEM)

    assert reasons == {"ACC-CLOSE-TM-1": "ada is still on 1 team"}
    assert acc.state is S.DEACTIVATED


@pytest.mark.rule("ACC-CLOSE-TM-1", "ACC-REACT-3", "ACC-TEAMS-D")
def test_acc_close_tm_1_only_support_restores_a_team_account(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = team_admin()
    life.fire(acc, "teams_left", SYSTEM)

    self_service = turned_away(life, acc, ADA_SELF, "request_reactivation_link")
    no_team = refusal(life, acc, SUP, "support_reactivate")
    facts.value = Obligations(teams=1)
    life.fire(acc, "support_reactivate", SUP)

    assert self_service == {
        "ACC-REACT-3": "account ada can be reactivated only by support because it is a team "
        "admin account"
    }
    assert no_team == {
        "ACC-TEAMS-D": "ada has no team left; invite them to a team before restoring the account"
    }
    assert acc.state is S.ACTIVE


@pytest.mark.rule("ACC-CLOSE-TM-2")
@pytest.mark.parametrize("actor", [TOM_SELF, SUP])
def test_acc_close_tm_2_a_colleague_cannot_close_their_account(
    life: AccountLifecycle, actor: Actor
) -> None:
    acc = team_member()

    with pytest.raises(NotPermitted, match=r"\[ACC-CLOSE-TM-2\]"):
        close(life, acc, actor)

    assert acc.state is S.ACTIVE


@pytest.mark.rule("ACC-CLOSE-TM-3")
@pytest.mark.parametrize("make", [freelancer, company, combined, agency])
def test_acc_close_tm_3_leaving_teams_does_not_close_an_account_with_another_role(
    life: AccountLifecycle, make: Callable[[], Account]
) -> None:
    acc = make()

    reasons = refusal(life, acc, SYSTEM, "teams_left")

    assert reasons == {
        "ACC-CLOSE-TM-3": f"account {acc.id} is a {acc.type.value} account; leaving teams does "
        "not close it"
    }


@pytest.mark.rule("ACC-CLOSE-ENT-1")
def test_acc_close_ent_1_the_owner_is_told_the_account_team_is_needed(
    life: AccountLifecycle,
) -> None:
    acc = enterprise()

    reasons = turned_away(life, acc, EVE, confirm=True)

    assert reasons == {
        "ACC-CLOSE-ENT-1": "closing Enterprise account ent-1 requires the account team; contact "
        "your Upwork account team"
    }


@pytest.mark.rule("ACC-CLOSE-ENT-1")
@pytest.mark.parametrize("actor", [EVA, SUP, ANA, Actor("acct", Role.ACCOUNT_TEAM, party="co-1")])
def test_acc_close_ent_1_nobody_else_closes_an_enterprise(
    life: AccountLifecycle, actor: Actor
) -> None:
    acc = enterprise()

    with pytest.raises(NotPermitted):
        close(life, acc, actor)

    assert acc.state is S.ACTIVE


@pytest.mark.rule("ACC-CLOSE-ENT-1")
def test_acc_close_ent_1_the_account_team_may_not_close_other_accounts(
    life: AccountLifecycle,
) -> None:
    acc = company()

    with pytest.raises(NotPermitted, match="acts only on Enterprise accounts"):
        close(life, acc, ENT)


@pytest.mark.rule("ACC-CLOSE-CL-2", "ACC-CLOSE-CL-5", "ACC-CLOSE-CL-6", "ACC-CLOSE-ENT-2")
def test_acc_close_ent_2_the_account_team_applies_the_company_guards(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = enterprise()
    facts.value = Obligations(jobs=("J-1",), members=("eva",), owed=Money(100))

    reasons = refusal(life, acc, ENT, confirm=True)
    facts.value = Obligations()
    close(life, acc, ENT)
    life.settle(acc)

    assert set(reasons) == {"ACC-CLOSE-CL-2", "ACC-CLOSE-CL-5", "ACC-CLOSE-CL-6"}
    assert acc.state is S.CLOSED


# --------------------------------------------------------------------------- deactivation


@pytest.mark.rule("ACC-DEACT-1")
def test_acc_deact_1_a_deactivated_profile_is_hidden_and_keeps_its_records(
    life: AccountLifecycle, clock: ManualClock
) -> None:
    acc = freelancer()
    close(life, acc, FL)
    life.settle(acc)
    clock.advance(days=3)

    life.fire(acc, "export_records", FL)

    assert acc.state is S.DEACTIVATED
    assert not acc.visible
    assert not acc.profile_deleted
    assert acc.exported_at == clock.now()


@pytest.mark.rule("ACC-DEACT-2")
def test_acc_deact_2_no_deactivation_while_a_contract_is_active(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = freelancer()
    close(life, acc, FL)
    facts.value = Obligations(contracts=(contract("C-9", "active", Side.CLIENT),))

    reasons = refusal(life, acc, SYSTEM, "settle")

    assert reasons == {
        "ACC-DEACT-2": "1 contract still active or paused: C-9; an account with work cannot "
        "deactivate"
    }


@pytest.mark.rule("ACC-DEACT-3")
def test_acc_deact_3_support_restores_the_profile(life: AccountLifecycle) -> None:
    acc = company()
    close(life, acc, ANA)
    life.settle(acc)

    life.fire(acc, "support_reactivate", SUP)

    assert acc.state is S.ACTIVE
    assert acc.visible
    assert acc.deadlines == ()


@pytest.mark.rule("ACC-DEL-1")
def test_acc_del_1_deletion_is_confirmed_and_final(life: AccountLifecycle) -> None:
    acc = freelancer()
    close(life, acc, FL)
    life.settle(acc)

    reasons = refusal(life, acc, FL, "delete_permanently")
    life.fire(acc, "delete_permanently", FL, confirm=True)

    assert reasons == {
        "ACC-DEL-1": "deleting account fl-1 cannot be undone; export your contracts, invoices, "
        "messages and work submissions first, then confirm"
    }
    assert (acc.state, acc.profile_deleted, acc.deadlines) == (S.CLOSED, True, ())


# --------------------------------------------------------------------------- reactivation


def _deactivated(life: AccountLifecycle, make: Callable[[], Account] = freelancer) -> Account:
    acc = make()
    closer = CLOSERS.get(acc.type, MAKERS[acc.type][1])
    close(life, acc, closer)
    life.settle(acc)
    assert acc.state is S.DEACTIVATED
    return acc


@pytest.mark.rule("ACC-REACT-1")
def test_acc_react_1_a_link_can_be_requested_until_just_before_5_years(
    life: AccountLifecycle, clock: ManualClock
) -> None:
    acc = _deactivated(life)
    clock.set(reactivation_deadline(START) - timedelta(seconds=1))

    life.fire(acc, "request_reactivation_link", FL)
    life.fire(acc, "confirm_reactivation", FL, token="fl-1-link-1")

    assert acc.state is S.ACTIVE


@pytest.mark.rule("ACC-REACT-1")
def test_acc_react_1_after_5_years_the_account_cannot_be_restored(
    life: AccountLifecycle, clock: ManualClock
) -> None:
    # The window's lapse fires first and closes the account for good; both attempts say so.
    acc = _deactivated(life)
    clock.set(reactivation_deadline(START))

    for actor, event in ((FL, "request_reactivation_link"), (SUP, "support_reactivate")):
        with pytest.raises(IllegalTransition) as illegal:
            life.fire(acc, event, actor)
        assert str(illegal.value).endswith(
            "in state 'closed': it became closed on 2031-03-02 09:00:00 UTC (five years "
            "passed: the account can no longer be restored), and that is final"
        )
    assert acc.state is S.DEACTIVATED  # refused: the lapse waits for the next event


@pytest.mark.rule("ACC-REACT-1")
def test_acc_react_1_an_account_kept_without_its_window_deadline_is_still_refused(
    life: AccountLifecycle, clock: ManualClock
) -> None:
    # A record that lost its window deadline (kept elsewhere, or written by an older
    # version) never lapses by itself; the rule still holds at five years.
    acc = _deactivated(life)
    acc.deadlines = ()
    clock.set(reactivation_deadline(START))

    by_holder = refusal(life, acc, FL, "request_reactivation_link")
    by_support = refusal(life, acc, SUP, "support_reactivate")

    expected = (
        "account fl-1 was closed on 2026-03-02 09:00:00 UTC; it could be restored until "
        "2031-03-02 09:00:00 UTC and now cannot"
    )
    assert by_holder == {"ACC-REACT-1": expected}
    assert by_support == {"ACC-REACT-1": expected}
    assert acc.state is S.DEACTIVATED


@pytest.mark.rule("ACC-REACT-1")
def test_acc_react_1_the_window_lapses_into_closed_by_itself(
    life: AccountLifecycle, clock: ManualClock
) -> None:
    acc = _deactivated(life)

    assert life.advance(acc, reactivation_deadline(START) - timedelta(seconds=1)) == []
    fired = life.advance(acc, reactivation_deadline(START))

    assert [d.event for d in fired] == ["reactivation_window_expired"]
    assert acc.state is S.CLOSED


@pytest.mark.rule("ACC-REACT-1")
def test_acc_react_1_five_years_from_29_february_ends_on_28_february() -> None:
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)

    assert reactivation_deadline(leap) == datetime(2033, 2, 28, 12, 0, tzinfo=UTC)


@pytest.mark.rule("ACC-REACT-2")
def test_acc_react_2_the_link_works_until_just_before_4_hours(
    life: AccountLifecycle, clock: ManualClock
) -> None:
    acc = _deactivated(life)
    life.fire(acc, "request_reactivation_link", FL)
    clock.advance(hours=4, seconds=-1)

    life.fire(acc, "confirm_reactivation", FL, token="fl-1-link-1")

    assert acc.state is S.ACTIVE
    assert acc.visible


@pytest.mark.rule("ACC-REACT-2")
def test_acc_react_2_the_link_expires_after_4_hours(
    life: AccountLifecycle, clock: ManualClock
) -> None:
    acc = _deactivated(life)
    life.fire(acc, "request_reactivation_link", FL)
    clock.advance(hours=4)

    reasons = refusal(life, acc, FL, "confirm_reactivation", token="fl-1-link-1")

    assert reasons == {
        "ACC-REACT-2": "this reactivation link expired at 2026-03-02 13:00:00 UTC; log in again "
        "to request a new one"
    }


@pytest.mark.rule("ACC-REACT-2")
def test_acc_react_2_a_new_link_replaces_the_old_one(life: AccountLifecycle) -> None:
    acc = _deactivated(life)
    life.fire(acc, "request_reactivation_link", FL)
    life.fire(acc, "request_reactivation_link", FL)

    reasons = refusal(life, acc, FL, "confirm_reactivation", token="fl-1-link-1")
    life.fire(acc, "confirm_reactivation", FL, token="fl-1-link-2")

    assert reasons == {
        "ACC-REACT-2": "this reactivation link is not valid; log in again to request a new one"
    }
    assert acc.state is S.ACTIVE


@pytest.mark.rule("ACC-REACT-2")
def test_acc_react_2_a_link_works_only_once(life: AccountLifecycle) -> None:
    acc = _deactivated(life)
    life.fire(acc, "request_reactivation_link", FL)
    life.fire(acc, "confirm_reactivation", FL, token="fl-1-link-1")
    close(life, acc, FL)
    life.settle(acc)

    reasons = refusal(life, acc, FL, "confirm_reactivation", token="fl-1-link-1")

    assert reasons == {
        "ACC-REACT-2": "this reactivation link was already used; log in again for a new one"
    }


@pytest.mark.rule("ACC-REACT-2")
def test_acc_react_2_only_the_holder_uses_the_link(life: AccountLifecycle) -> None:
    acc = _deactivated(life)
    life.fire(acc, "request_reactivation_link", FL)

    with pytest.raises(NotPermitted):
        life.fire(acc, "confirm_reactivation", OTHER_FL, token="fl-1-link-1")


@pytest.mark.rule("ACC-REACT-3")
@pytest.mark.parametrize(
    ("make", "actor", "why"),
    [
        (combined, PAT_FL, "it had both freelancer and client profiles"),
        (company, ANA, "it is a client account"),
    ],
)
def test_acc_react_3_combined_and_client_accounts_need_support(
    life: AccountLifecycle, make: Callable[[], Account], actor: Actor, why: str
) -> None:
    acc = _deactivated(life, make)

    reasons = turned_away(life, acc, actor, "request_reactivation_link")
    life.fire(acc, "support_reactivate", SUP)

    assert reasons == {
        "ACC-REACT-3": f"account {acc.id} can be reactivated only by support because {why}"
    }
    assert acc.state is S.ACTIVE


@pytest.mark.rule("ACC-REACT-4")
def test_acc_react_4_a_flagged_account_cannot_reactivate_itself(life: AccountLifecycle) -> None:
    acc = _deactivated(life)
    acc.support_required = True

    reasons = refusal(life, acc, FL, "request_reactivation_link")

    assert reasons == {
        "ACC-REACT-4": "account fl-1 is flagged by the platform; ask support to restore it"
    }


# --------------------------------------------------------------------------- decisions


@pytest.mark.rule("ACC-EXPORT-D")
def test_acc_export_d_the_close_request_offers_an_export_and_it_works_in_every_open_state(
    life: AccountLifecycle, clock: ManualClock, facts: Facts
) -> None:
    acc = freelancer()
    facts.value = Obligations(pending=Money(100))
    close(life, acc, FL)
    assert acc.export_offered_at == START

    for _ in range(2):
        clock.advance(hours=1)
        life.fire(acc, "export_records", FL)
        assert acc.exported_at == clock.now()
    life.fire(acc, "suspend", SUP, reason=SuspensionReason.TERMS)
    life.fire(acc, "export_records", SUP)

    assert acc.state is S.SUSPENDED


@pytest.mark.rule("ACC-TEAMS-D")
def test_acc_teams_d_a_team_account_reinstated_without_a_team_stays_deactivated(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = team_member()
    facts.value = Obligations(teams=1)
    life.fire(acc, "suspend", SUP, reason=SuspensionReason.TERMS)
    facts.value = Obligations(teams=0)

    life.fire(acc, "reinstate", SUP)

    assert acc.state is S.DEACTIVATED


def test_a_closed_account_accepts_nothing(life: AccountLifecycle) -> None:
    acc = freelancer()
    life.fire(acc, "suspend", SUP, reason=SuspensionReason.CIRCUMVENTION)
    life.fire(acc, "permanent_close", SUP)

    for event in life.spec.events:
        # the reactivation link's token is checked first: a forbidden row names that event
        arguments = {"token": "fl-1-link-1"} if event == "confirm_reactivation" else {}
        with pytest.raises(IllegalTransition, match=r"it became closed on .* and that is final"):
            life.fire(acc, event, SUP, **arguments)

    assert acc.state is S.CLOSED


@pytest.mark.parametrize("kind", list(AccountType))
def test_every_account_type_has_a_holder_who_may_export(
    life: AccountLifecycle, kind: AccountType
) -> None:
    make, holder = MAKERS[kind]
    acc = make()

    life.fire(acc, "export_records", holder)

    assert acc.exported_at == START


@pytest.mark.rule("ACC-CLOSE-CL-6")
def test_acc_close_cl_6_a_charge_that_fails_while_closing_is_paid_before_settling(
    life: AccountLifecycle, facts: Facts
) -> None:
    acc = company()
    close(life, acc, ANA)
    facts.value = Obligations(owed=Money(900))

    reasons = refusal(life, acc, SYSTEM, "settle")
    life.fire(acc, "pay_owed", ANA, amount=Money(900))
    facts.value = Obligations()
    life.settle(acc)

    assert reasons == {"ACC-CLOSE-CL-6": "US$9.00 of billing is outstanding; pay it under Billing"}
    assert acc.state is S.DEACTIVATED

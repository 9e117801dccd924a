"""MS-3 on a contract: milestones not funded yet are edited, deleted and chosen for funding.

The ``funded`` fixture has C-2-M1 (US$200.00) funded and C-2-M2 (US$100.00) in draft.
"""

from __future__ import annotations

import pytest

from statemachines import Contract, ContractLifecycle, MilestoneState, Money
from statemachines.machines.invariants import check_contract
from tests.machines.contract.conftest import FREELANCER, OWNER, at
from tests.machines.contract.test_hourly import refused

M = MilestoneState


@pytest.fixture
def drafts(lifecycle: ContractLifecycle, fixed: Contract) -> Contract:
    """The fixed-price contract with three milestones in draft: US$200, US$100, US$50."""
    for cents, title in ((20_000, "design"), (10_000, "build"), (5_000, "polish")):
        lifecycle.fire(fixed, "add_milestone", OWNER, amount=Money(cents), title=title)
    return fixed


@pytest.mark.rule("MS-3")
def test_ms_3_a_draft_milestone_is_edited_and_funded_at_its_new_amount(
    lifecycle: ContractLifecycle, drafts: Contract
) -> None:
    lifecycle.fire(
        drafts, "edit_milestone", OWNER, milestone="C-2-M1", amount=Money(15_000), title="mockups"
    )
    lifecycle.fire(drafts, "fund_milestone", OWNER)

    ms = drafts.milestones[0]
    assert (ms.amount, ms.title, ms.state) == (Money(15_000), "mockups", M.FUNDED)
    assert drafts.escrow_charged == Money(15_000)
    assert check_contract(drafts, at(2, 9)) == []


@pytest.mark.rule("MS-3")
def test_ms_3_a_funded_milestone_cannot_be_edited_or_deleted(
    lifecycle: ContractLifecycle, funded: Contract
) -> None:
    edit = refused(lifecycle, funded, "edit_milestone", OWNER, milestone="C-2-M1", title="x")
    delete = refused(lifecycle, funded, "delete_milestone", OWNER, milestone="C-2-M1")

    reason = (
        "milestone C-2-M1 is funded; only milestones that are not funded yet can be edited, "
        "deleted or chosen for funding"
    )
    assert (edit.rule_ids, edit.reasons) == (("MS-3",), (reason,))
    assert (delete.rule_ids, delete.reasons) == (("MS-3",), (reason,))


@pytest.mark.rule("MS-1", "MS-3")
def test_ms_1_an_edited_amount_is_still_at_least_us_5(
    lifecycle: ContractLifecycle, drafts: Contract
) -> None:
    err = refused(lifecycle, drafts, "edit_milestone", OWNER, milestone="C-2-M2", amount=Money(499))

    assert err.rule_ids == ("MS-1",)
    assert drafts.milestones[1].amount == Money(10_000)


@pytest.mark.rule("MS-3", "MS-2")
def test_ms_3_a_deleted_milestone_is_never_funded(
    lifecycle: ContractLifecycle, drafts: Contract
) -> None:
    lifecycle.fire(drafts, "delete_milestone", OWNER, milestone="C-2-M1")
    lifecycle.fire(drafts, "fund_milestone", OWNER)

    assert [m.state for m in drafts.milestones] == [M.DELETED, M.FUNDED, M.DRAFT]
    assert drafts.escrow_held == Money(10_000)
    err = refused(lifecycle, drafts, "edit_milestone", OWNER, milestone="C-2-M1", title="again")
    assert err.reasons == (
        "milestone C-2-M1 is deleted; only milestones that are not funded yet can be edited, "
        "deleted or chosen for funding",
    )
    assert check_contract(drafts, at(2, 9)) == []


@pytest.mark.rule("MS-3", "MS-2")
def test_ms_3_the_client_chooses_which_draft_to_fund(
    lifecycle: ContractLifecycle, drafts: Contract
) -> None:
    lifecycle.fire(drafts, "fund_milestone", OWNER, milestone="C-2-M3")

    assert [m.state for m in drafts.milestones] == [M.DRAFT, M.DRAFT, M.FUNDED]
    assert drafts.escrow_held == Money(5_000)
    lifecycle.fire(drafts, "submit_work", FREELANCER)
    assert drafts.milestones[2].state is M.SUBMITTED


@pytest.mark.rule("MS-3")
def test_ms_3_a_milestone_the_contract_does_not_have_cannot_be_chosen(
    lifecycle: ContractLifecycle, drafts: Contract
) -> None:
    err = refused(lifecycle, drafts, "fund_milestone", OWNER, milestone="C-9-M1")

    assert err.rule_ids == ("MS-3",)
    assert err.reasons == (
        "contract C-2 has no milestone C-9-M1 (its milestones: C-2-M1, C-2-M2, C-2-M3)",
    )


@pytest.mark.rule("MS-3", "CTR-END-9")
def test_ms_3_nothing_is_edited_after_the_end(
    lifecycle: ContractLifecycle, drafts: Contract
) -> None:
    lifecycle.fire(drafts, "end_contract", OWNER)

    err = refused(lifecycle, drafts, "delete_milestone", OWNER, milestone="C-2-M2")

    assert err.rule_ids == ("CTR-END-9",)

"""One test per milestone rule ID, on both sides of every boundary.

Each test names its rule ID first, so ``pytest -k ms_review_2`` finds it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import (
    SYSTEM,
    IllegalTransition,
    ManualClock,
    Milestone,
    MilestoneReview,
    MilestoneState,
    Money,
    NotPermitted,
    TransitionRefused,
)
from tests.conftest import START
from tests.machines.milestone.conftest import (
    ADMIN,
    AGENCY_MEMBER,
    AGENCY_OWNER,
    BUSINESS_MANAGER,
    CLIENT_SIDE,
    FREELANCER,
    HIRING,
    OTHER_CLIENT,
    OTHER_FREELANCER,
    OUTSIDE_MEMBER,
    OWNER,
    SOURCING,
    make_milestone,
)

M = MilestoneState
FOURTEEN_DAYS = timedelta(days=14)
SECOND = timedelta(seconds=1)


# --------------------------------------------------------------------------- MS-1


@pytest.mark.rule("MS-1")
def test_ms_1_funding_below_five_dollars_is_refused(review: MilestoneReview) -> None:
    ms = make_milestone(499)

    with pytest.raises(
        TransitionRefused, match=r"US\$4\.99; a milestone must be at least US\$5\.00"
    ):
        review.fire(ms, "fund", OWNER)

    assert ms.state is M.DRAFT
    assert ms.funded == Money(0)


@pytest.mark.rule("MS-1")
def test_ms_1_refusal_carries_rule_id_and_data(review: MilestoneReview) -> None:
    ms = make_milestone(100)

    with pytest.raises(TransitionRefused) as refused:
        review.fire(ms, "fund", OWNER)

    assert refused.value.rule_ids == ("MS-1",)
    assert refused.value.violations[0].data == {"amount": 100, "minimum": 500}


@pytest.mark.rule("MS-1")
def test_ms_1_exactly_five_dollars_can_be_funded(review: MilestoneReview) -> None:
    ms = make_milestone(500)

    review.fire(ms, "fund", OWNER)

    assert ms.state is M.FUNDED
    assert ms.funded == Money(500)


@pytest.mark.rule("MS-1")
def test_ms_1_a_draft_raised_to_the_minimum_can_be_funded(review: MilestoneReview) -> None:
    ms = make_milestone(300)

    review.fire(ms, "edit", OWNER, amount=Money(500))
    review.fire(ms, "fund", OWNER)

    assert ms.funded == Money(500)


# --------------------------------------------------------------------------- MS-3


@pytest.mark.rule("MS-3")
def test_ms_3_a_draft_can_be_edited(review: MilestoneReview, ms: Milestone) -> None:
    review.fire(ms, "edit", HIRING, amount=Money(7_500), title="Logo, round two")

    assert (ms.amount, ms.title, ms.state) == (Money(7_500), "Logo, round two", M.DRAFT)


@pytest.mark.rule("MS-3")
def test_ms_3_a_draft_can_be_deleted_and_then_accepts_nothing(
    review: MilestoneReview, ms: Milestone
) -> None:
    review.fire(ms, "delete", ADMIN)

    assert ms.state is M.DELETED
    with pytest.raises(IllegalTransition, match="it became deleted on 2026-03-02 09:00:00 UTC"):
        review.fire(ms, "fund", OWNER)


@pytest.mark.rule("MS-3")
def test_ms_3_a_funded_milestone_cannot_be_deleted(
    review: MilestoneReview, funded: Milestone
) -> None:
    with pytest.raises(TransitionRefused) as refused:
        review.fire(funded, "delete", OWNER)

    assert refused.value.rule_ids == ("MS-3",)
    assert refused.value.reasons == (
        "milestone M-1 is funded; only milestones that are not funded yet can be edited or deleted",
    )
    assert funded.state is M.FUNDED


@pytest.mark.rule("MS-3")
@pytest.mark.parametrize("state", ["funded", "submitted"])
def test_ms_3_an_active_milestone_cannot_be_edited(
    review: MilestoneReview, ms: Milestone, state: str
) -> None:
    review.fire(ms, "fund", OWNER)
    if state == "submitted":
        review.fire(ms, "submit", FREELANCER)

    with pytest.raises(
        TransitionRefused, match="only milestones that are not funded yet"
    ) as refused:
        review.fire(ms, "edit", OWNER, amount=Money(100_000))

    assert refused.value.rule_ids == ("MS-3",)
    assert ms.amount == Money(20_000)


# --------------------------------------------------------------------------- MS-4


@pytest.mark.rule("MS-4")
def test_ms_4_work_cannot_be_submitted_before_funding(
    review: MilestoneReview, ms: Milestone
) -> None:
    with pytest.raises(
        TransitionRefused, match="not funded yet; the client must fund it"
    ) as refused:
        review.fire(ms, "submit", FREELANCER)

    assert refused.value.rule_ids == ("MS-4",)
    assert ms.state is M.DRAFT
    assert ms.deadlines == ()


@pytest.mark.rule("MS-4")
def test_ms_4_funding_charges_the_amount_into_escrow(
    review: MilestoneReview, funded: Milestone
) -> None:
    assert funded.funded == Money(20_000)
    assert funded.held == Money(20_000)


@pytest.mark.rule("MS-4")
def test_ms_4_work_can_be_submitted_once_funded(review: MilestoneReview, funded: Milestone) -> None:
    review.fire(funded, "submit", FREELANCER)

    assert funded.state is M.SUBMITTED


# --------------------------------------------------------------------------- MS-SUBMIT-1


@pytest.mark.rule("MS-SUBMIT-1")
@pytest.mark.parametrize("actor", [AGENCY_OWNER, BUSINESS_MANAGER, AGENCY_MEMBER])
def test_ms_submit_1_agency_staff_submit_for_an_agency_contract(
    review: MilestoneReview, actor: object
) -> None:
    ms = make_milestone(agency=True)
    review.fire(ms, "fund", OWNER)

    review.fire(ms, "submit", actor)  # type: ignore[arg-type]

    assert ms.state is M.SUBMITTED


@pytest.mark.rule("MS-SUBMIT-1")
def test_ms_submit_1_a_client_cannot_submit(review: MilestoneReview, funded: Milestone) -> None:
    with pytest.raises(NotPermitted) as denied:
        review.fire(funded, "submit", OWNER)

    assert denied.value.rule_ids == ("MS-SUBMIT-1",)
    assert denied.value.reasons == (
        "a client owner cannot do this on milestone M-1; only the freelancer can",
    )
    assert denied.value.actor == "ana"
    assert "freelancer" in denied.value.allowed_roles
    assert funded.state is M.FUNDED


@pytest.mark.rule("MS-SUBMIT-1")
def test_ms_submit_1_another_freelancer_cannot_submit(
    review: MilestoneReview, funded: Milestone
) -> None:
    with pytest.raises(NotPermitted, match="milestone M-1 is the work of 'fl-1'"):
        review.fire(funded, "submit", OTHER_FREELANCER)


@pytest.mark.rule("MS-SUBMIT-1")
def test_ms_submit_1_a_freelancer_cannot_submit_for_an_agency_contract(
    review: MilestoneReview,
) -> None:
    ms = make_milestone(agency=True)
    review.fire(ms, "fund", OWNER)

    with pytest.raises(NotPermitted, match="an agency \\('ag-1'\\) holds this contract"):
        review.fire(ms, "submit", FREELANCER)


@pytest.mark.rule("MS-SUBMIT-1")
def test_ms_submit_1_another_agencys_member_cannot_submit(review: MilestoneReview) -> None:
    ms = make_milestone(agency=True)
    review.fire(ms, "fund", OWNER)

    with pytest.raises(NotPermitted, match="not by agency 'ag-2'"):
        review.fire(ms, "submit", OUTSIDE_MEMBER)


# --------------------------------------------------------------------------- MS-REVIEW-1


@pytest.mark.rule("MS-REVIEW-1")
def test_ms_review_1_submission_starts_a_14_day_review(submitted: Milestone) -> None:
    assert submitted.submitted_at == START
    assert submitted.review_due == START + FOURTEEN_DAYS


@pytest.mark.rule("MS-REVIEW-1")
@pytest.mark.parametrize("event", ["approve", "request_changes"])
def test_ms_review_1_client_can_act_one_second_before_the_deadline(
    review: MilestoneReview, submitted: Milestone, clock: ManualClock, event: str
) -> None:
    clock.set(START + FOURTEEN_DAYS - SECOND)

    review.fire(submitted, event, OWNER)

    assert submitted.state is (M.APPROVED if event == "approve" else M.CHANGES_REQUESTED)


@pytest.mark.rule("MS-REVIEW-1")
@pytest.mark.parametrize("event", ["approve", "request_changes"])
def test_ms_review_1_client_cannot_act_once_the_window_has_closed(
    review: MilestoneReview, submitted: Milestone, clock: ManualClock, event: str
) -> None:
    clock.set(START + FOURTEEN_DAYS)

    # The lapse fires first (MS-REVIEW-2) and approves it: the client's attempt finds it final.
    with pytest.raises(IllegalTransition) as illegal:
        review.fire(submitted, event, OWNER)

    assert str(illegal.value).endswith(
        "in state 'approved': it became approved on 2026-03-16 09:00:00 UTC (the review window "
        "lapsed: approve and release the full funded amount), and that is final"
    )
    assert submitted.state is M.SUBMITTED  # refused: nothing changed


# --------------------------------------------------------------------------- MS-REVIEW-2


@pytest.mark.rule("MS-REVIEW-2")
def test_ms_review_2_nothing_is_approved_one_second_before_the_deadline(
    review: MilestoneReview, submitted: Milestone
) -> None:
    fired = review.advance(submitted, START + FOURTEEN_DAYS - SECOND)

    assert fired == []
    assert submitted.state is M.SUBMITTED


@pytest.mark.rule("MS-REVIEW-2")
def test_ms_review_2_the_lapse_approves_exactly_once_at_the_deadline(
    review: MilestoneReview, submitted: Milestone
) -> None:
    first = review.advance(submitted, START + FOURTEEN_DAYS)
    again = review.advance(submitted, START + FOURTEEN_DAYS + timedelta(days=30))

    assert [d.event for d in first] == ["review_lapse"]
    assert first[0].actor == SYSTEM
    assert first[0].at == START + FOURTEEN_DAYS
    assert again == []
    assert submitted.state is M.APPROVED
    assert submitted.auto_approved is True
    assert submitted.released == Money(20_000)
    assert [d.event for d in submitted.history].count("review_lapse") == 1


@pytest.mark.rule("MS-REVIEW-2")
def test_ms_review_2_the_system_cannot_fire_the_lapse_early(
    review: MilestoneReview, submitted: Milestone, clock: ManualClock
) -> None:
    clock.set(START + FOURTEEN_DAYS - SECOND)

    with pytest.raises(
        TransitionRefused, match="it falls due at 2026-03-16 09:00:00 UTC"
    ) as refused:
        review.fire(submitted, "review_lapse", SYSTEM)

    assert refused.value.rule_ids == ("MS-REVIEW-2",)
    assert submitted.state is M.SUBMITTED


@pytest.mark.rule("MS-REVIEW-2")
def test_ms_review_2_nothing_fires_after_a_manual_approval(
    review: MilestoneReview, submitted: Milestone, clock: ManualClock
) -> None:
    clock.advance(days=3)
    review.fire(submitted, "approve", OWNER)

    fired = review.advance(submitted, START + timedelta(days=60))

    assert fired == []
    assert submitted.auto_approved is False
    assert submitted.deadlines == ()


@pytest.mark.rule("MS-REVIEW-2")
def test_ms_review_2_only_the_system_fires_the_lapse(
    review: MilestoneReview, submitted: Milestone, clock: ManualClock
) -> None:
    clock.set(START + FOURTEEN_DAYS)

    with pytest.raises(NotPermitted) as denied:
        review.fire(submitted, "review_lapse", FREELANCER)

    assert denied.value.rule_ids == ("MS-REVIEW-2",)
    assert denied.value.reasons == (
        "a freelancer cannot do this on milestone M-1; only the platform itself can",
    )


# --------------------------------------------------------------------------- MS-REVIEW-3


@pytest.mark.rule("MS-REVIEW-3")
def test_ms_review_3_changes_requested_one_second_before_cancel_the_auto_approval(
    review: MilestoneReview, submitted: Milestone, clock: ManualClock
) -> None:
    clock.set(START + FOURTEEN_DAYS - SECOND)

    review.fire(submitted, "request_changes", HIRING, message="The logo is too small")
    fired = review.advance(submitted, START + timedelta(days=365))

    assert fired == []
    assert submitted.state is M.CHANGES_REQUESTED
    assert submitted.review_due is None
    assert submitted.released == Money(0)


# --------------------------------------------------------------------------- MS-REVIEW-4


@pytest.mark.rule("MS-REVIEW-4")
@pytest.mark.parametrize("wait", [timedelta(hours=1), timedelta(days=13), timedelta(days=40)])
def test_ms_review_4_a_resubmission_always_restarts_the_14_days(
    review: MilestoneReview, submitted: Milestone, clock: ManualClock, wait: timedelta
) -> None:
    clock.advance(days=2)
    review.fire(submitted, "request_changes", OWNER)
    clock.advance(seconds=wait.total_seconds())

    review.fire(submitted, "resubmit", FREELANCER)

    assert submitted.state is M.RESUBMITTED
    assert submitted.review_due == clock.now() + FOURTEEN_DAYS
    assert submitted.submissions == 2


@pytest.mark.rule("MS-REVIEW-4")
def test_ms_review_4_the_old_deadline_is_superseded(
    review: MilestoneReview, submitted: Milestone, clock: ManualClock
) -> None:
    clock.advance(days=1)
    review.fire(submitted, "request_changes", OWNER)
    clock.advance(days=1)
    review.fire(submitted, "resubmit", FREELANCER)
    resubmitted_at = clock.now()

    early = review.advance(submitted, START + FOURTEEN_DAYS)  # the first window's end
    late = review.advance(submitted, resubmitted_at + FOURTEEN_DAYS)

    assert early == []
    assert [d.at for d in late] == [resubmitted_at + FOURTEEN_DAYS]
    assert submitted.state is M.APPROVED


# --------------------------------------------------------------------------- MS-REVIEW-5


@pytest.mark.rule("MS-REVIEW-5")
def test_ms_review_5_approving_without_an_amount_releases_everything(
    review: MilestoneReview, submitted: Milestone
) -> None:
    review.fire(submitted, "approve", ADMIN)

    assert (submitted.released, submitted.held) == (Money(20_000), Money(0))


@pytest.mark.rule("MS-REVIEW-5")
def test_ms_review_5_a_partial_release_leaves_the_rest_held(
    review: MilestoneReview, submitted: Milestone
) -> None:
    review.fire(submitted, "approve", OWNER, amount=Money(15_000))

    assert submitted.released == Money(15_000)
    assert submitted.held == Money(5_000)
    assert submitted.state is M.APPROVED


@pytest.mark.rule("MS-REVIEW-5")
def test_ms_review_5_releasing_more_charges_the_extra(
    review: MilestoneReview, submitted: Milestone
) -> None:
    review.fire(submitted, "approve", OWNER, amount=Money(25_000))

    assert submitted.released == Money(25_000)
    assert submitted.extra == Money(5_000)
    assert submitted.held == Money(0)


@pytest.mark.rule("MS-REVIEW-5")
def test_ms_review_5_an_approval_must_release_something(
    review: MilestoneReview, submitted: Milestone
) -> None:
    with pytest.raises(TransitionRefused, match="must release a positive amount") as refused:
        review.fire(submitted, "approve", OWNER, amount=Money(0))

    assert refused.value.rule_ids == ("MS-REVIEW-5",)
    assert submitted.state is M.SUBMITTED


@pytest.mark.rule("MS-REVIEW-5")
@pytest.mark.parametrize("actor", [SOURCING, FREELANCER, OTHER_CLIENT])
def test_ms_review_5_only_the_clients_deciders_approve(
    review: MilestoneReview, submitted: Milestone, actor: object
) -> None:
    with pytest.raises(NotPermitted):
        review.fire(submitted, "approve", actor)  # type: ignore[arg-type]

    assert submitted.state is M.SUBMITTED


# --------------------------------------------------------------------------- MS-REVIEW-6


@pytest.mark.rule("MS-REVIEW-6")
@pytest.mark.parametrize("actor", CLIENT_SIDE)
def test_ms_review_6_client_releases_without_a_submission(
    review: MilestoneReview, funded: Milestone, actor: object
) -> None:
    review.fire(funded, "release", actor)  # type: ignore[arg-type]

    assert funded.state is M.APPROVED
    assert funded.released == Money(20_000)
    assert funded.submissions == 0


@pytest.mark.rule("MS-REVIEW-5")
def test_ms_review_5_a_release_without_a_submission_must_release_something(
    review: MilestoneReview, funded: Milestone
) -> None:
    with pytest.raises(TransitionRefused) as refused:
        review.fire(funded, "release", OWNER, amount=Money(0))

    assert refused.value.rule_ids == ("MS-REVIEW-5",)
    assert refused.value.reasons[0].startswith(
        "approving milestone M-1 must release a positive amount, not US$0.00"
    )
    assert (funded.state, funded.released) == (M.FUNDED, Money(0))


@pytest.mark.rule("MS-REVIEW-6")
def test_ms_review_6_a_freelancer_cannot_release(
    review: MilestoneReview, funded: Milestone
) -> None:
    with pytest.raises(NotPermitted, match="'fl-1' \\(freelancer\\) may not 'release'"):
        review.fire(funded, "release", FREELANCER)


# --------------------------------------------------------------------------- MS-PAY-1


@pytest.mark.rule("MS-PAY-1")
def test_ms_pay_1_released_money_is_pending_for_five_days(
    review: MilestoneReview, submitted: Milestone, clock: ManualClock
) -> None:
    clock.advance(days=2)
    review.fire(submitted, "approve", OWNER)
    released_at = clock.now()

    assert submitted.available_at == released_at + timedelta(days=5)
    assert not submitted.is_available(released_at + timedelta(days=5) - SECOND)
    assert submitted.is_available(released_at + timedelta(days=5))


@pytest.mark.rule("MS-PAY-1")
def test_ms_pay_1_an_automatic_release_is_pending_from_the_deadline(
    review: MilestoneReview, submitted: Milestone
) -> None:
    review.advance(submitted, START + timedelta(days=30))

    assert submitted.available_at == START + FOURTEEN_DAYS + timedelta(days=5)


@pytest.mark.rule("MS-1")
def test_ms_1_applies_in_the_milestones_own_currency(review: MilestoneReview) -> None:
    ms = Milestone(
        id="M-9", contract="C-9", client="co-1", freelancer="fl-1", amount=Money(499, "EUR")
    )

    with pytest.raises(TransitionRefused, match=r"at least EUR 5\.00"):
        review.fire(ms, "fund", OWNER)
    review.fire(ms, "edit", OWNER, amount=Money(500, "EUR"))
    review.fire(ms, "fund", OWNER)

    assert ms.funded == Money(500, "EUR")

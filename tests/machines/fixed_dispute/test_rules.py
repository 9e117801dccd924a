"""One test (or more) per fixed-price dispute rule, on both sides of every boundary.

FPD-1..10, MS-DSP-1..2, FB-6, SUSP-2 and CTR-END-11 (mediation assistance, FPD-9, has its
own machine and tests in ``tests/machines/assistance``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import (
    SYSTEM,
    IllegalTransition,
    ManualClock,
    Money,
    NotPermitted,
    TransitionRefused,
    to_dict,
)
from statemachines.machines.contract.values import Side
from statemachines.machines.fixed_dispute import (
    FixedDispute,
    FixedDisputes,
    FixedDisputeState,
    Resolution,
    fee_shares,
)
from tests.machines.fixed_dispute.conftest import (
    AGENCY_OWNER,
    BUSINESS_MANAGER,
    FREELANCER,
    FRIDAY,
    HELD,
    HIRING,
    MEMBER,
    OTHER_CLIENT,
    OTHER_FREELANCER,
    OWNER,
    SOURCING,
    SUPPORT,
    dormant,
    ended,
    unreleased,
)

F = FixedDisputeState
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def _state(d: FixedDispute) -> FixedDisputeState:
    # A call, not the attribute, so the type checker does not narrow it between steps.
    return d.state


# --------------------------------------------------------------------------- FPD-1, FPD-10


@pytest.mark.rule("FPD-1", "TEAM-8")
@pytest.mark.parametrize(
    ("actor", "agency"),
    [(FREELANCER, False), (AGENCY_OWNER, True), (BUSINESS_MANAGER, True), (SUPPORT, False)],
    ids=["freelancer", "agency-owner", "business-manager", "support"],
)
def test_fpd_1_the_freelancer_side_files_about_money_held_at_the_end(
    disputes: FixedDisputes, actor: object, agency: bool
) -> None:
    d = ended(agency=agency)

    disputes.fire(d, "file", actor)  # type: ignore[arg-type]

    assert d.state is F.AWAITING_CLIENT
    assert d.filed_by == actor.id  # type: ignore[attr-defined]


@pytest.mark.rule("FPD-10", "FPD-1")
@pytest.mark.parametrize(
    "actor", [OWNER, HIRING, SOURCING, MEMBER], ids=["owner", "hiring", "sourcing", "member"]
)
def test_fpd_10_clients_and_agency_members_do_not_file(
    disputes: FixedDisputes, actor: object
) -> None:
    d = ended(agency=actor is MEMBER)

    with pytest.raises(NotPermitted):
        disputes.fire(d, "file", actor)  # type: ignore[arg-type]

    assert d.state is F.DRAFT


@pytest.mark.rule("FPD-1")
@pytest.mark.parametrize(
    ("dispute", "says"),
    [
        (ended(amount=Money(0)), "a dispute is about money still held"),
        (dormant(), "goes to mediation by itself"),
        (ended(ended_ago=None), "has not ended"),
        (unreleased("funded"), "milestone C-1-M1 is funded; only delivered work"),
    ],
    ids=["nothing-held", "dormant", "not-ended", "not-delivered"],
)
def test_fpd_1_only_the_two_cases_can_be_filed(
    disputes: FixedDisputes, dispute: FixedDispute, says: str
) -> None:
    with pytest.raises(TransitionRefused, match=says) as err:
        disputes.fire(dispute, "file", SUPPORT)

    assert "FPD-1" in err.value.rule_ids


# --------------------------------------------------------------------------- FPD-2, FB-6


@pytest.mark.rule("FPD-2")
@pytest.mark.parametrize(("ago", "ok"), [(7 * DAY, True), (7 * DAY + SECOND, False)])
def test_fpd_2_case_a_is_filed_within_7_days_of_the_end(
    disputes: FixedDisputes, ago: timedelta, ok: bool
) -> None:
    d = ended(ended_ago=ago)

    if ok:
        disputes.fire(d, "file", FREELANCER)
        assert d.state is F.AWAITING_CLIENT
    else:
        with pytest.raises(TransitionRefused, match="could be disputed until") as err:
            disputes.fire(d, "file", FREELANCER)
        assert err.value.rule_ids == ("FPD-2",)


@pytest.mark.rule("FB-6", "ESC-4")
def test_fb_6_the_freelancer_leaves_feedback_before_filing(disputes: FixedDisputes) -> None:
    d = ended(feedback=False)
    before = to_dict(d)

    with pytest.raises(TransitionRefused, match="leave feedback for the client") as err:
        disputes.fire(d, "file", FREELANCER)

    assert err.value.rule_ids == ("FB-6",)
    assert to_dict(d) == before


@pytest.mark.rule("FB-6")
def test_fb_6_a_running_contracts_dispute_needs_no_feedback(disputes: FixedDisputes) -> None:
    d = unreleased()

    disputes.fire(d, "file", SUPPORT)

    assert d.freelancer_feedback_at is None
    assert d.state is F.AWAITING_CLIENT


# ---------------------------------------------------------------- MS-DSP-1, MS-DSP-2, CTR-END-11


@pytest.mark.rule("MS-DSP-1")
@pytest.mark.parametrize("state", ["submitted", "resubmitted", "changes_requested"])
def test_ms_dsp_1_support_opens_a_dispute_about_delivered_work(
    disputes: FixedDisputes, state: str
) -> None:
    d = unreleased(state)

    disputes.fire(d, "file", SUPPORT)

    assert d.state is F.AWAITING_CLIENT


@pytest.mark.rule("MS-DSP-1")
def test_ms_dsp_1_the_freelancer_goes_through_support(disputes: FixedDisputes) -> None:
    with pytest.raises(NotPermitted, match="is opened through support"):
        disputes.fire(unreleased(), "file", FREELANCER)


@pytest.mark.rule("MS-DSP-1")
def test_ms_dsp_1_only_on_a_running_contract(disputes: FixedDisputes) -> None:
    d = unreleased()
    d.ended_at = FRIDAY - DAY

    with pytest.raises(TransitionRefused, match="is disputed while the contract runs") as err:
        disputes.fire(d, "file", SUPPORT)

    assert err.value.rule_ids == ("FPD-1",)


@pytest.mark.rule("MS-DSP-2", "CTR-END-11")
def test_ms_dsp_2_released_money_is_never_disputed(disputes: FixedDisputes) -> None:
    d = unreleased("approved")

    with pytest.raises(TransitionRefused, match="the client accepted the work") as err:
        disputes.fire(d, "file", SUPPORT)

    assert err.value.rule_ids == ("MS-DSP-2",)


# --------------------------------------------------------------------------- FPD-3, FPD-4


@pytest.mark.rule("FPD-3")
def test_fpd_3_the_client_has_5_business_days(disputes: FixedDisputes, filed: FixedDispute) -> None:
    assert filed.respond_by == FRIDAY + 7 * DAY  # a Friday to the next: 5 business days

    assert disputes.advance(filed, FRIDAY + 7 * DAY - SECOND) == []
    fired = disputes.advance(filed, FRIDAY + 7 * DAY)

    assert [(x.event, x.actor) for x in fired] == [("client_silence", SYSTEM)]
    assert filed.state is F.RESOLVED
    assert filed.resolution is Resolution.CLIENT_SILENT
    assert (filed.to_freelancer, filed.to_client) == (HELD, Money(0))


@pytest.mark.rule("FPD-3")
def test_fpd_3_a_late_answer_meets_the_money_already_released(
    disputes: FixedDisputes, filed: FixedDispute, friday: ManualClock
) -> None:
    friday.set(FRIDAY + 7 * DAY)

    # the client's silence resolved it first (ADR 0015): the answer meets a final dispute
    with pytest.raises(IllegalTransition, match="the client did not answer") as err:
        disputes.fire(filed, "accept", OWNER)

    assert "that is final" in str(err.value)


@pytest.mark.rule("FPD-4")
def test_fpd_4_accepting_releases_the_money(disputes: FixedDisputes, filed: FixedDispute) -> None:
    disputes.fire(filed, "accept", HIRING)

    assert filed.resolution is Resolution.CLIENT_ACCEPTED
    assert (filed.to_freelancer, filed.to_client) == (HELD, Money(0))
    assert filed.deadlines == ()


# --------------------------------------------------------------------------- FPD-5


@pytest.mark.rule("FPD-5")
@pytest.mark.parametrize(
    ("reason", "evidence", "missing"),
    [
        ("", "shot.png", "reason"),
        ("blank pages", "  ", "evidence"),
        ("", "", "reason and evidence"),
    ],
)
def test_fpd_5_declining_needs_a_reason_and_evidence(
    disputes: FixedDisputes, filed: FixedDispute, reason: str, evidence: str, missing: str
) -> None:
    with pytest.raises(TransitionRefused, match=f"needs a {missing}") as err:
        disputes.fire(filed, "decline", OWNER, reason=reason, evidence=evidence)

    assert err.value.rule_ids == ("FPD-5",)
    assert filed.state is F.AWAITING_CLIENT


@pytest.mark.rule("FPD-5")
def test_fpd_5_the_evidence_cannot_be_changed(
    disputes: FixedDisputes, mediating: FixedDispute
) -> None:
    assert (mediating.reason, mediating.evidence) == ("the pages are blank", ("shot-1.png",))

    with pytest.raises(TransitionRefused, match="cannot be changed") as err:
        disputes.fire(mediating, "decline", OWNER, reason="other", evidence="shot-2.png")

    assert err.value.rule_ids == ("FPD-5",)
    assert mediating.evidence == ("shot-1.png",)


@pytest.mark.rule("FPD-5")
def test_fpd_5_mediation_is_capped_at_30_days(
    disputes: FixedDisputes, mediating: FixedDispute
) -> None:
    assert mediating.mediation_ends == FRIDAY + 30 * DAY

    fired = disputes.advance(mediating, FRIDAY + 30 * DAY)

    assert [x.event for x in fired] == ["mediation_cap"]
    assert mediating.state is F.ARBITRATION_OFFER
    assert mediating.offer_due == FRIDAY + 37 * DAY


@pytest.mark.rule("FPD-5")
def test_fpd_5_a_proposal_must_split_the_whole_amount(
    disputes: FixedDisputes, mediating: FixedDispute
) -> None:
    with pytest.raises(TransitionRefused, match=r"make US\$140\.00, but US\$150\.00") as err:
        disputes.fire(
            mediating, "propose", SUPPORT, to_freelancer=Money(10_000), to_client=Money(4_000)
        )

    assert err.value.rule_ids == ("FPD-5",)


@pytest.mark.rule("FPD-5")
def test_fpd_5_both_sides_accepting_the_proposal_binds_it(
    disputes: FixedDisputes, mediating: FixedDispute
) -> None:
    disputes.fire(mediating, "propose", SUPPORT, to_freelancer=Money(9_000), to_client=Money(6_000))
    assert mediating.proposal_due == FRIDAY + 2 * DAY

    disputes.fire(mediating, "accept_proposal", FREELANCER)
    assert _state(mediating) is F.AWAITING_ACCEPTANCE
    with pytest.raises(TransitionRefused, match="already accepted"):
        disputes.fire(mediating, "accept_proposal", FREELANCER)
    disputes.fire(mediating, "accept_proposal", OWNER)

    assert _state(mediating) is F.RESOLVED
    assert mediating.resolution is Resolution.PROPOSAL_ACCEPTED
    assert (mediating.to_freelancer, mediating.to_client) == (Money(9_000), Money(6_000))


@pytest.mark.rule("FPD-5")
@pytest.mark.parametrize("how", ["decline", "lapse"])
def test_fpd_5_a_proposal_declined_or_left_2_days_ends_mediation(
    disputes: FixedDisputes, mediating: FixedDispute, how: str
) -> None:
    disputes.fire(mediating, "propose", SUPPORT, to_freelancer=Money(9_000), to_client=Money(6_000))
    if how == "decline":
        disputes.fire(mediating, "decline_proposal", FREELANCER)
    else:
        assert disputes.advance(mediating, FRIDAY + 2 * DAY - SECOND) == []
        disputes.advance(mediating, FRIDAY + 2 * DAY)

    assert mediating.state is F.ARBITRATION_OFFER
    assert mediating.mediation_ends is None


@pytest.mark.rule("FPD-5")
def test_fpd_5_the_sides_may_settle_in_mediation(
    disputes: FixedDisputes, mediating: FixedDispute
) -> None:
    disputes.fire(mediating, "settle", SUPPORT, to_freelancer=Money(1), to_client=Money(14_999))

    assert mediating.resolution is Resolution.SETTLED
    assert mediating.to_freelancer + mediating.to_client == HELD


# --------------------------------------------------------------------------- FPD-6, FPD-7


@pytest.mark.rule("FPD-6", "FPD-7")
def test_fpd_6_both_sides_pay_and_the_award_binds(
    disputes: FixedDisputes, offered: FixedDispute
) -> None:
    disputes.fire(offered, "pay_fee", OWNER)
    assert _state(offered) is F.ARBITRATION_OFFER
    disputes.fire(offered, "pay_fee", FREELANCER)
    assert _state(offered) is F.ARBITRATION
    assert offered.deadlines == ()

    disputes.fire(offered, "award", SUPPORT, to_freelancer=Money(12_000), to_client=Money(3_000))

    assert _state(offered) is F.AWARDED
    assert offered.resolution is Resolution.AWARD
    assert (offered.to_freelancer, offered.to_client) == (Money(12_000), Money(3_000))


@pytest.mark.rule("FPD-6")
@pytest.mark.parametrize(
    ("payers", "resolution", "to_freelancer"),
    [
        ((FREELANCER,), Resolution.FREELANCER_PAID_FEE, True),
        ((OWNER,), Resolution.CLIENT_PAID_FEE, False),
        ((), Resolution.NO_FEE_PAID, False),
    ],
    ids=["only-freelancer", "only-client", "neither"],
)
def test_fpd_6_after_7_days_the_money_follows_who_paid(
    disputes: FixedDisputes,
    offered: FixedDispute,
    payers: tuple[object, ...],
    resolution: Resolution,
    to_freelancer: bool,
) -> None:
    for payer in payers:
        disputes.fire(offered, "pay_fee", payer)  # type: ignore[arg-type]

    disputes.advance(offered, FRIDAY + 7 * DAY)

    assert offered.state is F.RESOLVED
    assert offered.resolution is resolution
    assert offered.to_freelancer == (HELD if to_freelancer else Money(0))
    assert offered.to_client == (Money(0) if to_freelancer else HELD)


@pytest.mark.rule("FPD-6")
def test_fpd_6_a_fee_is_paid_once_and_within_7_days(
    disputes: FixedDisputes, offered: FixedDispute, friday: ManualClock
) -> None:
    disputes.fire(offered, "pay_fee", OWNER)
    with pytest.raises(TransitionRefused, match="already paid its arbitration fee"):
        disputes.fire(offered, "pay_fee", HIRING)
    friday.set(FRIDAY + 7 * DAY)

    # the 7 days lapsed first (ADR 0015): only the client paid, so the money went to it
    with pytest.raises(IllegalTransition, match="it became resolved on 2026-03-13") as late:
        disputes.fire(offered, "pay_fee", FREELANCER)

    assert "that is final" in str(late.value)


@pytest.mark.rule("FPD-5")
def test_fpd_5_once_mediation_failed_the_proposal_cannot_be_answered(
    disputes: FixedDisputes, offered: FixedDispute
) -> None:
    with pytest.raises(TransitionRefused, match="mediation of dispute FD-1 is over") as err:
        disputes.fire(offered, "accept_proposal", FREELANCER)

    assert err.value.rule_ids == ("FPD-5",)


@pytest.mark.rule("FPD-6")
def test_fpd_6_an_award_splits_the_whole_amount(
    disputes: FixedDisputes, offered: FixedDispute
) -> None:
    disputes.fire(offered, "pay_fee", OWNER)
    disputes.fire(offered, "pay_fee", FREELANCER)

    with pytest.raises(TransitionRefused) as err:
        disputes.fire(offered, "award", SUPPORT, to_freelancer=HELD, to_client=Money(1))

    assert err.value.rule_ids == ("FPD-6",)


@pytest.mark.rule("FPD-7")
def test_fpd_7_the_sides_share_the_fee_and_the_platform_helps_large_disputes(
    offered: FixedDispute,
) -> None:
    assert (offered.platform_fee, offered.freelancer_fee, offered.client_fee) == (
        Money(0),
        Money(10_000),
        Money(10_000),
    )
    assert fee_shares(Money(100_001)) == (Money(10_000), Money(5_000), Money(5_000))
    assert fee_shares(Money(100_000)) == (Money(0), Money(10_000), Money(10_000))
    assert fee_shares(Money(5_000), Money(301)) == (Money(0), Money(150), Money(151))


# --------------------------------------------------------------------------- FPD-8, SUSP-2


@pytest.mark.rule("FPD-8", "SUSP-2")
@pytest.mark.parametrize(("side", "account"), [(Side.CLIENT, "co-1"), (Side.FREELANCER, "fl-1")])
def test_fpd_8_not_complying_with_the_award_suspends_the_account(
    disputes: FixedDisputes, offered: FixedDispute, side: Side, account: str
) -> None:
    disputes.fire(offered, "pay_fee", OWNER)
    disputes.fire(offered, "pay_fee", FREELANCER)
    disputes.fire(offered, "award", SUPPORT, to_freelancer=HELD, to_client=Money(0))

    disputes.fire(offered, "report_non_compliance", SUPPORT, side=side)

    assert offered.suspend == (account,)
    with pytest.raises(TransitionRefused, match="already reported") as err:
        disputes.fire(offered, "report_non_compliance", SUPPORT, side=side)
    assert err.value.rule_ids == ("FPD-8",)


@pytest.mark.rule("FPD-8")
def test_fpd_8_only_support_reports_non_compliance(
    disputes: FixedDisputes, offered: FixedDispute
) -> None:
    disputes.fire(offered, "pay_fee", OWNER)
    disputes.fire(offered, "pay_fee", FREELANCER)
    disputes.fire(offered, "award", SUPPORT, to_freelancer=HELD, to_client=Money(0))

    with pytest.raises(NotPermitted):
        disputes.fire(offered, "report_non_compliance", FREELANCER, side=Side.CLIENT)


# --------------------------------------------------------------------------- DORM-1, parties


@pytest.mark.rule("DORM-1")
def test_dorm_1_a_disputed_dormant_release_starts_in_mediation(disputes: FixedDisputes) -> None:
    d = dormant()

    disputes.fire(d, "mediate", SYSTEM)

    assert d.state is F.MEDIATION
    assert d.mediation_ends == FRIDAY + 30 * DAY


@pytest.mark.rule("FPD-5", "TEAM-5", "TEAM-8")
@pytest.mark.parametrize(
    "actor", [OTHER_CLIENT, OTHER_FREELANCER, SOURCING], ids=["other-co", "other-fl", "sourcing"]
)
def test_only_the_two_sides_answer_a_proposal(
    disputes: FixedDisputes, mediating: FixedDispute, actor: object
) -> None:
    disputes.fire(mediating, "propose", SUPPORT, to_freelancer=Money(9_000), to_client=Money(6_000))

    with pytest.raises(NotPermitted):
        disputes.fire(mediating, "accept_proposal", actor)  # type: ignore[arg-type]

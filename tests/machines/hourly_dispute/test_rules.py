"""One test (or more) per hourly-dispute rule, on both sides of every boundary.

Each test names its rule ID first, so ``pytest -k hdsp_3`` finds it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import SYSTEM, ManualClock, Money, NotPermitted, TransitionRefused, to_dict
from statemachines.machines.hourly_dispute import (
    HourlyDispute,
    HourlyDisputes,
    HourlyDisputeState,
    NoResponsePolicy,
    protected_minutes,
)
from tests.machines.hourly_dispute.conftest import (
    AGENCY_OWNER,
    BUSINESS_MANAGER,
    FREELANCER,
    HIRING,
    INVOICED,
    MEMBER,
    OTHER_CLIENT,
    OTHER_FREELANCER,
    OTHER_MEMBER,
    OUTSIDER,
    OWNER,
    REVIEW_CLOSES,
    SOURCING,
    SUPPORT,
    make_dispute,
)

H = HourlyDisputeState
SECOND = timedelta(seconds=1)


# --------------------------------------------------------------------------- HDSP-1


@pytest.mark.rule("HDSP-1", "BILL-4")
@pytest.mark.parametrize(
    "at", [INVOICED, REVIEW_CLOSES - SECOND], ids=["monday-noon", "friday-last-second"]
)
def test_hdsp_1_the_client_files_inside_the_review_window(clock: ManualClock, at: object) -> None:
    clock.set(at)  # type: ignore[arg-type]
    d = make_dispute()

    HourlyDisputes(clock=clock).fire(d, "file", HIRING, minutes=90)

    assert d.state is H.AWAITING_FREELANCER
    assert (d.minutes, d.filed_at) == (90, clock.now())


@pytest.mark.rule("HDSP-1", "BILL-4")
@pytest.mark.parametrize(
    ("at", "says"),
    [
        (INVOICED - SECOND, "is invoiced at 2026-03-09 12:00:00 UTC"),
        (REVIEW_CLOSES, "closed at 2026-03-14 00:00:00 UTC"),
        (REVIEW_CLOSES + timedelta(days=7), "closed at 2026-03-14 00:00:00 UTC"),
    ],
    ids=["before-invoice", "saturday-midnight", "a-week-later"],
)
def test_hdsp_1_outside_the_window_the_dispute_is_refused(
    clock: ManualClock, at: object, says: str
) -> None:
    clock.set(at)  # type: ignore[arg-type]
    d = make_dispute()
    before = to_dict(d)

    with pytest.raises(TransitionRefused, match=says) as refused:
        HourlyDisputes(clock=clock).fire(d, "file", OWNER, minutes=60)

    assert refused.value.rule_ids == ("HDSP-1",)
    assert to_dict(d) == before


@pytest.mark.rule("HDSP-1")
@pytest.mark.parametrize(
    ("minutes", "says"),
    [
        (0, "more than 0 minutes, not 0"),
        (-30, "not -30"),
        (601, "10 hours 1 minute is more than the 10 hours billed for week 2026-03-02"),
    ],
)
def test_hdsp_1_only_billed_hours_can_be_disputed(
    disputes: HourlyDisputes, minutes: int, says: str
) -> None:
    d = make_dispute()

    with pytest.raises(TransitionRefused, match=says) as refused:
        disputes.fire(d, "file", OWNER, minutes=minutes)

    assert refused.value.rule_ids == ("HDSP-1",)
    assert d.state is H.DRAFT


@pytest.mark.rule("HDSP-1")
def test_hdsp_1_every_billed_minute_may_be_disputed(disputes: HourlyDisputes) -> None:
    d = make_dispute()

    disputes.fire(d, "file", OWNER, minutes=600)

    assert d.disputed_amount == Money(30_000)


@pytest.mark.rule("HDSP-1", "TEAM-5")
@pytest.mark.parametrize(
    "actor",
    [FREELANCER, AGENCY_OWNER, SUPPORT, SOURCING, OTHER_CLIENT],
    ids=["freelancer", "agency-owner", "support", "sourcing-member", "other-company"],
)
def test_hdsp_1_only_the_client_files(disputes: HourlyDisputes, actor: object) -> None:
    d = make_dispute()

    with pytest.raises(NotPermitted):
        disputes.fire(d, "file", actor, minutes=60)  # type: ignore[arg-type]

    assert d.state is H.DRAFT


# --------------------------------------------------------------------------- HDSP-2


@pytest.mark.rule("HDSP-2")
def test_hdsp_2_filing_holds_the_hours_and_pauses_the_contract(
    disputes: HourlyDisputes,
) -> None:
    d = make_dispute()
    assert (d.pauses_contract, d.held) == (False, 0)

    disputes.fire(d, "file", OWNER, minutes=150)

    assert (d.pauses_contract, d.held) == (True, 150)


@pytest.mark.rule("HDSP-2")
@pytest.mark.parametrize("end", ["accept", "decide", "cancel"])
def test_hdsp_2_the_hold_and_the_pause_end_with_the_dispute(
    disputes: HourlyDisputes, filed: HourlyDispute, end: str
) -> None:
    if end == "accept":
        disputes.fire(filed, "accept", FREELANCER)
    elif end == "decide":
        disputes.fire(filed, "decline", FREELANCER)
        assert filed.pauses_contract
        disputes.fire(filed, "decide", SUPPORT)
    else:
        disputes.fire(filed, "cancel", OWNER)

    assert (filed.pauses_contract, filed.held) == (False, 0)


# --------------------------------------------------------------------------- HDSP-3


@pytest.mark.rule("HDSP-3")
def test_hdsp_3_the_freelancer_has_three_days(
    disputes: HourlyDisputes, filed: HourlyDispute, in_review: ManualClock
) -> None:
    assert filed.respond_by == in_review.now() + timedelta(days=3)
    in_review.advance(days=3, seconds=-1)

    disputes.fire(filed, "decline", FREELANCER)

    assert filed.state is H.SUPPORT_REVIEW
    assert filed.respond_by is None


@pytest.mark.rule("HDSP-3")
def test_hdsp_3_an_answer_after_three_days_is_refused(
    disputes: HourlyDisputes, filed: HourlyDispute, in_review: ManualClock
) -> None:
    in_review.advance(days=3)

    # the lapse of the 3 days fires first (ADR 0015) and hands the dispute to support
    with pytest.raises(TransitionRefused, match="nobody answered it within 3 days") as err:
        disputes.fire(filed, "accept", FREELANCER)

    assert err.value.rule_ids == ("HDSP-3",)
    assert filed.state is H.AWAITING_FREELANCER


@pytest.mark.rule("HDSP-3")
def test_hdsp_3_once_with_support_the_freelancer_cannot_answer(
    disputes: HourlyDisputes, filed: HourlyDispute
) -> None:
    disputes.fire(filed, "decline", FREELANCER)

    with pytest.raises(TransitionRefused, match="the freelancer side declined it") as err:
        disputes.fire(filed, "accept", FREELANCER)

    assert err.value.rule_ids == ("HDSP-3",)


# --------------------------------------------------------------------------- HDSP-4


@pytest.mark.rule("HDSP-4")
def test_hdsp_4_accepting_refunds_every_disputed_hour(
    disputes: HourlyDisputes, filed: HourlyDispute
) -> None:
    disputes.fire(filed, "accept", FREELANCER)

    assert filed.state is H.RESOLVED
    assert (filed.refunded, filed.paid) == (120, 0)
    assert filed.refund_amount == Money(6_000)
    assert filed.paid_amount == Money(0)
    assert filed.deadlines == ()


# --------------------------------------------------------------------------- HDSP-5, CTR-HR-5


@pytest.mark.rule("HDSP-5", "CTR-HR-5")
def test_hdsp_5_support_pays_covered_hours_and_refunds_the_rest(
    disputes: HourlyDisputes, filed: HourlyDispute
) -> None:
    disputes.fire(filed, "decline", FREELANCER)

    disputes.fire(filed, "decide", SUPPORT, manual=30, idle=10)

    assert filed.state is H.RESOLVED
    assert (filed.paid, filed.refunded, filed.excluded) == (80, 40, 40)
    assert filed.refund_amount == Money(2_000)
    assert filed.paid_amount == Money(4_000)


@pytest.mark.rule("CTR-HR-5")
@pytest.mark.parametrize("missing", ["id_verified", "billing_verified", "good_standing"])
def test_ctr_hr_5_without_a_requirement_nothing_is_covered(
    disputes: HourlyDisputes, filed: HourlyDispute, missing: str
) -> None:
    disputes.fire(filed, "decline", FREELANCER)

    disputes.fire(filed, "decide", SUPPORT, **{missing: False})

    assert (filed.paid, filed.refunded) == (0, 120)


@pytest.mark.rule("CTR-HR-5")
def test_ctr_hr_5_each_excluded_kind_of_time_is_left_out() -> None:
    assert protected_minutes(600) == 600
    assert protected_minutes(600, manual=60, idle=30, over_limit=45, unsupported=15) == 450
    assert protected_minutes(60, manual=90) == 0


@pytest.mark.rule("CTR-HR-5")
@pytest.mark.parametrize(
    ("review", "says"),
    [
        ({"manual": 100, "idle": 21}, "finds 2 hours 1 minute not covered, but only 2 hours"),
        ({"idle": -5}, "cannot be negative"),
    ],
)
def test_ctr_hr_5_a_review_must_fit_the_disputed_time(
    disputes: HourlyDisputes, filed: HourlyDispute, review: dict[str, int], says: str
) -> None:
    disputes.fire(filed, "decline", FREELANCER)

    with pytest.raises(TransitionRefused, match=says) as err:
        disputes.fire(filed, "decide", SUPPORT, **review)

    assert err.value.rule_ids == ("CTR-HR-5",)
    assert filed.state is H.SUPPORT_REVIEW


# --------------------------------------------------------------------------- HDSP-6, SUSP-4


@pytest.mark.rule("HDSP-6")
def test_hdsp_6_by_default_silence_sends_the_dispute_to_support(
    disputes: HourlyDisputes, filed: HourlyDispute, in_review: ManualClock
) -> None:
    fired = disputes.advance(filed, in_review.now() + timedelta(days=3))

    assert [d.event for d in fired] == ["response_lapse"]
    assert fired[0].actor == SYSTEM
    assert filed.state is H.SUPPORT_REVIEW
    assert filed.silent
    assert filed.pauses_contract


@pytest.mark.rule("HDSP-6", "SUSP-4")
@pytest.mark.parametrize("suspend", [False, True])
def test_hdsp_6_under_the_older_policy_silence_refunds_everything(
    disputes: HourlyDisputes, in_review: ManualClock, suspend: bool
) -> None:
    d = make_dispute(policy=NoResponsePolicy.REFUND_ALL, suspend_on_silence=suspend)
    disputes.fire(d, "file", OWNER, minutes=200)

    disputes.advance(d, in_review.now() + timedelta(days=3))

    assert d.state is H.RESOLVED
    assert (d.refunded, d.paid) == (200, 0)
    assert d.suspend == (("fl-1",) if suspend else ())


@pytest.mark.rule("SUSP-4")
def test_susp_4_answering_in_time_suspends_no_one(
    disputes: HourlyDisputes, in_review: ManualClock
) -> None:
    d = make_dispute(policy=NoResponsePolicy.REFUND_ALL, suspend_on_silence=True)
    disputes.fire(d, "file", OWNER, minutes=200)

    disputes.fire(d, "accept", FREELANCER)

    assert d.suspend == ()


# --------------------------------------------------------------------------- HDSP-7


@pytest.mark.rule("HDSP-7")
@pytest.mark.parametrize("stage", ["awaiting", "review"])
def test_hdsp_7_the_client_withdraws_and_every_hour_is_paid(
    disputes: HourlyDisputes, filed: HourlyDispute, stage: str
) -> None:
    if stage == "review":
        disputes.fire(filed, "decline", FREELANCER)

    disputes.fire(filed, "cancel", HIRING)

    assert filed.state is H.CANCELLED
    assert (filed.paid, filed.refunded) == (120, 0)
    assert filed.paid_amount == filed.disputed_amount == Money(6_000)


@pytest.mark.rule("HDSP-7")
def test_hdsp_7_a_decided_dispute_cannot_be_withdrawn(
    disputes: HourlyDisputes, filed: HourlyDispute
) -> None:
    disputes.fire(filed, "accept", FREELANCER)

    with pytest.raises(TransitionRefused, match="was decided on") as err:
        disputes.fire(filed, "cancel", OWNER)

    assert err.value.rule_ids == ("HDSP-7",)


@pytest.mark.rule("HDSP-7")
def test_hdsp_7_the_freelancer_cannot_withdraw_the_clients_dispute(
    disputes: HourlyDisputes, filed: HourlyDispute
) -> None:
    with pytest.raises(NotPermitted):
        disputes.fire(filed, "cancel", FREELANCER)


# --------------------------------------------------------------------------- HDSP-8


@pytest.mark.rule("HDSP-8", "TEAM-8")
@pytest.mark.parametrize(
    "answerer", [MEMBER, BUSINESS_MANAGER, AGENCY_OWNER], ids=["member", "manager", "owner"]
)
def test_hdsp_8_on_an_agency_contract_the_member_or_a_manager_answers(
    disputes: HourlyDisputes, answerer: object
) -> None:
    d = make_dispute(agency=True)
    disputes.fire(d, "file", OWNER, minutes=60)
    assert d.notified == ("am", "ag-1")

    disputes.fire(d, "decline", answerer)  # type: ignore[arg-type]

    assert d.state is H.SUPPORT_REVIEW
    assert d.answered_by == answerer.id  # type: ignore[attr-defined]


@pytest.mark.rule("HDSP-8")
@pytest.mark.parametrize(
    ("actor", "says"),
    [
        (OTHER_MEMBER, "only the member who logged the hours"),
        (OUTSIDER, "not of 'ag-2'"),
        (FREELANCER, "its people answer"),
    ],
    ids=["another-member", "another-agency", "a-freelancer"],
)
def test_hdsp_8_no_one_else_answers_for_the_agency(
    disputes: HourlyDisputes, actor: object, says: str
) -> None:
    d = make_dispute(agency=True)
    disputes.fire(d, "file", OWNER, minutes=60)

    with pytest.raises(NotPermitted, match=says):
        disputes.fire(d, "accept", actor)  # type: ignore[arg-type]


@pytest.mark.rule("HDSP-8")
def test_hdsp_8_an_individual_freelancer_alone_is_told_and_answers(
    disputes: HourlyDisputes, filed: HourlyDispute
) -> None:
    assert filed.notified == ("fl-1",)

    with pytest.raises(NotPermitted, match="is about the hours of 'fl-1'"):
        disputes.fire(filed, "accept", OTHER_FREELANCER)

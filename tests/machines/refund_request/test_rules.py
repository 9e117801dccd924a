"""One test (or more) per refund-request rule, on both sides of every boundary."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import SYSTEM, ManualClock, Money, NotPermitted, TransitionRefused, to_dict
from statemachines.machines.refund_request import (
    ClientRefundRequest,
    RefundRequests,
    RefundRequestState,
)
from tests.machines.refund_request.conftest import (
    AGENCY_OWNER,
    BALANCE,
    BUSINESS_MANAGER,
    FREELANCER,
    HIRING,
    MEMBER,
    OTHER_CLIENT,
    OTHER_FREELANCER,
    OWNER,
    SOURCING,
    SUPPORT,
    make_request,
)

R = RefundRequestState
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


# --------------------------------------------------------------------------- REF-REQ-1


@pytest.mark.rule("REF-REQ-1")
@pytest.mark.parametrize(
    ("age", "state"),
    [
        (timedelta(0), R.REQUESTED),
        (180 * DAY, R.REQUESTED),
        (180 * DAY + SECOND, R.NEEDS_SUPPORT),
        (365 * DAY, R.NEEDS_SUPPORT),
    ],
    ids=["same-day", "day-180", "day-181", "day-365"],
)
def test_ref_req_1_the_payments_age_decides_who_handles_it(
    requests: RefundRequests, age: timedelta, state: RefundRequestState
) -> None:
    r = make_request(age)

    requests.fire(r, "request", HIRING, amount=Money(5_000))

    assert r.state is state
    assert (r.amount, r.requested_by) == (Money(5_000), "hal")
    assert bool(r.deadlines) == (state is R.REQUESTED)


@pytest.mark.rule("REF-REQ-1")
def test_ref_req_1_a_payment_over_365_days_old_cannot_be_asked_back(
    requests: RefundRequests,
) -> None:
    r = make_request(365 * DAY + SECOND)

    with pytest.raises(TransitionRefused, match="is 366 days old; a refund can be requested") as e:
        requests.fire(r, "request", OWNER, amount=Money(5_000))

    assert e.value.rule_ids == ("REF-REQ-1",)
    assert r.state is R.DRAFT


@pytest.mark.rule("REF-REQ-1")
def test_ref_req_1_support_alone_settles_an_old_payments_request(
    requests: RefundRequests,
) -> None:
    r = make_request(200 * DAY)
    requests.fire(r, "request", OWNER, amount=Money(5_000))

    with pytest.raises(TransitionRefused, match="was 200 days old when the refund was asked") as e:
        requests.fire(r, "give_refund", FREELANCER, amount=Money(5_000), balance=BALANCE)

    assert e.value.rule_ids == ("REF-REQ-1",)


@pytest.mark.rule("REF-REQ-1", "TEAM-5")
@pytest.mark.parametrize(
    "actor", [SOURCING, OTHER_CLIENT, FREELANCER], ids=["sourcing", "other-company", "freelancer"]
)
def test_ref_req_1_only_the_paying_client_asks(requests: RefundRequests, actor: object) -> None:
    with pytest.raises(NotPermitted):
        requests.fire(make_request(), "request", actor, amount=Money(5_000))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- REF-180-2 (amounts)


@pytest.mark.rule("REF-180-2")
@pytest.mark.parametrize(
    ("amount", "says"),
    [(0, "asks for more than US\\$0.00"), (40_001, "more than the US\\$400.00 that can still")],
)
def test_ref_180_2_the_request_is_within_the_payment(
    requests: RefundRequests, amount: int, says: str
) -> None:
    r = make_request()

    with pytest.raises(TransitionRefused, match=says) as e:
        requests.fire(r, "request", OWNER, amount=Money(amount))

    assert e.value.rule_ids == ("REF-180-2",)


@pytest.mark.rule("REF-180-2", "REF-180-4")
@pytest.mark.parametrize(
    ("amount", "state"),
    [(10_000, R.GRANTED_FULL), (2_500, R.GRANTED_PARTIAL), (1, R.GRANTED_PARTIAL)],
)
def test_ref_180_2_granted_in_full_or_in_part(
    requests: RefundRequests,
    asked: ClientRefundRequest,
    amount: int,
    state: RefundRequestState,
) -> None:
    requests.fire(asked, "give_refund", FREELANCER, amount=Money(amount), balance=BALANCE)

    assert asked.state is state
    assert asked.granted == Money(amount)
    assert asked.deadlines == ()


@pytest.mark.rule("REF-180-2")
@pytest.mark.parametrize(
    ("amount", "says"),
    [(0, "to refund nothing, decline"), (10_001, "more than the US\\$100.00 the client asked")],
)
def test_ref_180_2_a_grant_is_more_than_nothing_and_at_most_what_was_asked(
    requests: RefundRequests, asked: ClientRefundRequest, amount: int, says: str
) -> None:
    with pytest.raises(TransitionRefused, match=says) as e:
        requests.fire(asked, "give_refund", FREELANCER, amount=Money(amount), balance=BALANCE)

    assert e.value.rule_ids == ("REF-180-2",)
    assert asked.state is R.REQUESTED


@pytest.mark.rule("REF-180-2")
def test_ref_180_2_the_freelancer_may_decline(
    requests: RefundRequests, asked: ClientRefundRequest
) -> None:
    requests.fire(asked, "decline", FREELANCER)

    assert asked.state is R.DECLINED
    assert asked.granted == Money(0)


# --------------------------------------------------------------------------- REF-180-1, -3


@pytest.mark.rule("REF-180-3")
def test_ref_180_3_a_grant_is_within_the_freelancers_balance(
    requests: RefundRequests, asked: ClientRefundRequest
) -> None:
    with pytest.raises(TransitionRefused, match=r"balance of US\$99\.99") as e:
        requests.fire(asked, "give_refund", FREELANCER, amount=Money(10_000), balance=Money(9_999))

    assert e.value.rule_ids == ("REF-180-3",)


@pytest.mark.rule("REF-180-1", "REF-REQ-EXPIRE-D")
def test_ref_req_expire_d_the_request_lapses_when_the_payment_turns_180_days_old(
    requests: RefundRequests, asked: ClientRefundRequest, clock: ManualClock
) -> None:
    lapse = asked.paid_at + 180 * DAY
    assert requests.advance(asked, lapse - SECOND) == []

    fired = requests.advance(asked, lapse)

    assert [(d.event, d.actor) for d in fired] == [("expire", SYSTEM)]
    assert asked.state is R.EXPIRED
    clock.set(lapse + DAY)
    with pytest.raises(TransitionRefused, match="lapsed on") as e:
        requests.fire(asked, "give_refund", FREELANCER, amount=Money(100), balance=BALANCE)
    assert e.value.rule_ids == ("REF-180-1",)


@pytest.mark.rule("REF-180-1")
def test_ref_180_1_on_day_180_the_freelancer_can_still_refund(
    requests: RefundRequests, asked: ClientRefundRequest, clock: ManualClock
) -> None:
    clock.set(asked.paid_at + 180 * DAY - SECOND)

    requests.fire(asked, "give_refund", FREELANCER, amount=Money(10_000), balance=BALANCE)

    assert asked.state is R.GRANTED_FULL


@pytest.mark.rule("REF-180-1")
def test_ref_180_1_a_refund_past_180_days_is_refused_even_before_the_lapse_fires(
    asked: ClientRefundRequest, clock: ManualClock
) -> None:
    clock.set(asked.paid_at + 180 * DAY + SECOND)
    before = to_dict(asked)

    # the request's lapse at 180 days fires first (ADR 0015): the refusal names it
    with pytest.raises(TransitionRefused, match="it can no longer be refunded") as e:
        RefundRequests(clock=clock).fire(
            asked, "give_refund", FREELANCER, amount=Money(100), balance=BALANCE
        )

    assert e.value.rule_ids == ("REF-180-1",)
    assert to_dict(asked) == before


# --------------------------------------------------------------------------- REF-REQ-4, TEAM-8


@pytest.mark.rule("REF-REQ-4")
def test_ref_req_4_a_client_cannot_ask_an_agency_directly(requests: RefundRequests) -> None:
    r = make_request(agency=True)

    with pytest.raises(NotPermitted, match="refund requests to an agency go through support"):
        requests.fire(r, "request", OWNER, amount=Money(5_000))

    assert r.state is R.DRAFT


@pytest.mark.rule("REF-REQ-4", "TEAM-8")
@pytest.mark.parametrize("answerer", [AGENCY_OWNER, BUSINESS_MANAGER], ids=["owner", "manager"])
def test_ref_req_4_support_files_it_and_the_agency_answers(
    requests: RefundRequests, answerer: object
) -> None:
    r = make_request(agency=True)
    requests.fire(r, "request", SUPPORT, amount=Money(5_000))

    requests.fire(r, "give_refund", answerer, amount=Money(5_000), balance=BALANCE)  # type: ignore[arg-type]

    assert (r.state, r.requested_by) == (R.GRANTED_FULL, "sue")


@pytest.mark.rule("TEAM-8")
@pytest.mark.parametrize(
    "actor", [MEMBER, FREELANCER, OTHER_FREELANCER], ids=["agency-member", "freelancer", "other"]
)
def test_team_8_agency_members_do_not_refund(requests: RefundRequests, actor: object) -> None:
    r = make_request(agency=True)
    requests.fire(r, "request", SUPPORT, amount=Money(5_000))

    with pytest.raises(NotPermitted):
        requests.fire(r, "decline", actor)  # type: ignore[arg-type]

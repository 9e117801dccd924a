"""DORM-1, step by step: every notice, window and outcome, and what restarts or extends it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import ManualClock, Money, NotPermitted, TransitionRefused
from statemachines.machines.dormancy import (
    Dormancy,
    DormancyOutcome,
    DormancyState,
    DormancyWatch,
)
from tests.conftest import START
from tests.machines.dormancy.conftest import (
    AGENCY_OWNER,
    BUSINESS_MANAGER,
    FREELANCER,
    HELD,
    HIRING,
    MEMBER,
    OTHER_CLIENT,
    OTHER_FREELANCER,
    OWNER,
    PLATFORM,
    make_watch,
)

D = DormancyState
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def _state(d: Dormancy) -> DormancyState:
    # A call, not the attribute: the type checker would narrow the attribute to the first
    # state asserted and call every later check of the same watch unreachable.
    return d.state


def _to(watch: DormancyWatch, d: Dormancy, day: timedelta) -> list[str]:
    return [x.event for x in watch.advance(d, START + day)]


@pytest.mark.rule("DORM-1")
def test_dorm_1_notices_on_day_76_and_83_then_dormant_on_day_90(
    watch: DormancyWatch, watching: Dormancy
) -> None:
    assert _to(watch, watching, 76 * DAY - SECOND) == []
    assert _to(watch, watching, 76 * DAY) == ["first_notice"]
    assert (_state(watching), watching.notices) == (D.WATCHING, 1)
    assert _to(watch, watching, 83 * DAY - SECOND) == []
    assert _to(watch, watching, 83 * DAY) == ["second_notice"]
    assert watching.notices == 2
    assert _to(watch, watching, 90 * DAY - SECOND) == []
    assert _to(watch, watching, 90 * DAY) == ["go_dormant"]

    assert _state(watching) is D.CLIENT_WINDOW
    assert watching.window_closes == START + 97 * DAY


@pytest.mark.rule("DORM-1")
def test_dorm_1_nothing_held_nothing_watched(watch: DormancyWatch) -> None:
    d = make_watch()

    watch.fire(d, "activity", PLATFORM, held=Money(0))

    assert d.state is D.IDLE
    assert d.deadlines == ()
    assert watch.advance(d, START + 400 * DAY) == []


@pytest.mark.rule("DORM-1")
@pytest.mark.parametrize("day", [10, 80, 85, 92])
def test_dorm_1_any_activity_restarts_the_90_days(
    watch: DormancyWatch, watching: Dormancy, clock: ManualClock, day: int
) -> None:
    _to(watch, watching, day * DAY)
    clock.set(START + day * DAY)

    watch.fire(watching, "activity", PLATFORM, held=HELD)

    assert watching.state is D.WATCHING
    assert watching.dormant_at == START + (day + 90) * DAY
    assert _to(watch, watching, (day + 76) * DAY - SECOND) == []


@pytest.mark.rule("DORM-1")
def test_dorm_1_releasing_everything_stops_the_watch(
    watch: DormancyWatch, watching: Dormancy, clock: ManualClock
) -> None:
    clock.advance(days=30)

    watch.fire(watching, "activity", PLATFORM, held=Money(0))

    assert watching.state is D.IDLE
    assert watching.dormant_at is None


@pytest.mark.rule("DORM-1")
def test_dorm_1_adding_a_milestone_extends_by_90_days(
    watch: DormancyWatch, watching: Dormancy, clock: ManualClock
) -> None:
    clock.advance(days=10)

    watch.fire(watching, "activity", PLATFORM, held=HELD, added=True)

    assert watching.dormant_at == START + 180 * DAY  # 90 days after the old date


@pytest.mark.rule("DORM-1")
def test_dorm_1_a_milestone_added_late_counts_from_now_at_least(
    watch: DormancyWatch, watching: Dormancy, clock: ManualClock
) -> None:
    clock.advance(days=85)

    watch.fire(watching, "activity", PLATFORM, held=HELD, added=True)

    assert watching.dormant_at == START + 180 * DAY
    clock.advance(days=5)
    watch.fire(watching, "activity", PLATFORM, held=HELD, added=True)
    assert watching.dormant_at == START + 270 * DAY


@pytest.mark.rule("DORM-1")
def test_dorm_1_a_future_due_date_keeps_the_contract_from_closing(
    watch: DormancyWatch,
) -> None:
    d = make_watch()
    due = START + 120 * DAY

    watch.fire(d, "activity", PLATFORM, held=HELD, due=due)

    assert d.dormant_at == due + 90 * DAY
    assert _to(watch, d, 196 * DAY - SECOND) == []
    assert d.state is D.WATCHING
    assert _to(watch, d, 210 * DAY) == ["first_notice", "second_notice", "go_dormant"]


@pytest.mark.rule("DORM-1")
def test_dorm_1_an_earlier_due_date_never_shortens_the_count(watch: DormancyWatch) -> None:
    d = make_watch()
    watch.fire(d, "activity", PLATFORM, held=HELD, due=START + 120 * DAY)

    watch.fire(d, "activity", PLATFORM, held=HELD, due=START + 5 * DAY)

    assert d.latest_due == START + 120 * DAY
    assert d.dormant_at == START + 210 * DAY


@pytest.mark.rule("DORM-1", "TEAM-5")
@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("release_funds", (DormancyOutcome.CLIENT_RELEASED, True, False)),
        ("take_back_funds", (DormancyOutcome.CLIENT_TOOK_BACK, False, True)),
    ],
)
def test_dorm_1_the_client_settles_in_its_7_days(
    watch: DormancyWatch,
    watching: Dormancy,
    clock: ManualClock,
    event: str,
    expected: tuple[DormancyOutcome, bool, bool],
) -> None:
    outcome, to_freelancer, ends = expected
    _to(watch, watching, 90 * DAY)
    clock.set(START + 97 * DAY - SECOND)

    watch.fire(watching, event, HIRING)

    assert watching.state is D.SETTLED
    assert watching.outcome is outcome
    assert (watching.to_freelancer, watching.to_client) == (
        (HELD, Money(0)) if to_freelancer else (Money(0), HELD)
    )
    assert watching.ends_contract is ends
    assert watching.deadlines == ()


@pytest.mark.rule("DORM-1")
def test_dorm_1_nobody_acting_returns_everything_and_ends_the_contract(
    watch: DormancyWatch, watching: Dormancy
) -> None:
    assert _to(watch, watching, 104 * DAY - SECOND)[-1] == "client_window_lapse"
    assert watching.state is D.FREELANCER_WINDOW

    assert _to(watch, watching, 104 * DAY) == ["freelancer_window_lapse"]

    assert _state(watching) is D.CLOSED
    assert watching.outcome is DormancyOutcome.NOBODY_ACTED
    assert (watching.to_client, watching.to_freelancer, watching.ends_contract) == (
        HELD,
        Money(0),
        True,
    )


def _asked_release(watch: DormancyWatch, d: Dormancy, clock: ManualClock) -> None:
    _to(watch, d, 97 * DAY)
    clock.set(START + 100 * DAY)
    watch.fire(d, "request_release", FREELANCER)


@pytest.mark.rule("DORM-1")
def test_dorm_1_client_silence_after_a_release_request_releases(
    watch: DormancyWatch, watching: Dormancy, clock: ManualClock
) -> None:
    _asked_release(watch, watching, clock)
    assert watching.state is D.RELEASE_REVIEW
    assert watching.window_closes == START + 114 * DAY

    assert _to(watch, watching, 114 * DAY) == ["release_review_lapse"]

    assert _state(watching) is D.RELEASED
    assert watching.to_freelancer == HELD
    assert not watching.ends_contract


@pytest.mark.rule("DORM-1")
@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("approve_release", (D.RELEASED, DormancyOutcome.RELEASED_ON_REQUEST, HELD)),
        ("dispute_release", (D.MEDIATION, DormancyOutcome.DISPUTED, Money(0))),
    ],
)
def test_dorm_1_the_client_approves_or_disputes_the_release(
    watch: DormancyWatch,
    watching: Dormancy,
    clock: ManualClock,
    event: str,
    expected: tuple[DormancyState, DormancyOutcome, Money],
) -> None:
    _asked_release(watch, watching, clock)
    clock.advance(days=13)

    watch.fire(watching, event, OWNER)

    assert (watching.state, watching.outcome, watching.to_freelancer) == expected
    assert watching.to_client == Money(0)


@pytest.mark.rule("DORM-1")
@pytest.mark.parametrize(("day", "says"), [(40, "is not dormant"), (92, "has until")])
def test_dorm_1_the_freelancer_asks_only_in_its_own_window(
    watch: DormancyWatch, watching: Dormancy, clock: ManualClock, day: int, says: str
) -> None:
    _to(watch, watching, day * DAY)
    clock.set(START + day * DAY)

    with pytest.raises(TransitionRefused, match=says) as err:
        watch.fire(watching, "request_release", FREELANCER)

    assert err.value.rule_ids == ("DORM-1",)


@pytest.mark.rule("DORM-1", "TEAM-8")
@pytest.mark.parametrize(
    ("actor", "ok"),
    [
        (AGENCY_OWNER, True),
        (BUSINESS_MANAGER, True),
        (MEMBER, False),
        (FREELANCER, False),
        (OWNER, False),
    ],
    ids=["owner", "manager", "member", "freelancer", "client"],
)
def test_dorm_1_on_an_agency_contract_its_managers_ask(
    watch: DormancyWatch, clock: ManualClock, actor: object, ok: bool
) -> None:
    d = make_watch(agency=True)
    watch.fire(d, "activity", PLATFORM, held=HELD)
    _to(watch, d, 97 * DAY)
    clock.set(START + 98 * DAY)

    if ok:
        watch.fire(d, "request_release", actor)  # type: ignore[arg-type]
        assert d.state is D.RELEASE_REVIEW
    else:
        with pytest.raises(NotPermitted):
            watch.fire(d, "request_release", actor)  # type: ignore[arg-type]


@pytest.mark.rule("DORM-1")
@pytest.mark.parametrize("actor", [OTHER_CLIENT, OTHER_FREELANCER, FREELANCER])
def test_dorm_1_only_the_client_acts_in_its_window(
    watch: DormancyWatch, watching: Dormancy, clock: ManualClock, actor: object
) -> None:
    _to(watch, watching, 90 * DAY)
    clock.set(START + 91 * DAY)

    with pytest.raises(NotPermitted):
        watch.fire(watching, "release_funds", actor)  # type: ignore[arg-type]

"""An account's standing (SUSP-3, SUSP-5): notices, their 30 days, excessive disputes."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import pytest
from hypothesis.stateful import invariant, run_state_machine_as_test

from statemachines import SYSTEM, ManualClock, NotPermitted, TransitionRefused, to_dict
from statemachines.machines.standing import STANDING, Standing, StandingDesk, StandingState
from statemachines.rules.standing import EXCESSIVE_DISPUTES
from statemachines.testing.cast import AO as OWNER
from statemachines.testing.cast import SUP as SUPPORT
from tests.machines import tables

S = StandingState
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


@pytest.fixture
def desk(clock: ManualClock) -> StandingDesk:
    return StandingDesk(clock=clock)


@pytest.mark.rule("SUSP-5")
def test_susp_5_a_notice_restricts_nothing_for_30_days(
    desk: StandingDesk, clock: ManualClock
) -> None:
    s = Standing(id="fl-1")
    desk.fire(s, "issue_notice", SUPPORT)

    with pytest.raises(TransitionRefused, match="nothing is restricted before then") as err:
        desk.fire(s, "recommend_closure", SUPPORT)

    assert err.value.rule_ids == ("SUSP-5",)
    assert (s.suspend, s.close) == ((), False)
    assert desk.advance(s, clock.now() + 30 * DAY - SECOND) == []
    desk.advance(s, clock.now() + 30 * DAY)
    assert s.state is S.REVIEW_DUE


@pytest.mark.rule("SUSP-5")
@pytest.mark.parametrize(
    ("event", "state", "close"), [("clear", S.GOOD, False), ("recommend_closure", S.CLOSURE, True)]
)
def test_susp_5_after_30_days_support_clears_or_recommends_closing(
    desk: StandingDesk, clock: ManualClock, event: str, state: S, close: bool
) -> None:
    s = Standing(id="fl-1")
    desk.fire(s, "issue_notice", SUPPORT)
    desk.advance(s, clock.now() + 30 * DAY)
    clock.advance(days=31)

    desk.fire(s, event, SUPPORT)

    assert (s.state, s.close) == (state, close)


@pytest.mark.rule("SUSP-3")
def test_susp_3_excessive_disputes_suspend_the_whole_agency(
    desk: StandingDesk, clock: ManualClock
) -> None:
    s = Standing(id="ag-1", agency=True)
    for _ in range(EXCESSIVE_DISPUTES - 1):
        desk.fire(s, "record_dispute", SYSTEM)
        clock.advance(days=10)
    with pytest.raises(TransitionRefused, match="4 hourly disputes against ag-1's") as err:
        desk.fire(s, "suspend_for_disputes", SUPPORT)
    desk.fire(s, "record_dispute", SYSTEM)

    desk.fire(s, "suspend_for_disputes", SUPPORT)

    assert err.value.rule_ids == ("SUSP-3",)
    assert s.suspend == ("ag-1",)


@pytest.mark.rule("SUSP-3")
def test_susp_3_old_disputes_and_non_agencies_do_not_count(
    desk: StandingDesk, clock: ManualClock
) -> None:
    agency, freelancer = Standing(id="ag-1", agency=True), Standing(id="fl-1")
    for _ in range(EXCESSIVE_DISPUTES):
        desk.fire(agency, "record_dispute", SYSTEM)
        desk.fire(freelancer, "record_dispute", SYSTEM)
    clock.advance(days=90)

    with pytest.raises(TransitionRefused, match="0 hourly disputes"):
        desk.fire(agency, "suspend_for_disputes", SUPPORT)
    with pytest.raises(TransitionRefused, match="is not an agency"):
        desk.fire(freelancer, "suspend_for_disputes", SUPPORT)


@pytest.mark.rule("SUSP-3", "SUSP-5")
def test_only_support_acts_on_standing(desk: StandingDesk) -> None:
    with pytest.raises(NotPermitted):
        desk.fire(Standing(id="ag-1", agency=True), "issue_notice", OWNER)


ILLEGAL = tables.illegal_pairs(STANDING)


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=tables.pair_ids(ILLEGAL))
def test_an_event_without_an_edge_is_illegal_and_changes_nothing(
    desk: StandingDesk, state: StandingState, event: str
) -> None:
    actor = tables.actor_for(STANDING, event, (SUPPORT,))

    tables.assert_illegal(desk, Standing(id="fl-1"), state, event, actor)


def test_a_standing_round_trips_and_replays(desk: StandingDesk) -> None:
    first = to_dict(Standing(id="ag-1", agency=True))
    s = Standing(id="ag-1", agency=True)
    desk.fire(s, "record_dispute", SYSTEM)
    desk.fire(s, "issue_notice", SUPPORT)

    tables.assert_round_trip(s)
    tables.assert_replays(StandingDesk, first, s)


class StandingMachine(tables.TableMachine):
    """An agency and a freelancer: notices, reviews, disputes recorded, suspensions."""

    spec = STANDING
    workflow_type = StandingDesk
    reached: ClassVar[set[str]] = set()
    steps = (DAY, 30 * DAY, SECOND, 10 * DAY)
    actors = (SUPPORT, SYSTEM, OWNER)

    def aggregates(self) -> list[Standing]:
        return [Standing(id="ag-1", agency=True), Standing(id="fl-1")]

    @invariant()
    def suspensions_only_for_agencies_with_enough_disputes(self) -> None:
        for s in self.items:
            assert not s.suspend or s.agency
            assert (s.state is S.NOTICED) == bool(s.deadlines)


def test_standing_machine() -> None:
    StandingMachine.reached = set()

    run_state_machine_as_test(StandingMachine, settings=tables.DETERMINISTIC)

    assert tables.reached_every_state(STANDING, StandingMachine.reached) == []

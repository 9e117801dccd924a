"""Mid-contract feedback (FB-5): rules on both sides of each boundary, table, property run."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import pytest
from hypothesis.stateful import invariant, run_state_machine_as_test

from statemachines import SYSTEM, Actor, ManualClock, NotPermitted, Role, TransitionRefused, to_dict
from statemachines.machines.mid_feedback import (
    MID_FEEDBACK,
    MidFeedback,
    MidFeedbackRequests,
    MidFeedbackState,
)
from statemachines.testing.cast import AM as MEMBER
from statemachines.testing.cast import ANA as OWNER
from statemachines.testing.cast import FL as FREELANCER
from statemachines.testing.cast import OTHER_FL as OTHER
from tests.conftest import START
from tests.machines import tables

M = MidFeedbackState
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
MANAGER = Actor("bm", Role.BUSINESS_MANAGER, party="ag-1")


def make(started_ago: timedelta = 40 * DAY, *, agency: bool = False) -> MidFeedback:
    return MidFeedback(
        id="MF-1",
        contract="C-1",
        client="co-1",
        freelancer="ag-1" if agency else "fl-1",
        agency=agency,
        started_at=START - started_ago,
    )


@pytest.fixture
def flow(clock: ManualClock) -> MidFeedbackRequests:
    return MidFeedbackRequests(clock=clock)


@pytest.fixture
def paid(flow: MidFeedbackRequests) -> MidFeedback:
    m = make()
    flow.fire(m, "payment_made", SYSTEM)
    return m


@pytest.mark.rule("FB-5")
@pytest.mark.parametrize(("age", "ok"), [(30 * DAY, True), (30 * DAY - SECOND, False)])
def test_fb_5_the_contract_is_30_days_old(
    flow: MidFeedbackRequests, age: timedelta, ok: bool
) -> None:
    m = make(age)
    flow.fire(m, "payment_made", SYSTEM)

    if ok:
        flow.fire(m, "request", FREELANCER)
        assert m.state is M.REQUESTED
    else:
        with pytest.raises(TransitionRefused, match="feedback can be asked for from") as err:
            flow.fire(m, "request", FREELANCER)
        assert err.value.rule_ids == ("FB-5",)


@pytest.mark.rule("FB-5")
@pytest.mark.parametrize(("ago", "ok"), [(30 * DAY, True), (30 * DAY + SECOND, False)])
def test_fb_5_a_payment_in_the_last_30_days(
    flow: MidFeedbackRequests, clock: ManualClock, ago: timedelta, ok: bool
) -> None:
    m = make()
    flow.fire(m, "payment_made", SYSTEM)
    clock.advance(seconds=ago.total_seconds())
    m.started_at = START - 40 * DAY

    if ok:
        flow.fire(m, "request", FREELANCER)
    else:
        with pytest.raises(TransitionRefused, match="no payment in the last 30 days"):
            flow.fire(m, "request", FREELANCER)


@pytest.mark.rule("FB-5")
def test_fb_5_given_feedback_is_public_not_for_the_jss_and_blocks_30_days(
    flow: MidFeedbackRequests, paid: MidFeedback, clock: ManualClock
) -> None:
    flow.fire(paid, "request", FREELANCER)
    flow.fire(paid, "give", OWNER, text="great so far")
    assert paid.feedback == ((clock.now(), "great so far"),)
    assert not paid.counts_for_jss

    clock.advance(days=29)
    flow.fire(paid, "payment_made", SYSTEM)
    with pytest.raises(TransitionRefused, match="ask again from") as err:
        flow.fire(paid, "request", FREELANCER)
    clock.advance(days=1)
    flow.fire(paid, "request", FREELANCER)

    assert err.value.rule_ids == ("FB-5",)
    assert paid.state is M.REQUESTED


@pytest.mark.rule("FB-5")
def test_fb_5_a_request_lapses_after_14_days_and_one_is_open_at_a_time(
    flow: MidFeedbackRequests, paid: MidFeedback, clock: ManualClock
) -> None:
    flow.fire(paid, "request", FREELANCER)
    with pytest.raises(TransitionRefused, match="only one is open at a time") as err:
        flow.fire(paid, "request", FREELANCER)

    assert flow.advance(paid, clock.now() + 14 * DAY - SECOND) == []
    fired = flow.advance(paid, clock.now() + 14 * DAY)

    assert err.value.rule_ids == ("FB-5",)
    assert [d.event for d in fired] == ["request_lapse"]
    assert (paid.state, paid.lapsed) == (M.IDLE, 1)


@pytest.mark.rule("FB-5", "TEAM-8")
def test_fb_5_on_an_agency_contract_its_managers_ask(flow: MidFeedbackRequests) -> None:
    m = make(agency=True)
    flow.fire(m, "payment_made", SYSTEM)

    with pytest.raises(NotPermitted):
        flow.fire(m, "request", MEMBER)
    flow.fire(m, "request", MANAGER)

    assert m.state is M.REQUESTED


@pytest.mark.rule("FB-5")
def test_fb_5_the_end_of_the_contract_closes_it(
    flow: MidFeedbackRequests, paid: MidFeedback
) -> None:
    flow.fire(paid, "request", FREELANCER)

    flow.fire(paid, "contract_ended", SYSTEM)

    assert (paid.state, paid.deadlines) == (M.CLOSED, ())


ILLEGAL = tables.illegal_pairs(MID_FEEDBACK)


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=tables.pair_ids(ILLEGAL))
def test_an_event_without_an_edge_is_illegal_and_changes_nothing(
    flow: MidFeedbackRequests, state: MidFeedbackState, event: str
) -> None:
    actor = tables.actor_for(MID_FEEDBACK, event, (OWNER, FREELANCER))

    tables.assert_illegal(flow, make(), state, event, actor)


def test_a_request_round_trips_and_replays(flow: MidFeedbackRequests) -> None:
    first = to_dict(make())
    m = make()
    flow.fire(m, "payment_made", SYSTEM)
    flow.fire(m, "request", FREELANCER)

    tables.assert_round_trip(m)
    tables.assert_replays(MidFeedbackRequests, first, m)


class MidFeedbackMachine(tables.TableMachine):
    """An old contract and a young one, with payments, requests, answers and lapses."""

    spec = MID_FEEDBACK
    workflow_type = MidFeedbackRequests
    reached: ClassVar[set[str]] = set()
    steps = (DAY, 14 * DAY, SECOND, 30 * DAY)
    actors = (SYSTEM, FREELANCER, OWNER, OTHER, MEMBER)

    def aggregates(self) -> list[MidFeedback]:
        return [make(), make(10 * DAY)]

    @invariant()
    def requests_follow_the_rule(self) -> None:
        for m in self.items:
            for d in m.history:
                if d.event == "request":
                    assert d.at - m.started_at >= 30 * DAY
            assert (m.state is M.REQUESTED) == bool(m.deadlines)


def test_mid_feedback_machine() -> None:
    MidFeedbackMachine.reached = set()

    run_state_machine_as_test(MidFeedbackMachine, settings=tables.DETERMINISTIC)

    assert tables.reached_every_state(MID_FEEDBACK, MidFeedbackMachine.reached) == []

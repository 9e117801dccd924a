"""Mediation assistance (FPD-9, MS-DSP-2, CTR-END-11): rules, table and a property run."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import pytest
from hypothesis.stateful import invariant, run_state_machine_as_test

from statemachines import SYSTEM, Actor, ManualClock, NotPermitted, TransitionRefused, to_dict
from statemachines.machines.assistance import (
    ASSISTANCE,
    AssistanceDesk,
    AssistanceState,
    MediationAssistance,
)
from statemachines.testing.cast import ANA as OWNER
from statemachines.testing.cast import FL as FREELANCER
from statemachines.testing.cast import OZ as OTHER_CLIENT
from statemachines.testing.cast import SUP as SUPPORT
from tests.conftest import START
from tests.machines import tables

A = AssistanceState
SECOND = timedelta(seconds=1)


def make_case(released_ago: timedelta = timedelta(days=3)) -> MediationAssistance:
    """Assistance about payment C-1-P2, released *released_ago* before START."""
    return MediationAssistance(
        id="MA-1",
        contract="C-1",
        client="co-1",
        freelancer="fl-1",
        payment="C-1-P2",
        released_at=START - released_ago,
    )


@pytest.fixture
def desk(clock: ManualClock) -> AssistanceDesk:
    return AssistanceDesk(clock=clock)


@pytest.mark.rule("FPD-9", "MS-DSP-2")
@pytest.mark.parametrize(
    ("ago", "ok"),
    [(timedelta(0), True), (timedelta(days=30), True), (timedelta(days=30) + SECOND, False)],
    ids=["same-day", "day-30", "past-30-days"],
)
@pytest.mark.parametrize("actor", [OWNER, FREELANCER], ids=["client", "freelancer"])
def test_fpd_9_either_side_asks_within_30_days_of_the_release(
    desk: AssistanceDesk, ago: timedelta, ok: bool, actor: Actor
) -> None:
    case = make_case(ago)

    if ok:
        desk.fire(case, "request", actor, summary="the logo is not what we agreed")
        assert case.state is A.OPEN
        assert case.requested_side == ("client" if actor is OWNER else "freelancer")
    else:
        with pytest.raises(TransitionRefused, match="and a refund request after that") as err:
            desk.fire(case, "request", actor)
        assert err.value.rule_ids == ("FPD-9",)


@pytest.mark.rule("FPD-9", "CTR-END-11")
def test_fpd_9_support_closes_it_without_a_ruling(desk: AssistanceDesk) -> None:
    case = make_case()
    desk.fire(case, "request", OWNER)
    fields = {k: v for k, v in to_dict(case).items() if k not in {"state", "history"}}

    desk.fire(case, "close", SUPPORT, note="both agreed to a second round")

    assert case.state is A.CLOSED
    assert case.note == "both agreed to a second round"
    changed = {k for k, v in to_dict(case).items() if k in fields and v != fields[k]}
    assert changed == {"note", "closed_at"}  # no money field exists to change: nothing is ruled


@pytest.mark.rule("FPD-9")
def test_fpd_9_only_the_side_that_asked_withdraws(desk: AssistanceDesk) -> None:
    case = make_case()
    desk.fire(case, "request", OWNER)

    with pytest.raises(TransitionRefused, match="only the client side, which asked") as err:
        desk.fire(case, "withdraw", FREELANCER)
    desk.fire(case, "withdraw", OWNER)

    assert err.value.rule_ids == ("FPD-9",)
    assert case.state is A.WITHDRAWN


@pytest.mark.rule("FPD-9", "TEAM-5")
def test_fpd_9_strangers_do_not_ask(desk: AssistanceDesk) -> None:
    with pytest.raises(NotPermitted):
        desk.fire(make_case(), "request", OTHER_CLIENT)


ILLEGAL = tables.illegal_pairs(ASSISTANCE)


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=tables.pair_ids(ILLEGAL))
def test_an_event_without_an_edge_is_illegal_and_changes_nothing(
    desk: AssistanceDesk, state: AssistanceState, event: str
) -> None:
    actor = tables.actor_for(ASSISTANCE, event, (OWNER, SUPPORT))

    tables.assert_illegal(desk, make_case(), state, event, actor)


def test_a_case_round_trips_and_replays(desk: AssistanceDesk) -> None:
    first = to_dict(make_case())
    case = make_case()
    desk.fire(case, "request", FREELANCER, summary="never paid for the extra page")
    desk.fire(case, "close", SUPPORT)

    tables.assert_round_trip(case)
    tables.assert_replays(AssistanceDesk, first, case)


class AssistanceMachine(tables.TableMachine):
    """Three cases: a fresh release, one 29 days old, one 40 days old."""

    spec = ASSISTANCE
    workflow_type = AssistanceDesk
    reached: ClassVar[set[str]] = set()
    actors = (OWNER, FREELANCER, SUPPORT, OTHER_CLIENT, SYSTEM)

    def aggregates(self) -> list[MediationAssistance]:
        return [make_case(), make_case(timedelta(days=29)), make_case(timedelta(days=40))]

    @invariant()
    def open_only_within_30_days(self) -> None:
        for case in self.items:
            asked = [d for d in case.history if d.event == "request"]
            for decision in asked:
                assert decision.at <= case.closes
            assert (case.requested_side is None) == (not asked)


def test_assistance_machine() -> None:
    AssistanceMachine.reached = set()

    run_state_machine_as_test(AssistanceMachine, settings=tables.DETERMINISTIC)

    assert tables.reached_every_state(ASSISTANCE, AssistanceMachine.reached) == []

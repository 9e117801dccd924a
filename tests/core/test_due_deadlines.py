"""A decision at time t meets the aggregate as its deadlines due by t have made it.

``fire`` first fires the aggregate's deadlines due by then (in time order, as the
platform), then the event; a refused event undoes them too. ``explain`` judges the
same way and changes nothing.
"""

from __future__ import annotations

import enum
from datetime import timedelta

import attrs
import pytest

from statemachines import (
    Actor,
    Deadline,
    Decision,
    IllegalTransition,
    ManualClock,
    Role,
    TransitionRefused,
    Workflow,
)
from statemachines.core.engine import (
    Context,
    Edge,
    Effect,
    Guard,
    MachineSpec,
    Reason,
    Timer,
    fail,
    observe,
)
from tests.conftest import START

FL = Actor("fl-1", Role.FREELANCER)
ANY = frozenset({Role.FREELANCER})
WHO = ("CTR-GEN-1",)
HOUR = timedelta(hours=1)


class Bell(enum.Enum):
    QUIET = "quiet"
    ARMED = "armed"
    DONE = "done"


@attrs.define
class Alarm:
    id: str
    state: Bell = Bell.QUIET
    rang: int = 0
    notes: int = 0
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list)


def _arm(alarm: Alarm, ctx: Context) -> None:
    for n in (1, 2):
        alarm.deadlines = Deadline.put(
            alarm.deadlines, Deadline(f"ring-{n}", "ring", ctx.now + n * HOUR)
        )


def _ring(alarm: Alarm, ctx: Context) -> None:
    alarm.rang += 1


def _note(alarm: Alarm, ctx: Context) -> None:
    alarm.notes += 1


def _not_after_a_ring(alarm: Alarm, ctx: Context) -> Reason | None:
    return fail(f"alarm {alarm.id} already rang {alarm.rang} times") if alarm.rang else None


ALARM: MachineSpec[Bell, Alarm] = MachineSpec(
    name="test-alarm",
    states=Bell,
    initial=Bell.QUIET,
    terminal=(Bell.DONE,),
    model=Alarm,
    register=False,
    edges=(
        Edge("arm", (Bell.QUIET,), Bell.ARMED, ANY, WHO, effects=(Effect("MS-1", _arm),)),
        Edge("note", (Bell.ARMED,), Bell.ARMED, ANY, WHO, effects=(Effect("MS-1", _note),)),
        Edge(
            "snooze",
            (Bell.ARMED,),
            Bell.ARMED,
            ANY,
            WHO,
            guards=(Guard("MS-4", _not_after_a_ring),),
        ),
        Edge(
            "ring",
            (Bell.ARMED,),
            Bell.ARMED,
            frozenset({Role.SYSTEM}),
            timer=Timer("MS-REVIEW-2", "one and two hours after arming"),
            effects=(Effect("MS-REVIEW-2", _ring),),
        ),
        Edge("stop", (Bell.ARMED,), Bell.DONE, ANY, WHO),
    ),
)


class Alarms(Workflow[Bell, Alarm]):
    spec = ALARM


@pytest.fixture
def alarms(clock: ManualClock) -> Alarms:
    return Alarms(clock=clock)


@pytest.fixture
def armed(alarms: Alarms) -> Alarm:
    alarm = Alarm("A-1")
    alarms.fire(alarm, "arm", FL)
    return alarm


def test_a_decision_first_fires_the_deadlines_due_by_its_time(
    alarms: Alarms, armed: Alarm, clock: ManualClock
) -> None:
    clock.set(START + 2 * HOUR)

    decision = alarms.fire(armed, "note", FL)

    assert decision.event == "note"
    assert [(d.event, d.at) for d in armed.history[1:]] == [
        ("ring", START + HOUR),
        ("ring", START + 2 * HOUR),
        ("note", START + 2 * HOUR),
    ]
    assert armed.rang == 2
    assert armed.deadlines == ()


def test_a_deadline_not_due_yet_waits(alarms: Alarms, armed: Alarm, clock: ManualClock) -> None:
    clock.set(START + 2 * HOUR - timedelta(seconds=1))

    alarms.fire(armed, "note", FL)

    assert armed.rang == 1
    assert [d.key for d in armed.deadlines] == ["ring-2"]


def test_a_refused_decision_undoes_the_deadlines_it_fired_first(
    alarms: Alarms, armed: Alarm, clock: ManualClock
) -> None:
    clock.set(START + 3 * HOUR)
    before = (attrs.evolve(armed, history=[]), list(armed.history))

    with pytest.raises(TransitionRefused, match="already rang 2 times"):
        alarms.fire(armed, "snooze", FL)

    assert (attrs.evolve(armed, history=[]), armed.history) == before
    assert alarms.advance(armed)  # the deadlines are still there to fire


def test_explain_judges_after_the_due_deadlines_and_changes_nothing(
    alarms: Alarms, armed: Alarm, clock: ManualClock
) -> None:
    clock.set(START + HOUR)
    before = (attrs.evolve(armed, history=[]), list(armed.history))
    seen: list[str] = []

    class Watcher:
        def guard(self, machine: str, edge: Edge[Bell], rule_id: str, ok: bool, /) -> None:
            seen.append(rule_id)

        def fired(self, machine: str, edge: Edge[Bell], /) -> None:
            seen.append(edge.event)

    with observe(Watcher()):
        verdict = alarms.explain(armed, "snooze", FL)

    assert verdict.rule_ids == ("MS-4",)
    assert (attrs.evolve(armed, history=[]), armed.history) == before
    assert seen == []
    assert alarms.audit == []
    with pytest.raises(TransitionRefused) as refused:
        alarms.fire(armed, "snooze", FL)
    assert refused.value.rule_ids == verdict.rule_ids


def test_an_event_on_a_final_state_says_since_when_it_is_final(
    alarms: Alarms, armed: Alarm, clock: ManualClock
) -> None:
    # Stopped as the first ring fell due: the ring fires first, then the stop.
    clock.set(START + HOUR)
    alarms.fire(armed, "stop", FL)

    with pytest.raises(IllegalTransition, match="it became done on 2026-03-02 10:00:00 UTC"):
        alarms.fire(armed, "note", FL)
    assert "that is final" in str(alarms.explain(armed, "note", FL).error)


def test_a_timer_event_fired_by_hand_consumes_its_own_deadline(
    alarms: Alarms, armed: Alarm, clock: ManualClock
) -> None:
    clock.set(START + 2 * HOUR)

    alarms.fire(armed, "ring", Actor("system", Role.SYSTEM))

    assert armed.rang == 1
    assert [d.key for d in armed.deadlines] == ["ring-2"]

"""The engine on small machines built for the test: definitions, atomicity, audit, input."""

from __future__ import annotations

import enum
import gc
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
from transitions import Machine

from statemachines import (
    UTC,
    Actor,
    ClockError,
    Deadline,
    Decision,
    DefinitionError,
    InvalidPayload,
    ManualClock,
    Money,
    NaiveDatetime,
    Role,
    TransitionRefused,
    UnknownEvent,
    Workflow,
)
from statemachines.core.engine import (
    Branch,
    Context,
    Edge,
    Effect,
    Guard,
    MachineSpec,
    Param,
    Reason,
    Timer,
    fail,
    observe,
)
from statemachines.testing.cast import SUP
from tests.conftest import START

FL = Actor("fl-1", Role.FREELANCER)
ANY = frozenset({Role.FREELANCER, Role.SUPPORT})
WHO = ("CTR-GEN-1",)
"""The rule that says who may fire an edge (every edge names one)."""


class Light(enum.Enum):
    OFF = "off"
    ON = "on"
    BROKEN = "broken"


@attrs.define
class Lamp:
    id: str
    state: Light = Light.OFF
    watts: int = 0
    label: str = ""
    budget: Money = attrs.field(factory=lambda: Money(1_000))
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list)

    @property
    def currency(self) -> str:
        return self.budget.currency


def _set_watts(lamp: Lamp, ctx: Context) -> None:
    lamp.watts = 60


def _explode(lamp: Lamp, ctx: Context) -> None:
    lamp.label = "half-done"
    msg = "the effect failed on purpose"
    raise RuntimeError(msg)


def _ring_later(lamp: Lamp, ctx: Context) -> None:
    lamp.deadlines = Deadline.put(
        lamp.deadlines, Deadline("ring", "ring", ctx.now + timedelta(hours=1))
    )


_RING = Timer("MS-REVIEW-2", "an hour after switching on")


def _never(lamp: Lamp, ctx: Context) -> Reason | None:
    return fail(f"lamp {lamp.id} is never allowed", lamp=lamp.id)


def _also_never(lamp: Lamp, ctx: Context) -> Reason | None:
    return fail("and not today either")


def _spec(name: str, *edges: Edge[Light], **kwargs: Any) -> MachineSpec[Light, Lamp]:
    options: dict[str, Any] = {
        "name": name,
        "states": Light,
        "initial": Light.OFF,
        "terminal": (Light.BROKEN,),
        "model": Lamp,
        "register": False,
    }
    options.update(kwargs)
    return MachineSpec(edges=edges, **options)


LAMP = _spec(
    "test-lamp",
    Edge("switch_on", (Light.OFF,), Light.ON, ANY, WHO, effects=(Effect("MS-1", _set_watts),)),
    Edge("switch_off", (Light.ON,), Light.OFF, ANY, WHO),
    Edge("overload", (Light.ON,), Light.BROKEN, ANY, WHO, effects=(Effect("MS-1", _explode),)),
    Edge(
        "repaint",
        (Light.OFF,),
        Light.OFF,
        ANY,
        WHO,
        guards=(Guard("MS-1", _never), Guard("MS-4", _also_never)),
    ),
    Edge(
        "spend",
        (Light.ON,),
        Light.ON,
        ANY,
        WHO,
        params=(Param("amount", (Money,)), Param("when", (datetime,), None)),
    ),
)


class LampWorkflow(Workflow[Light, Lamp]):
    spec = LAMP


@pytest.fixture
def lamps(clock: ManualClock) -> LampWorkflow:
    return LampWorkflow(clock=clock)


# --------------------------------------------------------------------------- definitions


def test_a_definition_with_an_unreachable_state_fails() -> None:
    with pytest.raises(DefinitionError, match=r"states \['BROKEN'\] cannot be reached"):
        _spec("bad-1", Edge("on", (Light.OFF,), Light.ON, ANY, WHO))


def test_a_terminal_state_with_an_exit_fails() -> None:
    with pytest.raises(DefinitionError, match="terminal state BROKEN has an exit: 'fix'"):
        _spec(
            "bad-2",
            Edge("on", (Light.OFF,), Light.BROKEN, ANY, WHO),
            Edge("fix", (Light.BROKEN,), Light.ON, ANY, WHO),
        )


def test_duplicate_edges_fail() -> None:
    with pytest.raises(DefinitionError, match="duplicate edges for 'on' from OFF"):
        _spec(
            "bad-3",
            Edge("on", (Light.OFF,), Light.ON, ANY, WHO),
            Edge("on", (Light.OFF,), Light.BROKEN, ANY, WHO),
        )


def test_an_unknown_rule_id_fails() -> None:
    with pytest.raises(DefinitionError, match="unknown rule ID 'MS-999'"):
        _spec(
            "bad-4",
            Edge("on", (Light.OFF,), Light.ON, ANY, WHO, guards=(Guard("MS-999", _never),)),
            Edge("break", (Light.ON,), Light.BROKEN, ANY, WHO),
        )


def test_an_edge_without_a_source_fails() -> None:
    with pytest.raises(DefinitionError, match="no source state"):
        _spec("bad-5", Edge("on", (), Light.ON, ANY, WHO))


def test_branches_may_share_a_source_and_an_event() -> None:
    spec = _spec(
        "branchy",
        Edge(
            "on",
            (Light.OFF,),
            Light.ON,
            ANY,
            WHO,
            branch=Branch("fine", lambda m, c: m.watts < 100),
        ),
        Edge(
            "on",
            (Light.OFF,),
            Light.BROKEN,
            ANY,
            WHO,
            branch=Branch("fried", lambda m, c: m.watts >= 100),
        ),
    )

    class Branchy(Workflow[Light, Lamp]):
        pass

    Branchy.spec = spec
    flow = Branchy(clock=ManualClock(START))
    weak, strong = Lamp("a", watts=40), Lamp("b", watts=400)
    flow.fire(weak, "on", FL)
    flow.fire(strong, "on", FL)

    assert (weak.state, strong.state) == (Light.ON, Light.BROKEN)


def test_the_shared_machine_is_built_without_auto_transitions() -> None:
    assert isinstance(LAMP.machine, Machine)
    assert set(LAMP.machine.events) == set(LAMP.events)
    assert not any(name.startswith("to_") for name in LAMP.machine.events)
    assert LAMP.machine.models == []


# --------------------------------------------------------------------------- firing


def test_a_failing_effect_leaves_the_aggregate_exactly_as_it_was(lamps: LampWorkflow) -> None:
    lamp = Lamp("L-1")
    lamps.fire(lamp, "switch_on", FL)
    before = attrs.asdict(lamp, recurse=False)
    history = list(lamp.history)

    with pytest.raises(RuntimeError, match="failed on purpose"):
        lamps.fire(lamp, "overload", FL)

    assert lamp.state is Light.ON
    assert lamp.label == ""
    assert attrs.asdict(lamp, recurse=False) == before
    assert lamp.history == history
    assert lamps.audit[-1].outcome == "failed"  # type: ignore[index]


@pytest.mark.rule("MS-1", "MS-4")
def test_every_guard_is_evaluated_without_short_circuit(lamps: LampWorkflow) -> None:
    lamp = Lamp("L-2")

    with pytest.raises(TransitionRefused) as refused:
        lamps.fire(lamp, "repaint", FL)

    assert refused.value.rule_ids == ("MS-1", "MS-4")
    assert refused.value.reasons == ("lamp L-2 is never allowed", "and not today either")
    assert refused.value.violations[0].data == {"lamp": "L-2"}
    assert "[MS-1] lamp L-2 is never allowed; [MS-4] and not today either" in str(refused.value)


@pytest.mark.rule("MS-1", "MS-4")
def test_refusals_go_to_the_audit_trail_not_the_aggregate(lamps: LampWorkflow) -> None:
    lamp = Lamp("L-3")

    with pytest.raises(TransitionRefused):
        lamps.fire(lamp, "repaint", SUP)

    assert lamp.history == []
    (attempt,) = lamps.audit  # type: ignore[misc]
    assert (attempt.aggregate, attempt.actor, attempt.event) == ("L-3", SUP, "repaint")
    assert (attempt.outcome, attempt.rule_ids) == ("refused", ("MS-1", "MS-4"))


def test_an_injected_audit_sink_receives_attempts(clock: ManualClock) -> None:
    seen: list[Any] = []
    flow = LampWorkflow(clock=clock, audit=seen)

    with pytest.raises(UnknownEvent):
        flow.fire(Lamp("L-4"), "dance", FL)

    assert [a.outcome for a in seen] == ["illegal"]


def test_history_records_time_actor_event_and_states(
    lamps: LampWorkflow, clock: ManualClock
) -> None:
    lamp = Lamp("L-5")
    clock.advance(minutes=5)

    decision = lamps.fire(lamp, "switch_on", FL)

    assert decision == Decision(START + timedelta(minutes=5), FL, "switch_on", Light.OFF, Light.ON)
    assert lamp.history == [decision]


def test_time_never_runs_backwards_in_a_history(lamps: LampWorkflow) -> None:
    lamp = Lamp("L-6")
    lamps.fire_at(lamp, "switch_on", FL, START + timedelta(days=2))

    with pytest.raises(ClockError, match="would precede the last recorded decision"):
        lamps.fire_at(lamp, "switch_off", FL, START + timedelta(days=1))

    assert lamp.state is Light.ON


def test_a_naive_time_is_refused(lamps: LampWorkflow) -> None:
    lamp = Lamp("L-7")

    with pytest.raises(NaiveDatetime, match="has no timezone"):
        lamps.fire_at(lamp, "switch_on", FL, datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001

    assert lamp.state is Light.OFF


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "'spend' needs the argument 'amount'"),
        ({"amount": 500}, "'amount' must be Money, got int 500"),
        ({"amount": Money(5, "EUR")}, "'amount' is in EUR but 'L-8' is kept in USD"),
        ({"amount": Money(5), "colour": "red"}, "'spend' takes no argument 'colour'"),
        ({"amount": Money(5), "when": datetime(2026, 1, 1)}, "has no timezone"),  # noqa: DTZ001
    ],
)
def test_bad_arguments_are_refused_before_anything_happens(
    lamps: LampWorkflow, payload: dict[str, Any], message: str
) -> None:
    lamp = Lamp("L-8")
    lamps.fire(lamp, "switch_on", FL)

    with pytest.raises((InvalidPayload, NaiveDatetime), match=message):
        lamps.fire(lamp, "spend", FL, **payload)

    assert len(lamp.history) == 1


def test_an_event_without_arguments_refuses_any(lamps: LampWorkflow) -> None:
    with pytest.raises(InvalidPayload, match="'switch_on' takes no arguments, got \\['x'\\]"):
        lamps.fire(Lamp("L-9"), "switch_on", FL, x=1)


def test_recorded_arguments_are_json_safe(lamps: LampWorkflow) -> None:
    lamp = Lamp("L-10")
    lamps.fire(lamp, "switch_on", FL)
    when = datetime(2026, 3, 3, tzinfo=UTC)

    decision = lamps.fire(lamp, "spend", FL, amount=Money(250), when=when)

    assert decision.payload == {
        "amount": {"cents": 250, "currency": "USD"},
        "when": "2026-03-03T00:00:00+00:00",
    }


# --------------------------------------------------------------------------- deadlines


def test_deadlines_replace_by_key_and_stay_sorted() -> None:
    a = Deadline("a", "ring", START + timedelta(days=3))
    b = Deadline("b", "ring", START + timedelta(days=1))
    a2 = Deadline("a", "ring", START + timedelta(hours=1))

    deadlines = Deadline.put(Deadline.put(Deadline.put((), a), b), a2)

    assert deadlines == (a2, b)
    assert Deadline.drop(deadlines, "a") == (b,)


@pytest.mark.rule("MS-1")
def test_a_late_scheduler_fires_at_the_latest_recorded_time(clock: ManualClock) -> None:
    spec = _spec(
        "late",
        Edge("switch_on", (Light.OFF,), Light.ON, ANY, WHO, effects=(Effect("MS-1", _ring_later),)),
        Edge("note", (Light.ON,), Light.ON, ANY, WHO),
        Edge("ring", (Light.ON,), Light.BROKEN, frozenset({Role.SYSTEM}), timer=_RING),
    )

    class Late(Workflow[Light, Lamp]):
        pass

    Late.spec = spec
    flow = Late(clock=clock)
    lamp = Lamp("L-11")
    flow.fire(lamp, "switch_on", FL)
    # A history recorded by a scheduler that ran late (before a decision fired the due
    # deadlines first): a decision after the deadline fell due. Replay keeps it as it was.
    note = Decision(START + timedelta(hours=3), FL, "note", Light.ON, Light.ON)
    recorded = Lamp("L-11")
    flow.replay(recorded, [*lamp.history, note])
    lamp = recorded

    (fired,) = flow.advance(lamp, START + timedelta(hours=5))

    assert fired.at == START + timedelta(hours=3)
    assert lamp.state is Light.BROKEN
    assert [d.at for d in lamp.history] == sorted(d.at for d in lamp.history)


# --------------------------------------------------------------------------- cost and observers


def test_attempts_leave_no_reference_cycle_for_the_garbage_collector(
    lamps: LampWorkflow,
) -> None:
    # A refusal kept in a local of the frame that raised it is a frame-exception
    # cycle: each one waits for the cyclic collector. Every outcome must free itself.
    lamp = Lamp("L-9")
    gc.collect()
    gc.disable()
    try:
        for _ in range(50):
            with pytest.raises(TransitionRefused):
                lamps.fire(lamp, "repaint", FL)
            with pytest.raises(UnknownEvent):
                lamps.fire(lamp, "dance", FL)
            with pytest.raises(InvalidPayload):
                lamps.fire(lamp, "switch_on", FL, watts=3)
            lamps.fire(lamp, "switch_on", FL)
            lamps.fire(lamp, "switch_off", FL)
        cycles = gc.collect()
    finally:
        gc.enable()

    assert cycles == 0
    assert len(lamp.history) == 100


def test_the_engine_builds_refusals_exactly_as_the_constructor_does(
    lamps: LampWorkflow,
) -> None:
    with pytest.raises(TransitionRefused) as fast:
        lamps.fire(Lamp("L-10"), "repaint", FL)
    err = fast.value
    built = TransitionRefused(
        str(err), machine=err.machine, state=err.state, event=err.event, violations=err.violations
    )

    assert type(err) is TransitionRefused
    assert (err.args, err.machine, err.state, err.event) == (
        built.args,
        "test-lamp",
        "off",
        "repaint",
    )
    assert (err.violations, err.rule_ids, err.reasons) == (
        built.violations,
        built.rule_ids,
        built.reasons,
    )
    assert vars(err) == vars(built)


class _Seen:
    """An observer that writes down what it sees."""

    def __init__(self) -> None:
        self.guards: list[tuple[str, str, str, bool]] = []
        self.edges: list[tuple[str, str]] = []

    def guard(self, machine: str, edge: Edge[Any], rule_id: str, ok: bool, /) -> None:
        self.guards.append((machine, edge.event, rule_id, ok))

    def fired(self, machine: str, edge: Edge[Any], /) -> None:
        self.edges.append((machine, edge.event))


@pytest.mark.rule("MS-1", "MS-4")
def test_an_observer_sees_every_guard_outcome_and_fired_edge_until_it_stops(
    lamps: LampWorkflow,
) -> None:
    seen = _Seen()
    lamp = Lamp("L-11")

    with observe(seen):
        with pytest.raises(TransitionRefused):
            lamps.fire(lamp, "repaint", FL)
        lamps.explain(lamp, "repaint", FL)  # a query, not an attempt: not observed
        lamps.fire(lamp, "switch_on", FL)
    lamps.fire(lamp, "switch_off", FL)  # after the block: not observed

    assert seen.guards == [
        ("test-lamp", "repaint", "MS-1", False),
        ("test-lamp", "repaint", "MS-4", False),
    ]
    assert seen.edges == [("test-lamp", "switch_on")]

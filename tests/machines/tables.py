"""Checks generated from a machine table, shared by the tests of the machines added for issue 17.

Each machine's ``test_table.py`` calls these with its own spec, workflow and aggregates:

* every (state, event) pair with neither an edge nor a forbidden row is illegal and changes
  nothing (:func:`illegal_pairs`, :func:`assert_illegal`);
* a snapshot round-trips through JSON, and a restored aggregate keeps its state and deadlines
  (:func:`assert_round_trip`);
* replaying the history onto the first snapshot reproduces the aggregate (:func:`assert_replays`).

The property tests share :class:`TableMachine`, a Hypothesis state machine whose reference
model is the table itself.
"""

from __future__ import annotations

import enum
import functools
import itertools
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from statemachines import (
    SYSTEM,
    Actor,
    IllegalTransition,
    InvalidPayload,
    MachineSpec,
    ManualClock,
    NotPermitted,
    TransitionRefused,
    Workflow,
    from_dict,
    to_dict,
)
from statemachines.rules import RULES
from tests.conftest import START

# rule-catalogue: not rule tests


def illegal_pairs(spec: MachineSpec[Any, Any]) -> list[tuple[enum.Enum, str]]:
    """Every (state, event) with no edge and no documented refusal."""
    states: list[enum.Enum] = list(spec.states.__members__.values())
    return [
        (state, event)
        for state, event in itertools.product(states, spec.events)
        if not spec.edges_from(state, event) and spec.forbidden_from(state, event) is None
    ]


def pair_ids(pairs: Sequence[tuple[enum.Enum, str]]) -> list[str]:
    """Readable test ids: ``draft-accept``."""
    return [f"{s.value}-{e}" for s, e in pairs]


def actor_for(spec: MachineSpec[Any, Any], event: str, people: Sequence[Actor]) -> Actor:
    """Someone whose role may fire *event* somewhere, the platform first."""
    roles = {r for e in spec.edges if e.event == event for r in e.roles}
    if SYSTEM.role in roles:
        return SYSTEM
    return next(p for p in people if p.role in roles)


def assert_illegal(
    workflow: Workflow[Any, Any], aggregate: Any, state: enum.Enum, event: str, actor: Actor
) -> None:
    """Put *aggregate* in *state*; *event* must be illegal there and change nothing."""
    aggregate.state = state
    before = to_dict(aggregate)

    with pytest.raises(IllegalTransition, match=f"cannot '{event}' "):
        workflow.fire(aggregate, event, actor)

    assert to_dict(aggregate) == before
    assert workflow.audit[-1].outcome == "illegal"  # type: ignore[index]


def assert_round_trip(aggregate: Any) -> Any:
    """A JSON snapshot restores an equal aggregate, history and deadlines included."""
    restored = from_dict(json.loads(json.dumps(to_dict(aggregate))))

    assert restored == aggregate
    assert restored.history == aggregate.history
    assert restored.deadlines == aggregate.deadlines
    assert restored.state is aggregate.state
    return restored


def assert_replays(
    workflow_type: type[Workflow[Any, Any]], first: Mapping[str, Any], agg: Any
) -> None:
    """Replaying *agg*'s history onto its *first* snapshot reproduces it exactly."""
    replayed = workflow_type(clock=ManualClock(START)).replay(from_dict(dict(first)), agg.history)

    assert replayed == agg
    assert to_dict(replayed) == to_dict(agg)


DETERMINISTIC = settings(derandomize=True)
"""For the runs whose reached states are asserted: the same examples on every run, so the
assertion never depends on luck (the profile still says how many examples)."""

STEPS = (  # Hypothesis draws the first ones most: the small steps that keep windows open
    timedelta(hours=1),
    timedelta(seconds=1),
    timedelta(days=1),
    timedelta(days=2, hours=23, minutes=59, seconds=59),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=30),
)


class TableMachine(RuleBasedStateMachine):
    """Random actors, events, arguments and clock moves against one machine's table.

    A subclass sets :attr:`spec`, :attr:`workflow_type`, :attr:`actors` and
    :meth:`aggregates` (one or more aggregates of the machine), and may give
    :meth:`payloads` (argument choices per event) and its own invariants. Checked after
    every attempt: an event with no edge (nor forbidden row) is illegal; any failure
    changes nothing; an accepted event lands on the target of one of its edges; a refusal
    cites only defined rule IDs; a terminal state is never left; deadlines fire once, in
    time order. :attr:`reached` collects the states entered, across the whole run.
    """

    spec: ClassVar[MachineSpec[Any, Any]]
    workflow_type: ClassVar[type[Workflow[Any, Any]]]
    actors: ClassVar[Sequence[Actor]]
    steps: ClassVar[Sequence[timedelta]] = STEPS
    start: ClassVar[datetime] = START
    reached: ClassVar[set[str]]

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(self.start)
        self.workflow = self.make_workflow()
        self.items = self.aggregates()
        self.seen: set[enum.Enum] = {a.state for a in self.items}
        """States entered in this run (the draws may depend on it: it is the run's own)."""

    def make_workflow(self) -> Workflow[Any, Any]:
        """The workflow under test (a subclass may give it facts)."""
        return self.workflow_type(clock=self.clock)

    def aggregates(self) -> list[Any]:
        """The aggregates the run works on."""
        raise NotImplementedError

    @initialize()
    def start_up(self) -> None:
        """Runs once before the random steps: calls :meth:`prepare`."""
        self.prepare()
        for agg in self.items:
            self._entered(agg)

    def prepare(self) -> None:
        """Set some aggregates going before the random steps (none by default)."""

    def payloads(self, event: str, agg: Any) -> st.SearchStrategy[dict[str, Any]]:
        """Arguments to try for *event* on *agg*; none by default.

        Return strategies built once (module constants), not new ones per call, and no
        ``builds``/``map`` over lambdas: Hypothesis compiles a lambda's source for its repr
        on every draw. :meth:`finish` turns drawn values into arguments (cents to amounts).
        """
        return _NOTHING

    def finish(self, event: str, drawn: dict[str, Any]) -> dict[str, Any]:
        """The event's arguments from what :meth:`payloads` drew (unchanged by default)."""
        return drawn

    def _permits(self, agg: Any, actor: Actor, edge: Any) -> bool:
        authorize = self.spec.authorize
        if actor.role not in edge.roles:
            return False
        return authorize is None or authorize(agg, actor, edge) is None

    def _met(self, agg: Any, event: str) -> Any:
        """The state *event* meets: after the deadlines due by now that fire before it
        (ADR 0015), found on a copy."""
        probe = from_dict(to_dict(agg))
        now = self.clock.now()
        while probe.deadlines and probe.deadlines[0].due <= now:
            first = probe.deadlines[0]
            if first.event == event:
                break
            last = probe.history[-1].at if probe.history else first.due
            self.workflow.fire_at(probe, first.event, SYSTEM, max(first.due, last))
        return probe.state

    def _entered(self, agg: Any) -> None:
        self.seen.add(agg.state)
        type(self).reached.add(agg.state.value)

    @staticmethod
    def _pick(
        data: st.DataObject, preferred: Sequence[Any], anything: Sequence[Any], label: str
    ) -> Any:
        # Strategies are built once per (preferred, size) shape: building them on every
        # step costs more than running the machine.
        chosen = tuple(i for i, x in enumerate(anything) if any(x is p for p in preferred))
        return anything[data.draw(_either(chosen, len(anything)), label=label)]

    @rule(data=st.data())
    def fire(self, data: st.DataObject) -> None:
        """Some actor fires some event with some arguments on some aggregate."""
        # Half the time a draw favours what can move: an aggregate not finished yet, an event
        # with an edge from its state (one leading to a state not reached yet, if any), an
        # actor the table lets fire it; otherwise anything.
        live = [a for a in self.items if a.state not in self.spec.terminal]
        agg = self._pick(data, live, self.items, "aggregate")
        moves = [e for e in self.spec.events if self.spec.edges_from(agg.state, e)]
        new = [
            e
            for e in moves
            if any(x.target not in self.seen for x in self.spec.edges_from(agg.state, e))
        ]
        event = (
            self._pick(data, new, moves, "event")
            if new
            else self._pick(data, moves, self.spec.events, "event")
        )
        edges = self.spec.edges_from(agg.state, event)
        allowed = [a for a in self.actors if any(self._permits(agg, a, e) for e in edges)]
        actor = self._pick(data, allowed, self.actors, "actor")
        payload = self.finish(event, data.draw(self.payloads(event, agg), label="payload"))
        before = to_dict(agg)
        state = self._met(agg, event)
        edges = self.spec.edges_from(state, event)
        try:
            decision = self.workflow.fire(agg, event, actor, **payload)
        except IllegalTransition:
            assert not edges, f"{event} from {state} has an edge but was called illegal"
            assert self.spec.forbidden_from(state, event) is None
            assert to_dict(agg) == before
        except TransitionRefused as err:
            assert edges or self.spec.forbidden_from(state, event) is not None, err
            assert set(err.rule_ids) <= set(RULES), err.rule_ids
            assert to_dict(agg) == before
        except (NotPermitted, InvalidPayload) as err:
            assert edges or self.spec.forbidden_from(state, event) is not None, err
            assert to_dict(agg) == before
        else:
            assert state not in self.spec.terminal, f"{state} is final but {event} left it"
            assert decision.target in {e.target for e in edges}
            assert agg.state is decision.target
            self._entered(agg)

    @rule(data=st.data())
    def time_passes(self, data: st.DataObject) -> None:
        """The clock moves; deadlines due by then fire, in time order, once each."""
        step = data.draw(st.sampled_from(list(self.steps)), label="step")
        self.clock.advance(seconds=step.total_seconds())
        for agg in self.items:
            fired = self.workflow.advance(agg)
            times = [d.at for d in fired]
            assert times == sorted(times), "deadlines fire in time order"
            assert all(d.deadline is not None for d in fired)
            assert not [d for d in agg.deadlines if d.due <= self.clock.now()], "all due fired"
            self._entered(agg)

    @precondition(lambda self: any(agg.deadlines for agg in self.items))
    @rule(early=st.sampled_from([True, False]))  # one second early is drawn more
    def near_a_deadline(self, early: bool) -> None:
        """Jump to one second before the next deadline (nothing fires), or onto it."""
        due = min(d.due for agg in self.items for d in agg.deadlines)
        target = due - timedelta(seconds=1) if early else due
        if target < self.clock.now():
            return
        self.clock.set(target)
        for agg in self.items:
            fired = self.workflow.advance(agg)
            if early:
                assert fired == []
            self._entered(agg)

    @invariant()
    def terminal_states_hold_no_deadline(self) -> None:
        """A finished aggregate has nothing left to fire."""
        for agg in self.items:
            if agg.state in self.spec.terminal:
                assert agg.deadlines == ()


_NOTHING: st.SearchStrategy[dict[str, Any]] = st.just({})


@functools.cache
def _either(preferred: tuple[int, ...], size: int) -> st.SearchStrategy[int]:
    """An index below *size*: half the time one of *preferred*, otherwise any."""
    every = st.integers(0, size - 1)
    return st.one_of(st.sampled_from(preferred), every) if preferred else every


def reached_every_state(
    spec: MachineSpec[Any, Any], reached: set[str], initial: bool = True
) -> list[str]:
    """The states of *spec* a property run never entered (the initial one counts as entered)."""
    seen = set(reached) | ({spec.initial.value} if initial else set())
    return [s.value for s in spec.states if s.value not in seen]

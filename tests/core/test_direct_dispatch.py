"""The workflow applies every edge itself (ADRs 0042, 0046): `transitions` would do no more.

For such an edge the workflow runs the edge's effects in order and sets the target state,
instead of calling the shared machine's trigger. These tests check, for every machine the
library registers, that the shared machine holds nothing else that the trigger would run
(no condition, no callback but the effects, no state or machine callback), and that both
ways leave an aggregate alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
import pytest

import statemachines.marketplace  # noqa: F401  (registers every machine the library has)
from statemachines import SYSTEM, UTC, Actor, ManualClock, Role
from statemachines.core.engine import SPECS, Context, MachineSpec
from statemachines.core.engine.spec import RunEffects
from statemachines.machines.account.table import (
    ACCOUNT,
    NONE,
    Account,
    AccountLifecycle,
    AccountState,
    AccountType,
)
from statemachines.machines.job import Job, JobPosting, JobState

MACHINE_CALLBACKS = (
    "prepare_event",
    "before_state_change",
    "after_state_change",
    "finalize_event",
    "on_exception",
    "on_final",
)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_shared_machine_runs_nothing_but_the_effects_of_an_unbranched_edge(
    name: str,
) -> None:
    spec: MachineSpec[Any, Any] = SPECS[name]
    machine = spec.machine
    for callback in MACHINE_CALLBACKS:
        assert not getattr(machine, callback, []), f"{name}: {callback} is set"
    for state in machine.states.values():
        assert not state.on_enter, f"{name}: {state.name} has on_enter"
        assert not state.on_exit, f"{name}: {state.name} has on_exit"
    checked = 0
    for edge in spec.edges:
        if edge.branch is not None:
            continue
        for source in edge.sources:
            assert spec.edges_from(source, edge.event) == (edge,)
            found = machine.events[edge.event].transitions[source.name]
            assert len(found) == 1, f"{name}: {len(found)} transitions for {edge.event!r}"
            transition = found[0]
            assert transition.dest == edge.target.name
            assert not transition.conditions
            _runs_the_edges_effects_only(transition, edge)
            checked += 1
    assert checked or all(e.branch is not None for e in spec.edges)


def _runs_the_edges_effects_only(transition: Any, edge: Any) -> None:
    """The shared machine's *transition* runs *edge*'s effects (before the state changes)
    and nothing else."""
    assert not transition.prepare
    assert not transition.after
    if edge.effects:
        (before,) = transition.before
        assert isinstance(before, RunEffects)
        assert before.effects == edge.effects
    else:
        assert not transition.before


def test_a_fired_edge_leaves_the_aggregate_as_the_shared_machine_would() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    owner = Actor("ana", Role.CLIENT_OWNER, party="co-1")
    by_workflow, by_machine = Job(id="J-1", company="co-1"), Job(id="J-1", company="co-1")

    decision = JobPosting(clock=ManualClock(now)).fire(by_workflow, "post", owner)
    assert JobPosting.spec.machine.events["post"].trigger(
        by_machine, ctx=Context(now, owner, {}, None)
    )

    assert by_workflow.state is by_machine.state is JobState.OPEN
    fields = attrs.asdict(by_workflow, recurse=False)
    fields["history"] = fields["history"][:-1]
    assert fields == attrs.asdict(by_machine, recurse=False)
    assert by_workflow.history == [decision]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_shared_machine_runs_the_first_branch_that_holds_and_nothing_else(
    name: str,
) -> None:
    """ADR 0046: the workflow applies a branched edge itself too. The trigger would test
    the edges of (state, event) in table order, each on its branch alone, and run the first
    that holds: its effects, then its state."""
    spec: MachineSpec[Any, Any] = SPECS[name]
    machine = spec.machine
    for (state, event), edges in spec._index.items():
        if all(e.branch is None for e in edges):
            continue
        found = machine.events[event].transitions[state]
        assert len(found) == len(edges), f"{name}: {event!r} from {state}"
        for transition, edge in zip(found, edges, strict=True):
            assert transition.dest == edge.target.name
            assert [(c.func, c.target) for c in transition.conditions] == [(edge.branch, True)]
            _runs_the_edges_effects_only(transition, edge)


@pytest.mark.parametrize("kind", [AccountType.FREELANCER, AccountType.AGENCY])
def test_a_fired_branch_leaves_the_account_as_the_shared_machine_would(
    kind: AccountType,
) -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    life = AccountLifecycle(clock=ManualClock(now))
    holder = Actor("ao", Role.FREELANCER if kind is AccountType.FREELANCER else Role.AGENCY_OWNER)
    company = None if kind is AccountType.FREELANCER else "ag-1"
    by_workflow, by_machine = (
        Account(id="ao-1", type=kind, owner="ao", company=company) for _ in range(2)
    )
    for acc in (by_workflow, by_machine):
        life.fire(acc, "request_close", holder, confirm=True)
        assert acc.state is AccountState.CLOSING

    decision = life.fire_at(by_workflow, "settle", SYSTEM, now)
    assert ACCOUNT.machine.events["settle"].trigger(by_machine, ctx=Context(now, SYSTEM, {}, NONE))

    assert by_workflow.state is by_machine.state is decision.target
    assert decision.target is (
        AccountState.DEACTIVATED if kind is AccountType.FREELANCER else AccountState.CLOSED
    )
    fields = attrs.asdict(by_workflow, recurse=False)
    fields["history"] = fields["history"][:-1]
    assert fields == attrs.asdict(by_machine, recurse=False)

"""The compiled table explorer agrees with the engine on every (state, event) pair of every machine.

``compile_table`` is the successor function of the fast explorer; it is built
from the same edges as the engine. Here the engine is asked about every pair:
where the compiled table has a move, no actor gets ``IllegalTransition``; where
it has none, every actor gets ``IllegalTransition`` (or, for a forbidden row, a
refusal citing its rule, or ``NotPermitted``). States are forced onto a sample
aggregate, so a guard may trip over missing data: that too shows a row exists.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from statemachines.core.engine import SPECS, Workflow
from statemachines.core.money import Money
from statemachines.errors import IllegalTransition, NotPermitted, StatemachinesError
from statemachines.machines.contract.escrow import REVIEW
from statemachines.machines.milestone import MILESTONE
from statemachines.verify.table import LIVE_MILESTONE, compile_table, explore
from statemachines.verify.world import ACTORS, Bounds, World

MACHINES = ("account", "membership", "contract", "milestone")


def _sample(machine: str) -> tuple[Any, Workflow[Any, Any]]:
    world = World(Bounds(contracts=1, team=True))
    market = world.market
    if machine == "milestone":
        market.fire("contract", "C-1", "add_milestone", ACTORS[4], amount=Money(500))
        return market.get("contract", "C-1").milestones[0], REVIEW
    kind = machine
    agg = next(iter(market.store.values(kind)))
    return agg, market._flows[kind]


@pytest.mark.parametrize("machine", MACHINES)
def test_compiled_moves_match_the_engine(machine: str) -> None:
    spec = SPECS[machine]
    table = compile_table(spec)
    sample, flow = _sample(machine)
    for state in spec.states:
        moves = {event for event, _ in table.events[table.names.index(state.name)]}
        for event in spec.events:
            for actor in ACTORS:
                agg = copy.copy(sample)
                agg.history = []
                agg.state = state
                try:
                    flow.fire(agg, event, actor)
                except IllegalTransition:
                    assert event not in moves, f"{event} from {state.name} is in the table"
                except NotPermitted:
                    pass
                except (StatemachinesError, AssertionError, AttributeError, TypeError):
                    # Refused, or a guard tripping over a state forced without its data:
                    # either way the engine found a row, so the table has one too.
                    row = spec.forbidden_from(state, event)
                    assert event in moves or row is not None, (state.name, event)
                else:
                    assert event in moves, f"{event} fired from {state.name}: not in the table"


def test_symmetry_reduces_the_table_model_and_keeps_its_states() -> None:
    reduced = explore(MILESTONE, groups=2, members=2, live=LIVE_MILESTONE)
    full = explore(MILESTONE, groups=2, members=2, live=LIVE_MILESTONE, symmetry=False)

    # One group alone, both ways: two groups are every multiset of two of its sorted
    # states (symmetry on), and every ordered pair of its ordered states (symmetry off).
    one = explore(MILESTONE, groups=1, members=2, live=LIVE_MILESTONE).states
    one_full = explore(MILESTONE, groups=1, members=2, live=LIVE_MILESTONE, symmetry=False)

    assert reduced.states < full.states
    assert reduced.states == one * (one + 1) // 2
    assert full.states == one_full.states**2

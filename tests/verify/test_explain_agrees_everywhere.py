"""``explain`` says what ``fire`` does in *every* state a small exhaustive search reaches.

``test_explain_agrees_with_fire.py`` judges the states on the checker's shortest trace to each
edge it fired. Here a breadth-first search of its own, through the marketplace (every event of
every aggregate, for one actor of every role and each argument set the checker tries, and the
clock moved to the next deadline), reaches every state of a few small bounds, to a depth; in
each, and at each deadline still pending there, every (event, actor, arguments) is explained
and then fired on the machine's workflow, and the two must agree (ADR 0015; issue 13,
item 2). The reasons met must read aloud, as there.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import pytest

from statemachines import StatemachinesError
from statemachines.core.engine import SPECS_BY_MODEL
from statemachines.verify.checker import ACTORS, Bounds, World, payloads, world_key
from statemachines.verify.world import Snapshot
from tests.verify.test_explain_agrees_with_fire import (
    _arguments,
    _compare,
    _moments,
    _targets,
    unreadable,
)

BOUNDS = {
    "hiring": Bounds(
        contracts=0, jobs=1, team=False, focus=("account", "job", "proposal"), depth=5
    ),
    "fixed-price": Bounds(
        contracts=1, milestones=1, team=False, focus=("contract",), amounts=(500,), depth=4
    ),
    "hourly": Bounds(contracts=1, hourly=1, team=False, focus=("contract",), depth=3),
}
"""Small bounds, each searched to its depth."""


def _successors(world: World, snap: Snapshot) -> Iterator[None]:
    """Leave the world in each state one step from *snap* reaches (an event, or time)."""
    market = world.market
    kinds = world.bounds.focus or ("account", "membership", "job", "proposal", "contract")
    targets = [(kind, agg.id, agg) for kind in kinds for agg in market.store.values(kind)]
    for kind, key, agg in targets:
        for event in SPECS_BY_MODEL[type(agg)].events:
            for args in payloads(world, kind, agg, event):
                for actor in ACTORS:
                    world.restore(snap)
                    try:
                        market.fire(kind, key, event, actor, **args)
                    except StatemachinesError:
                        continue
                    yield None
    world.restore(snap)
    now = world.clock.now()
    due = [d.due for a in world.aggregates() for d in a.deadlines if d.due > now]
    if due:
        world.clock.set(min(due))
        market.advance()
        yield None


def _every_state(bounds: Bounds) -> Iterator[World]:
    world = World(bounds)
    seen = {world_key(world)[0]}
    queue: deque[tuple[Snapshot, int]] = deque([(world.initial, 0)])
    while queue:
        snap, depth = queue.popleft()
        if depth < (bounds.depth or 0):
            for _ in _successors(world, snap):
                key = world_key(world)[0]
                if key not in seen:
                    seen.add(key)
                    queue.append((world.snapshot(), depth + 1))
        world.restore(snap)
        yield world


def _disagreements(world: World, judged: set[str], reasons: dict[str, str]) -> Iterator[str]:
    """Every attempt on every aggregate of *world*, now and at each pending deadline, that
    ``explain`` and ``fire`` disagree on; an aggregate met before in the same state, with
    the same history and facts, at the same moment, is not judged again (*judged*)."""
    snap = world.snapshot()
    for moment in _moments(world):
        world.restore(snap)
        world.clock.set(moment)
        for flow, agg, kind in list(_targets(world)):
            seen = repr((kind, flow.spec.save(agg), agg.history, flow.facts(agg, moment), moment))
            if seen in judged:
                continue
            judged.add(seen)
            for event in SPECS_BY_MODEL[type(agg)].events:
                for args in _arguments(world, kind, agg, event):
                    for actor in ACTORS:
                        yield from _compare(
                            world, snap, moment, flow, agg, event, actor, args, reasons
                        )


_RUNS: dict[str, tuple[int, list[str], dict[str, str]]] = {}
_MET: dict[str, set[tuple[str, ...]]] = {}
"""Per bound, the (account, proposal) states met together."""


def _run(name: str) -> tuple[int, list[str], dict[str, str]]:
    if name not in _RUNS:
        problems: list[str] = []
        reasons: dict[str, str] = {}
        judged: set[str] = set()
        met = _MET[name] = set()
        states = 0
        for world in _every_state(BOUNDS[name]):
            states += 1
            problems.extend(_disagreements(world, judged, reasons))
            accounts = world.market.store.values("account")
            proposals = world.market.store.values("proposal")
            met.update((a.id, a.state.value, p.state.value) for a in accounts for p in proposals)
        _RUNS[name] = (states, problems, reasons)
    return _RUNS[name]


def test_the_hiring_bound_reaches_a_closed_company_with_a_proposal_or_an_offer() -> None:
    _run("hiring")

    assert {("co-1", "deactivated", "submitted"), ("co-1", "deactivated", "offer_pending")} <= (
        _MET["hiring"]
    )


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_explain_says_what_fire_does_in_every_state_reached(name: str) -> None:
    states, problems, _ = _run(name)

    assert states > 20
    assert problems == [], "\n".join(problems[:20])


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_every_reason_met_in_every_state_reached_reads_aloud(name: str) -> None:
    _, _, reasons = _run(name)

    unfit = [
        f"{word!r} in {reason!r} ({where})"
        for reason, where in sorted(reasons.items())
        if (word := unreadable(reason)) is not None
    ]
    assert unfit == [], "\n".join(unfit)

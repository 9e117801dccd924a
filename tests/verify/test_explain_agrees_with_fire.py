"""``explain`` says what ``fire`` does: in every state the checker reaches, for every attempt.

The checker explores a few bounds (:func:`~statemachines.verify.checker.check`); every state on
the shortest trace to each edge it fired is rebuilt (:func:`~statemachines.verify.checker.replay`
step by step). In each, and again at each deadline still pending there with the clock moved
to it and nobody advancing (ADR 0015), every event of every aggregate (contracts' milestones
included) is explained and then fired, for one actor of every role and every argument set the
checker tries, straight on the machine's workflow: the verdict must be what firing does (the
target, or the same error with the same rule IDs and words), and explaining changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from statemachines import MilestoneReview, StatemachinesError, TransitionRefused
from statemachines.core.engine import SPECS_BY_MODEL, Workflow
from statemachines.verify.checker import (
    ACTORS,
    Bounds,
    World,
    check,
    payloads,
    replay,
    world_key,
)

BOUNDS = {
    "fixed-price": Bounds(
        contracts=1, milestones=1, team=False, focus=("contract",), amounts=(500,), depth=5
    ),
    "hourly": Bounds(contracts=1, hourly=1, team=False, focus=("contract",), depth=4),
    "accounts": Bounds(contracts=1, milestones=1, team=False, focus=("account",)),
}
"""Bounds whose search ends quickly; the checker finds no violation in any of them."""

KINDS = ("account", "membership", "job", "proposal", "contract")


def _states(bounds: Bounds) -> Iterator[World]:
    """Every distinct state on the checker's shortest traces (the world, restored after use)."""
    report = check(bounds)
    assert report.ok, report.summary()
    seen: set[Any] = set()
    for trace in report.paths.values():
        for n in range(len(trace) + 1):
            world, _ = replay(bounds, trace[:n])
            key = world_key(world)[0]
            if key not in seen:
                seen.add(key)
                yield world


def _targets(world: World) -> Iterator[tuple[Workflow[Any, Any], Any, str]]:
    market = world.market
    review = MilestoneReview(clock=world.clock)
    for kind in KINDS:
        flow = market._flows[kind]
        for agg in market.store.values(kind):
            yield flow, agg, kind
            for ms in getattr(agg, "milestones", ()):
                yield review, ms, "milestone"


def _moments(world: World) -> list[datetime]:
    now = world.clock.now()
    due = {
        d.due
        for _, agg, _ in _targets(world)
        for d in agg.deadlines
        if d.due >= now  # pending: due later, nobody has advanced
    }
    return [now, *sorted(due)]


def _disagreements(world: World) -> Iterator[str]:
    snap = world.snapshot()
    for moment in _moments(world):
        world.restore(snap)
        world.clock.set(moment)
        for flow, agg, kind in _targets(world):
            spec = SPECS_BY_MODEL[type(agg)]
            for event in spec.events:
                for args in _arguments(world, kind, agg, event):
                    for actor in ACTORS:
                        yield from _compare(world, snap, moment, flow, agg, event, actor, args)


def _arguments(world: World, kind: str, agg: Any, event: str) -> Iterator[dict[str, Any]]:
    """The checker's arguments for *event*, each milestone for a ``milestone`` it leaves out;
    argument sets still missing one the event requires are left out (``explain`` answers
    those for the arguments given, by design)."""
    spec = SPECS_BY_MODEL[type(agg)]
    required = {p.name for p in spec.params(event) if p.required}
    for args in payloads(world, kind, agg, event) if kind in KINDS else [{}]:
        if "milestone" in required - set(args):
            for ms in getattr(agg, "milestones", ()):
                yield {**args, "milestone": ms.id}
        elif required <= set(args):
            yield args


def _compare(  # noqa: PLR0917  (the attempt, spelled out)
    world: World,
    snap: Any,
    moment: datetime,
    flow: Workflow[Any, Any],
    agg: Any,
    event: str,
    actor: Any,
    args: dict[str, Any],
) -> Iterator[str]:
    spec = flow.spec
    where = f"{spec.name} {agg.id} in {agg.state.value} at {moment}: {event} by {actor} {args}"
    before = (spec.save(agg), list(agg.history))
    verdict = flow.explain(agg, event, actor, **args)
    if (spec.save(agg), list(agg.history)) != before:
        yield f"{where}: explain changed the aggregate"
    try:
        decision = flow.fire(agg, event, actor, **args)
    except StatemachinesError as err:
        if verdict.allowed:
            yield f"{where}: explain allows it, fire raises {type(err).__name__}: {err}"
        elif type(err) is not type(verdict.error) or str(err) != str(verdict.error):
            yield f"{where}: explain says {verdict.error!r}, fire raises {err!r}"
        elif isinstance(err, TransitionRefused) and err.rule_ids != verdict.rule_ids:
            yield f"{where}: explain cites {verdict.rule_ids}, fire {err.rule_ids}"
    else:
        if not verdict.allowed:
            yield f"{where}: explain refuses it ({verdict.error}), fire does it"
        elif verdict.target is not decision.target:
            yield f"{where}: explain says {verdict.target}, fire went to {decision.target}"
    world.restore(snap)
    world.clock.set(moment)


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_explain_says_what_fire_does_in_every_state_the_checker_reaches(name: str) -> None:
    problems: list[str] = []
    states = 0
    for world in _states(BOUNDS[name]):
        states += 1
        problems.extend(_disagreements(world))
    assert states > 10
    assert problems == [], "\n".join(problems[:20])

"""Shortest paths through the tables: a trace from the initial world to every edge that fires.

A light breadth-first search over the same bounded marketplace as the checker
(:class:`~statemachines.verify.world.World`), without the checker's oracle and
invariants: from each state it fires, for every aggregate of the focused
kinds, every event for every role that the table lets fire it (with the
checker's arguments), and moves time to the next deadline (and one second
before it). The first time an edge fires, directly or as a cascade (a
milestone moved by its contract, an account settled by the marketplace, a
deadline), the trace that got there is its shortest path. The search stops as
soon as every edge of the wanted machines has a path, or at *depth*.

``tests/test_paths.py`` replays each path as a pytest case.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from statemachines.core.actors import Role
from statemachines.core.engine import SPECS, SPECS_BY_MODEL
from statemachines.errors import StatemachinesError
from statemachines.verify.coverage import _edge_index
from statemachines.verify.key import world_key
from statemachines.verify.oracle import _roles_for
from statemachines.verify.report import _trace
from statemachines.verify.world import ACTORS, SECOND, Bounds, Snapshot, Step, World, payloads

__all__ = ["shortest_paths"]


def shortest_paths(  # noqa: PLR0912  (the search loop, in one place)
    bounds: Bounds, machines: Iterable[str], *, depth: int
) -> dict[tuple[str, int], tuple[Step, ...]]:
    """For every edge of *machines* reachable within *depth* steps: its shortest trace."""
    wanted = {(m, i) for m in machines for i in range(len(SPECS[m].edges))}
    world = World(bounds)
    market = world.market
    start, _ = world_key(world, symmetry=bounds.symmetry)
    parents: dict[Any, tuple[Any, Step | None]] = {start: (None, None)}
    depth_of = {start: 0}
    found: dict[tuple[str, int], tuple[Step, ...]] = {}
    queue: deque[tuple[Any, Snapshot]] = deque([(start, world.initial)])
    kinds = bounds.focus or ("account", "membership", "contract")
    while queue and not wanted <= found.keys():
        key, snap = queue.popleft()
        if depth_of[key] >= depth:
            continue
        world.restore(snap)
        targets = [(k, a.id) for k in kinds for a in market.store.values(k)]
        moves: list[Step] = []
        now = world.clock.now()
        for kind, agg_id in targets:
            agg = market.get(kind, agg_id)
            spec = market._flows[kind].spec
            for event in spec.events:
                roles = _roles_for(spec, agg.state, event)
                for actor in ACTORS:
                    if actor.role in roles and actor.role is not Role.SYSTEM:
                        moves.extend(
                            Step(now, kind, agg_id, event, actor, tuple(p.items()))
                            for p in payloads(world, kind, agg, event)
                        )
        due = [a.deadlines[0].due for a in world.aggregates() if a.deadlines]
        if due:
            moves.extend(Step(at) for at in (min(due), min(due) - SECOND) if at > now)
        for step in moves:
            world.restore(snap)
            lengths = _lengths(snap)
            world.clock.set(step.at)
            try:
                if step.event:
                    assert step.actor is not None
                    market.fire(
                        step.kind, step.target, step.event, step.actor, **dict(step.payload)
                    )
                else:
                    market.advance(step.at)
            except StatemachinesError:
                continue
            for edge in _fired(snap, lengths):
                if edge not in found:
                    found[edge] = (*_trace(parents, key), step)
            new, _ = world_key(world, symmetry=bounds.symmetry)
            if new not in parents:
                parents[new] = (key, step)
                depth_of[new] = depth_of[key] + 1
                queue.append((new, world.snapshot()))
    return {edge: path for edge, path in found.items() if edge in wanted}


def _lengths(snap: Snapshot) -> dict[int, int]:
    out: dict[int, int] = {}
    pending = list(snap[1])
    while pending:
        agg, _, history, kids, *_ = pending.pop()
        out[id(agg)] = len(history)
        for captured in kids:
            pending.extend(captured)
    return out


def _fired(snap: Snapshot, lengths: dict[int, int]) -> list[tuple[str, int]]:
    out = []
    pending = list(snap[1])
    while pending:
        agg, _, _, kids, *_ = pending.pop()
        for captured in kids:
            pending.extend(captured)
        spec = SPECS_BY_MODEL[type(agg)]
        for d in agg.history[lengths[id(agg)] :]:
            for edge in spec.edges_from(d.source, d.event):
                if edge.target is d.target:
                    out.append((spec.name, _edge_index(spec.name, edge)))
                    break
    # Milestones added by this very step are not in the snapshot; their edges fire later.
    return out

"""Shortest paths to edges the checker's world cannot reach: jobs, proposals, agencies, debts.

:func:`statemachines.verify.paths.shortest_paths` searches the checker's bounded
marketplace (:class:`~statemachines.verify.world.World`): accounts, team memberships
and contracts. Some edges need more than that world holds: job posts and
proposals, an agency whose owner also works as a freelancer (closing the agency
unlinks that account, ``unlink_agency``), a company that owes the platform
money (``pay_owed``). This module searches such worlds, built from the same
public pieces and fired through the same :class:`~statemachines.marketplace.market.Marketplace`:

* :class:`Setting` describes a world: the checker's :class:`~statemachines.verify.world.Bounds`
  plus draft jobs and proposals, a past due and an owner-freelancer, and which kinds
  of aggregate (and, optionally, which events) the search tries;
* :func:`edge_paths` is a breadth-first search from that world's initial state: from
  each state it fires every event of the tried kinds for every role the table lets
  fire it (with the checker's arguments, :func:`~statemachines.verify.world.payloads`),
  and moves time to the next deadline and one second before it. The first trace
  that fires an edge (directly, as a deadline, or as a cascade) is its shortest
  path in that world. It stops as soon as every wanted edge has one, at *depth*, or
  after *max_states* states;
* :func:`replay_path` runs a trace on a fresh world of the setting;
* :func:`machine_paths` searches one machine alone, through its own workflow from
  an initial aggregate: for an edge that no event of the marketplace can fire
  (the milestone's ``edit``: no contract event edits a draft milestone).

The paths are found, never written by hand; ``tests/test_paths.py`` replays each.

>>> found = edge_paths(Setting(jobs=1, kinds=("job",)), ["job"], depth=2)
>>> [str(step) for step in found[("job", 5)]]  # doctest: +NORMALIZE_WHITESPACE
['ana-client_owner: post() on job J-1 -> ',
 'ana-client_owner: remove_posting() on job J-1 -> ']
>>> _, last = replay_path(Setting(jobs=1, kinds=("job",)), found[("job", 5)])
>>> [(d.event, d.target.name) for d in last]
[('remove_posting', 'CLOSED')]
"""

from __future__ import annotations

import copy
import enum
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from statemachines.core.actors import SYSTEM, Actor, Role
from statemachines.core.clock import ManualClock
from statemachines.core.engine import SPECS, SPECS_BY_MODEL, Decision, Workflow
from statemachines.core.money import Money
from statemachines.errors import StatemachinesError
from statemachines.machines.account.table import Account, AccountType
from statemachines.machines.job import STATUS
from statemachines.marketplace.market import KINDS, MemoryStore, Terms
from statemachines.verify.key import world_key
from statemachines.verify.report import _trace
from statemachines.verify.world import (
    ACTORS,
    SECOND,
    START,
    Bounds,
    Snapshot,
    Step,
    World,
    payloads,
    play,
)

__all__ = [
    "MachineStep",
    "PathWorld",
    "Setting",
    "edge_paths",
    "machine_paths",
    "replay_machine_path",
    "replay_path",
]


@attrs.frozen
class Setting:
    """A world for the path search: the checker's bounds and what they cannot express."""

    bounds: Bounds = attrs.field(factory=lambda: Bounds(contracts=0))
    jobs: int = 0
    """Draft job posts of the client company ``co-1`` (``J-1``, ``J-2``, ...)."""
    proposals: int = 0
    """Draft proposals of freelancer ``fl-1`` on ``J-1`` (``P-1``, ...); needs a job."""
    hourly_offer: bool = False
    """The proposals' terms are hourly (accepting an offer starts an hourly contract)."""
    owed: int = 0
    """Cents that every account owes the platform at the start (a past due, CL-6, ACC-GEN-1)."""
    freelancer_agency: bool = False
    """Freelancer ``fl-1`` also owns agency ``ag-2`` (closing it unlinks ``fl-1``, AG-7)."""
    kinds: tuple[str, ...] = ("account", "membership", "contract")
    """The kinds of aggregate whose events are tried (time still moves everything)."""
    events: tuple[str, ...] = ()
    """Only these events are tried (empty: every event of the tried kinds)."""
    arguments: Mapping[str, tuple[Mapping[str, Any], ...]] = attrs.field(factory=dict)
    """Event -> the arguments tried instead of the checker's (a suspension for the terms of
    service rather than for billing, SUSP-1)."""

    def actors(self) -> tuple[Actor, ...]:
        """The checker's actors, and ``fl-1`` as the owner of agency ``ag-2``."""
        extra = (Actor("fl-1", Role.AGENCY_OWNER, party="ag-2"),) if self.freelancer_agency else ()
        return ACTORS + extra


class PathWorld(World):
    """The checker's world with the extras of a :class:`Setting`, every kind snapshotted."""

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        super().__init__(setting.bounds)
        m = self.market
        if setting.freelancer_agency:
            m.open_account(
                Account(id="ag-2", type=AccountType.AGENCY, owner="fl-1", company="ag-2")
            )
        for acc in list(m.store.values("account")) if setting.owed else ():
            m.record_past_due(acc.id, Money(setting.owed))
        for n in range(1, setting.jobs + 1):
            m.draft_job(f"J-{n}", "co-1")
        terms = Terms(hourly=True, rate=Money(2_000)) if setting.hourly_offer else Terms()
        for n in range(1, setting.proposals + 1):
            m.draft_proposal(f"P-{n}", "J-1", "fl-1", terms=terms)
        for agg in self.aggregates():
            agg.history.clear()
        m.audit.clear()
        self.initial = self.snapshot()

    def aggregates(self) -> Iterator[Any]:
        """Every aggregate of every kind (jobs and proposals too), in store order."""
        for kind in KINDS:
            yield from self.market.store.values(kind)

    def restore(self, snap: Snapshot) -> None:
        """Put the world back, dropping aggregates added since (a contract an offer started)."""
        kept = {id(saved[0]) for saved in snap[1]}
        store = self.market.store
        assert isinstance(store, MemoryStore)  # the world's own in-memory store
        items = store._items
        for kind in KINDS:
            by_key = items.get(kind, {})
            for key in [k for k, agg in by_key.items() if id(agg) not in kept]:
                del by_key[key]
        super().restore(snap)


def _plain(value: Any, now: datetime) -> Any:
    """A hashable rendering of a field, times relative to *now*."""
    if isinstance(value, datetime):
        return int((value - now).total_seconds())
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v, now) for v in value)
    if attrs.has(type(value)):
        return (
            type(value).__name__,
            *(_plain(v, now) for v in attrs.astuple(value, recurse=False)),
        )
    if isinstance(value, (enum.Enum, str, int, float, bool, type(None))):
        return value
    return repr(value)


def _extra_key(world: World) -> tuple[Any, ...]:
    """Jobs and proposals, which :func:`~statemachines.verify.key.world_key` does not key."""
    now = world.clock.now()
    return tuple(
        (
            agg.id,
            *(
                _plain(v, now)
                for k, v in attrs.asdict(agg, recurse=False).items()
                if k != "history"
            ),
        )
        for kind in ("job", "proposal")
        for agg in world.market.store.values(kind)
    )


def _walk(aggs: Iterable[Any]) -> Iterator[Any]:
    for agg in aggs:
        yield agg
        for name in SPECS_BY_MODEL[type(agg)].children:
            yield from _walk(getattr(agg, name))


_INDEX: dict[int, tuple[str, int]] = {
    id(edge): (name, i) for name, spec in SPECS.items() for i, edge in enumerate(spec.edges)
}


def _edge_of(agg: Any, d: Decision) -> tuple[str, int] | None:
    spec = SPECS_BY_MODEL[type(agg)]
    for edge in spec.edges_from(d.source, d.event):
        if edge.target is d.target:
            return _INDEX[id(edge)]
    return None


def _moves(world: PathWorld) -> list[Step]:
    setting = world.setting
    market = world.market
    now = world.clock.now()
    moves: list[Step] = []
    for kind in setting.kinds:
        spec = market._flows[kind].spec
        for agg in market.store.values(kind):
            for event in setting.events or spec.events:
                # only an edge can fire: forbidden rows and illegal events are not tried
                roles = frozenset().union(*(e.roles for e in spec.edges_from(agg.state, event)))
                for actor in setting.actors():
                    if actor.role in roles and actor.role is not Role.SYSTEM:
                        moves.extend(
                            Step(now, kind, agg.id, event, actor, tuple(p.items()))
                            for p in _payloads(world, kind, agg, event)
                        )
    due = [a.deadlines[0].due for a in world.aggregates() if a.deadlines]
    if due:
        moves.extend(Step(at) for at in (min(due), min(due) - SECOND) if at > now)
    return moves


def _payloads(world: PathWorld, kind: str, agg: Any, event: str) -> list[dict[str, Any]]:
    """The setting's arguments for *event*, else the checker's; a job or proposal event,
    its defaults (a candidate: ``fl-1``)."""
    given = world.setting.arguments.get(event)
    if given is not None:
        return [dict(p) for p in given]
    if kind in {"account", "membership", "contract"}:
        return payloads(world, kind, agg, event)
    if event == "mark_candidate":
        return [{"freelancer": "fl-1", "status": STATUS[0]}]
    return [{}]


def edge_paths(
    setting: Setting,
    wanted: Iterable[tuple[str, int] | str],
    *,
    depth: int,
    max_states: int | None = None,
) -> dict[tuple[str, int], tuple[Step, ...]]:
    """For every *wanted* edge reachable within *depth*: its shortest trace in *setting*.

    *wanted* holds ``(machine, edge index)`` pairs, or machine names for all their edges.
    """
    want: set[tuple[str, int]] = set()
    for item in wanted:
        if isinstance(item, str):
            want.update((item, i) for i in range(len(SPECS[item].edges)))
        else:
            want.add(item)
    world = PathWorld(setting)
    start = (world_key(world)[0], _extra_key(world))
    parents: dict[Any, tuple[Any, Step | None]] = {start: (None, None)}
    found: dict[tuple[str, int], tuple[Step, ...]] = {}
    queue: deque[tuple[Any, int, Snapshot]] = deque([(start, 0, world.initial)])
    while queue and not want <= found.keys():
        if max_states is not None and len(parents) >= max_states:
            break
        key, level, snap = queue.popleft()
        if level >= depth:
            continue
        world.restore(snap)
        for step in _moves(world):
            world.restore(snap)
            lengths = {id(a): len(a.history) for a in _walk(world.aggregates())}
            try:
                play(world, step)
            except StatemachinesError:
                continue
            for agg in _walk(world.aggregates()):
                for d in agg.history[lengths.get(id(agg), 0) :]:
                    edge = _edge_of(agg, d)
                    if edge is not None and edge not in found:
                        found[edge] = (*_trace(parents, key), step)
            new = (world_key(world)[0], _extra_key(world))
            if new not in parents:
                parents[new] = (key, step)
                queue.append((new, level + 1, world.snapshot()))
    return {edge: path for edge, path in found.items() if edge in want}


def replay_path(setting: Setting, steps: Iterable[Step]) -> tuple[PathWorld, list[Decision]]:
    """Run *steps* on a fresh world of *setting*; returns it and the last step's decisions."""
    world = PathWorld(setting)
    last: list[Decision] = []
    for step in steps:
        before = {id(a): len(a.history) for a in _walk(world.aggregates())}
        play(world, step)
        last = [d for a in _walk(world.aggregates()) for d in a.history[before.get(id(a), 0) :]]
    return world, last


# --------------------------------------------------------------------------- one machine alone


@attrs.frozen
class MachineStep:
    """A step on one aggregate alone: *actor* firing *event*, time moving to *at*, or the
    facts the machine reads from the rest of the marketplace becoming ``facts[outside]``."""

    at: datetime
    event: str = ""
    actor: Actor | None = None
    payload: tuple[tuple[str, Any], ...] = ()
    outside: int | None = None

    def __str__(self) -> str:
        if self.outside is not None:
            return f"the outside world -> facts[{self.outside}]"
        if not self.event:
            return f"time -> {self.at.isoformat()}"
        args = ", ".join(f"{k}={v}" for k, v in self.payload)
        return f"{self.actor}: {self.event}({args})"


MakeFlow = Callable[[ManualClock, Callable[[], Any]], Workflow[Any, Any]]
"""Builds a machine's workflow on a clock, reading its facts from the given callable."""


def _no_arguments(agg: Any, event: str) -> list[dict[str, Any]]:
    return [{}]


def machine_paths(
    make_flow: MakeFlow,
    initial: Any,
    *,
    depth: int,
    actors: Sequence[Actor] = ACTORS,
    arguments: Callable[[Any, str], list[dict[str, Any]]] = _no_arguments,
    facts: Sequence[Any] = (None,),
) -> dict[int, tuple[MachineStep, ...]]:
    """Per edge index of one machine: the shortest trace from *initial* through its own workflow.

    Every event is tried for every actor whose role an edge names (the system too, for
    events without a timer: the marketplace fires those), with *arguments*; time moves
    to the aggregate's next deadline and one second before it; and what the machine
    reads from the rest of the marketplace may change to any of *facts* (it starts as
    ``facts[0]``).
    """
    current = [facts[0]]
    flow = make_flow(ManualClock(START), lambda: current[0])
    spec = flow.spec
    start = (START, 0, _copy(initial))
    parents: dict[Any, tuple[Any, MachineStep | None]] = {(0, _key(initial, START)): (None, None)}
    found: dict[int, tuple[MachineStep, ...]] = {}
    queue: deque[tuple[int, tuple[datetime, int, Any]]] = deque([(0, start)])
    while queue and len(found) < len(spec.edges):
        level, (now, outside, agg) = queue.popleft()
        if level >= depth:
            continue
        key = (outside, _key(agg, now))
        moves = [
            MachineStep(now, event, actor, tuple(p.items()))
            for event in spec.events
            for actor in actors
            if any(
                actor.role in e.roles and (actor is not SYSTEM or e.timer is None)
                for e in spec.edges_from(agg.state, event)
            )
            for p in arguments(agg, event)
        ]
        moves.extend(MachineStep(now, outside=n) for n in range(len(facts)) if n != outside)
        if agg.deadlines:
            due = agg.deadlines[0].due
            moves.extend(MachineStep(at) for at in (due, due - SECOND) if at > now)
        for step in moves:
            nxt = _copy(agg)
            now_outside = outside if step.outside is None else step.outside
            current[0] = facts[now_outside]
            try:
                decisions = _fire_one(flow, nxt, step)
            except StatemachinesError:
                continue
            for d in decisions:
                edge = _edge_of(nxt, d)
                if edge is not None and edge[1] not in found:
                    found[edge[1]] = (*_trace(parents, key), step)
            new = (now_outside, _key(nxt, step.at))
            if new not in parents:
                parents[new] = (key, step)
                queue.append((level + 1, (step.at, now_outside, nxt)))
    return found


def _copy(agg: Any) -> Any:
    """A copy to fire on: field values are immutable, the history list is not."""
    out = copy.copy(agg)
    out.history = list(agg.history)
    return out


def _key(agg: Any, now: datetime) -> Any:
    return tuple(
        _plain(v, now) for k, v in attrs.asdict(agg, recurse=False).items() if k != "history"
    )


def _fire_one(flow: Workflow[Any, Any], agg: Any, step: MachineStep) -> list[Decision]:
    if step.outside is not None:
        return []
    if step.event:
        assert step.actor is not None
        return [flow.fire_at(agg, step.event, step.actor, step.at, **dict(step.payload))]
    return flow.advance(agg, step.at)


def replay_machine_path(
    make_flow: MakeFlow, initial: Any, steps: Iterable[MachineStep], facts: Sequence[Any] = (None,)
) -> tuple[Any, list[Decision]]:
    """Run *steps* on a copy of *initial*; returns it and the last step's decisions."""
    current = [facts[0]]
    flow = make_flow(ManualClock(START), lambda: current[0])
    agg = _copy(initial)
    last: list[Decision] = []
    for step in steps:
        if step.outside is not None:
            current[0] = facts[step.outside]
        last = _fire_one(flow, agg, step)
    return agg, last

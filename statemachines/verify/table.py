"""A fast explorer of many copies of one machine, with a successor function compiled from its table.

The full checker (:mod:`statemachines.verify.checker`) runs the real engine, guards and
marketplace in every state, which costs milliseconds a state. This module
answers the structural question quickly: which combinations of states can *N*
groups of *M* aggregates of one machine reach, when every aggregate moves by
the table's edges (roles, guards and time left out: an over-approximation),
and at most ``live_limit`` aggregates of a group are in a *live* state at once
(MS-2: one funded or in-review milestone per contract)?

The successor table is compiled from :attr:`MachineSpec.edges` (never a second
hand-written copy); ``tests/verify/test_table.py`` cross-checks
it against the engine on every edge. Symmetry reduction keeps each group's
states sorted and the groups sorted: groups are interchangeable, and so are
aggregates within a group.

>>> from statemachines.machines.milestone import MILESTONE
>>> explore(MILESTONE, groups=1, members=2, live=LIVE_MILESTONE).states
30
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from typing import Any

import attrs

from statemachines.core.engine import MachineSpec

__all__ = ["LIVE_MILESTONE", "Compiled", "TableReport", "compile_table", "explore"]

LIVE_MILESTONE = frozenset({"FUNDED", "SUBMITTED", "CHANGES_REQUESTED", "RESUBMITTED", "DISPUTED"})
"""Milestone states that hold a contract's escrow (MS-2 allows one per contract; a disputed
milestone still holds its money, MS-DSP-1)."""


@attrs.frozen
class Compiled:
    """A machine's table as integers: ``succ[state]`` is the tuple of reachable next states."""

    names: tuple[str, ...]
    initial: int
    succ: tuple[tuple[int, ...], ...]
    events: tuple[tuple[tuple[str, int], ...], ...]
    """Per state, every (event, target) pair, for cross-checks and path tests."""


def compile_table(spec: MachineSpec[Any, Any]) -> Compiled:
    """Compile *spec*'s edges into integer successor lists (self-loops dropped)."""
    names = tuple(s.name for s in spec.states)
    index = {n: i for i, n in enumerate(names)}
    events: list[list[tuple[str, int]]] = [[] for _ in names]
    for edge in spec.edges:
        for source in edge.sources:
            pair = (edge.event, index[edge.target.name])
            if pair not in events[index[source.name]]:
                events[index[source.name]].append(pair)
    succ = tuple(tuple(sorted({t for _, t in pairs if t != i})) for i, pairs in enumerate(events))
    return Compiled(names, index[spec.initial.name], succ, tuple(tuple(e) for e in events))


@attrs.frozen
class TableReport:
    """What :func:`explore` found."""

    states: int
    transitions: int
    seconds: float

    @property
    def rate(self) -> float:
        """States per second."""
        return self.states / self.seconds if self.seconds else 0.0


def explore(
    spec: MachineSpec[Any, Any],
    *,
    groups: int,
    members: int,
    live: Iterable[str] = (),
    live_limit: int = 1,
    symmetry: bool = True,
) -> TableReport:
    """Every reachable combination of states of *groups* x *members* aggregates of *spec*."""
    table = compile_table(spec)
    live_ids = frozenset(table.names.index(n) for n in live)
    succ = table.succ
    group = (table.initial,) * members
    start = (group,) * groups
    seen = {start}
    queue = deque([start])
    transitions = 0
    began = time.process_time()
    while queue:
        world = queue.popleft()
        for g, states in enumerate(world):
            busy = sum(1 for s in states if s in live_ids)
            for i, s in enumerate(states):
                if symmetry and i and states[i - 1] == s:
                    continue  # the same move of an identical member
                for t in succ[s]:
                    if t in live_ids and s not in live_ids and busy >= live_limit:
                        continue
                    moved = (*states[:i], t, *states[i + 1 :])
                    if symmetry:
                        moved = tuple(sorted(moved))
                    new = (*world[:g], moved, *world[g + 1 :])
                    if symmetry:
                        new = tuple(sorted(new))
                    transitions += 1
                    if new not in seen:
                        seen.add(new)
                        queue.append(new)
    return TableReport(len(seen), transitions, time.process_time() - began)

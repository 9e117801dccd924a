"""The successor audit: two states the key merges must have the same successors.

The key (:func:`statemachines.verify.key.world_key`) merges states that differ in what no
guard, invariant or obligation reads, so the search explores one of them for both. The
verdict audit (``--audit``) checks that every attempt gets the same verdict in both; this one
checks what the search goes on to explore: from a sample of merged pairs (the state a step
reached, and the state first stored under the same key) it computes every successor of both,
attempt by attempt and move of time by move of time, and requires

* every invariant of a state holding in both (the search checks a merged state's only on a
  sample, leaving them to the state first stored under its key),
* the same verdict on every attempt (:func:`~statemachines.verify.oracle.verdicts`), and
* the same successors: each attempt that fires in one fires in the other, and reaches a state
  with the same key; each move of time reaches a state with the same key.

So a merged state's successors are each represented by the successors the search explored
from the state it was merged into (the key is a bisimulation on the sample). Both states are
rebuilt by replaying their shortest paths on a world of their own (:func:`replay_state`),
whose successors are computed by a search of its own: nothing of the running search (its
world, caches or counts) is touched.

``python -m statemachines check --audit-successors N`` audits *N* merged pairs, drawn evenly
from the merges of the search (:class:`SuccessorAudit`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from statemachines.verify.oracle import verdicts
from statemachines.verify.report import _trace
from statemachines.verify.world import Bounds, Snapshot, Step, play

if TYPE_CHECKING:
    from statemachines.verify.search import _Search

__all__ = ["SuccessorAudit", "Successors", "replay_state", "successors_of"]

Successors = dict[tuple[Any, ...], Any]
"""A state's successors: per attempt that fires (kind, target, event, actor and the
attempt's rank among that actor's attempts of the event) or move of time (``("time", i)``:
the next moment, then a second before it), the key of the state it reaches."""


def replay_state(search: _Search, steps: tuple[Step, ...]) -> Snapshot:
    """Put *search*'s world in the state *steps* reach from the initial world (attempts
    fired through the marketplace, time moved with what falls due fired) and snapshot it."""
    world = search.world
    world.restore(world.initial)
    for step in steps:
        play(world, step)
    return world.snapshot()


def successors_of(search: _Search, snap: Snapshot) -> tuple[Any, tuple[Any, ...], Successors]:
    """The key of the state *snap* holds (in *search*'s world), its verdicts, and its
    successors (:data:`Successors`)."""
    key, moments = search.key(snap)
    search.world.restore(snap)
    # every invariant of the state, in full: the search left them to the state first stored
    # under the key (a problem raises, and the audit reports it)
    search.invariants(None, None, None, snap, full=True)
    said = verdicts(search.world)
    out: Successors = {}
    seen: dict[tuple[Any, ...], int] = {}
    times = 0
    for ((new_key, _), step), _ in search.successors(key, snap, moments, expand=True):
        if step.event:
            assert step.actor is not None
            what = (step.kind, step.target, step.event, step.actor.id)
            n = seen[what] = seen.get(what, -1) + 1
            out[(*what, n)] = new_key
        else:
            out[("time", times)] = new_key
            times += 1
    return key, said, out


def _unranked(key: Any) -> Any:
    """*key* without the ranks of its moments (:func:`~statemachines.verify.key.world_key`'s
    second item): what every aggregate holds, its times bucketed, but not the order in which
    their next moments come."""
    return (key[0], *key[2:])


def _differences(own: Any, a: Successors, b: Successors) -> tuple[list[str], int]:
    """What differs between the successors of two states under the key *own*, in words,
    and how many successors differ only in the ranks of their moments.

    A successor one state lacks is the state itself: the search leaves out a step back to
    the same key, and the second before the next moment when that second is now."""
    out = []
    ranks = 0
    for what in sorted({*a, *b}, key=repr):
        mine, other = a.get(what, own), b.get(what, own)
        if mine == other:
            continue
        if _unranked(mine) == _unranked(other):
            ranks += 1
        else:
            out.append(f"{what}: reaches another key")
    return out, ranks


@attrs.define
class SuccessorAudit:
    """Draws merged pairs while a search runs, and compares their successors at its end.

    *pairs*: how many merged pairs to compare at most. The first merges are all taken while
    fewer than *pairs* are held; after that each merge replaces a held one with the
    probability that keeps the sample uniform over all merges (reservoir sampling), so the
    pairs come from the whole search, the deep states included.
    """

    pairs: int
    seed: int = 0
    held: list[tuple[tuple[Step, ...], tuple[Step, ...]]] = attrs.Factory(list)
    merges: int = 0
    compared: int = 0
    """Pairs whose successors were compared (all equal, or the search reports the first
    that was not)."""
    successors: int = 0
    """Successors compared in all (of both states of every pair)."""
    ranks: int = 0
    """Successors of a pair that reach keys differing only in the ranks of their moments
    (the key's known limit: it ranks the *next* crossing of each time, so a moment a step
    creates may fall between later crossings in one state and not in the other)."""
    _draw: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._draw = random.Random(self.seed)

    def note(
        self, parents: Mapping[Any, tuple[Any, Step | None]], current: Any, step: Step, key: Any
    ) -> None:
        """A step from the state stored under *current* reached *key*, already stored."""
        self.merges += 1
        if len(self.held) < self.pairs:
            slot = len(self.held)
            self.held.append(((), ()))
        else:
            slot = self._draw.randrange(self.merges)
            if slot >= self.pairs:
                return
        self.held[slot] = (_trace(parents, key), (*_trace(parents, current), step))

    def run(self, bounds: Bounds) -> str | None:
        """Compare the successors of every pair held, each state rebuilt on a world of its
        own; the first difference, in words (None: every pair had the same successors)."""
        from statemachines.verify.search import _Found, _Search  # noqa: PLC0415  (search imports us)

        twin = _Search(attrs.evolve(bounds, audit=False, audit_successors=0, max_states=None))
        for first_path, merged_path in self.held:
            try:
                first = successors_of(twin, replay_state(twin, first_path))
                merged = successors_of(twin, replay_state(twin, merged_path))
            except _Found as found:
                return f"a merged pair ({_path(merged_path)}): {found.problem}"
            self.compared += 1
            self.successors += len(first[2]) + len(merged[2])
            if first[0] != merged[0]:
                return (
                    f"replaying {_path(merged_path)} reached another key than the search "
                    f"stored it under ({_path(first_path)})"
                )
            if first[1] != merged[1]:
                return (
                    f"the key merges states with other verdicts: {_path(first_path)} and "
                    f"{_path(merged_path)}"
                )
            diff, ranks = _differences(first[0], first[2], merged[2])
            self.ranks += ranks
            if diff:
                return (
                    f"the key merges states with other successors: {_path(first_path)} and "
                    f"{_path(merged_path)}: {'; '.join(diff[:3])}"
                )
        return None


def _path(steps: tuple[Step, ...]) -> str:
    return "[" + "; ".join(str(s) for s in steps) + "]"

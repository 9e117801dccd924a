"""The checker's search: breadth first over the abstract states of a bounded marketplace.

From every state it tries every attempt (:func:`statemachines.verify.world.payloads`, for
one actor of every role) through the marketplace, compares the outcome with the oracle
(:func:`statemachines.verify.oracle.predict`), moves time to the next moment that matters,
checks the invariants in every new state, and stores the states under their key
(:func:`statemachines.verify.key.world_key`). :func:`check` runs it.
"""

from __future__ import annotations

import contextlib
import gc
import math
import random
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, NamedTuple

import attrs

from statemachines.core.actors import Actor, Role
from statemachines.core.engine import SPECS_BY_MODEL, MachineSpec
from statemachines.errors import StatemachinesError, TransitionRefused
from statemachines.machines.account.table import Account, AccountState
from statemachines.machines.contract.table import Contract
from statemachines.marketplace.invariants import (
    inv_acc_3_settled_with_nothing_left,
    inv_acc_9_no_activity_while_frozen,
)
from statemachines.marketplace.market import Marketplace
from statemachines.verify.attempts import (
    Attempt,
    Facts,
    Outcome,
    Plan,
    Planner,
    context,
    reusable,
)
from statemachines.verify.checks import Checks
from statemachines.verify.coverage import _EDGE_INDEX, _edge_index
from statemachines.verify.invariants import (
    StepPart,
    moneys_of,
    states_of,
    step_closed_stays_closed,
    step_money_never_shrinks,
    step_no_way_back,
    step_part,
    step_problems,
)
from statemachines.verify.key import KeyCache
from statemachines.verify.oracle import (
    _ROLES,
    Expected,
    _outcome,
    verdicts,
)
from statemachines.verify.reduction import SuccessorAudit
from statemachines.verify.report import Progress, Report, _trace
from statemachines.verify.world import (
    ACTING,
    SECOND,
    Bounds,
    PremiseBroken,
    Saved,
    Snapshot,
    Step,
    World,
    same,
)

__all__ = ["BOOKKEEPING", "REUSED_SHARE", "check"]

REUSED_SHARE = 0.1
"""Where a plan is used again, the share of its decided attempts fired anyway is this
fraction of :attr:`Bounds.cross_check` (where it is made, the whole share)."""

BOOKKEEPING = frozenset({"export_records"})
"""Events that only record that something was done (checked in every state, never expanded:
no guard of v0.1 reads what they write)."""


KEEP_PARTS = 2_000_000
"""How many aggregates' :class:`~statemachines.verify.invariants.StepPart` are kept at most
(all are dropped when there are more, and read again)."""


class _Before(NamedTuple):
    """What the step invariants read of a state before its steps."""

    entries: tuple[Saved, ...]
    parts: list[StepPart]
    """Per entry, what the step invariants read of it."""
    accounts: dict[str, AccountState]
    """Each account's state by its id and by its company (INV-ACC-9)."""


class _Found(Exception):
    def __init__(self, step: Step | None, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.step = step


def _next_times(world: World, moments: Iterable[datetime]) -> list[datetime]:
    """Where time moves from now: the next moment that matters (a deadline, or a rule span
    crossed after a timestamp, see :func:`world_key`), and one second before it."""
    now = world.clock.now()
    due = [agg.deadlines[0].due for agg in world.aggregates() if agg.deadlines]
    later = [m for m in moments if m > now]
    if due:
        later.append(min(due))
    if not later:
        return []
    moment = min(later)
    return [at for at in (moment, moment - SECOND) if at > now]


class _Search:
    def __init__(
        self,
        bounds: Bounds,
        *,
        progress: Callable[[Progress], None] | None = None,
        every: float = 10.0,
    ) -> None:
        self.bounds = bounds
        self.world = World(bounds)
        self.world.tracking = True  # the search changes the world only through the market
        self.report = Report(bounds)
        self.first: dict[tuple[str, int], tuple[Any, Step]] = {}
        self.max_payments = (
            bounds.payments if bounds.payments is not None else bounds.milestones + 2
        )
        market = self.world.market
        self.facts = Facts(market.obligations, self.world.obligations_before)
        market.accounts.obligations = self.facts
        self.world.on_restore = self.facts.cache.clear
        self.progress = progress
        self.every = every
        self.planner = Planner(
            self.world, self.facts, self.report.coverage, thorough=bounds.thorough
        )
        self.dirty = False
        self.keys = KeyCache(bounds.symmetry)
        self.checks = Checks(jobs=bounds.jobs, initial_contracts=bounds.contracts)
        self.parents: dict[Any, tuple[Any, Step | None]] = {}
        self.parts: dict[int, StepPart] = {}
        self.bound_of: dict[int, bool] = {}
        """By version of a saved contract: whether it is within the bounds (:meth:`within`)."""
        self.passed_steps: set[tuple[tuple[int, int], ...]] = set()
        """The steps whose step invariants passed, by the versions of the aggregates whose
        parts they changed (before and after)."""
        self.uses: dict[int, list[Any]] = {}
        """By ``id`` of a plan's tallies (shared, never dropped): the tallies and how many
        times a plan with them was used."""
        self.sample = random.Random(0)
        self.pairs = SuccessorAudit(bounds.audit_successors) if bounds.audit_successors else None
        """finish: the merged pairs whose successors are compared at the end."""

    def key(self, snap: Snapshot) -> tuple[Any, list[datetime]]:
        """The key of the world as *snap* (just taken) holds it."""
        return self.keys.key(self.world, snap.versions)  # type: ignore[attr-defined]

    def within(self, snap: Snapshot) -> bool:
        """Whether the world as *snap* (just taken) holds it is within the bounds searched:
        every contract is (:meth:`contract_in_bound`), read once per version of the
        contract (what the bound reads of a contract is the contract's)."""
        bound = self.bound_of
        for entry in snap[1]:
            agg = entry.agg
            if not isinstance(agg, Contract):
                continue
            ok = bound.get(entry.version)
            if ok is None:
                ok = self.contract_in_bound(agg)
                if len(bound) >= KEEP_PARTS:
                    bound.clear()
                bound[entry.version] = ok
            if not ok:
                return False
        return True

    def contract_in_bound(self, c: Contract) -> bool:
        """Whether *c* is within the bounds searched (milestones, payments, refund
        requests, its diary)."""
        if len(c.milestones) > self.bounds.milestones or len(c.payments) > self.max_payments:
            return False
        if len(c.refund_requests) > 1:
            return False
        return not c.weeks or self.bounds.diary_within(c)  # finish: the diary's bounds

    def invariants(
        self,
        step: Step | None,
        before: _Before | None,
        decision: Any,
        snap: Snapshot,
        *,
        full: bool | None,
    ) -> None:
        """Check the world (as *snap*, just taken, holds it) after *step*: every invariant
        of a state (with *full*, all of them; when false, those whose inputs changed, see
        :class:`~statemachines.verify.checks.Checks`; when None, none) and the invariants
        of the step."""
        world = self.world
        market = world.market
        now = world.clock.now()
        checks = self.checks
        ran = checks.run
        versions = snap.versions  # type: ignore[attr-defined]
        problems = [] if full is None else checks.state(market, now, versions, full=full)
        count = checks.run - ran
        if before is not None:
            problems += self.step_invariants(before, snap, full=bool(full))
            count += 3
            if decision is not None and step is not None:
                agg = market.get(step.kind, step.target)
                problems += inv_acc_9_no_activity_while_frozen(
                    before.accounts, step.kind, agg, decision
                )
                count += 1
        self.report.invariants += count
        if problems:
            raise _Found(step, "; ".join(problems))

    def full(self, key: Any) -> bool | None:
        """Which invariants of the state a step reaching *key* gets checked: every one for a
        share :attr:`Bounds.full_check` of the steps; for the others, those whose inputs
        changed since a check they passed (False) when the key is new, and none (None) when
        it was seen, the state first stored under the key having passed them.

        *Premises*: :data:`~statemachines.verify.checks.READS` says what each invariant
        reads; the key keeps what the invariants of a state read (two states under one key
        pass or fail them alike), as it keeps what the guards read. *Checked*: by the share
        checked in full (``tests/verify/test_checks.py``)."""
        if self.sample.random() < self.bounds.full_check:
            return True
        if key not in self.parents:
            return False
        self.report.unchecked += 1
        return None

    def system(self, snap: Snapshot, *, expand: bool = True) -> bool | None:
        """Which invariants of the state a system event leads to (the world as *snap*, just
        taken, holds it) get checked: as :meth:`full` says for a step, except that the state
        is not stored: every one for a share :attr:`Bounds.full_check`; none (None) when its
        key is a state's already stored, which passed them; else (and from a state at the
        depth searched, *expand* false, without keying it) those whose inputs changed.

        *Premise*: the key keeps what the invariants of a state read, as for :meth:`full`.
        *Checked*: by the share checked in full (``tests/verify/test_step_parts.py``)."""
        if self.sample.random() < self.bounds.full_check:
            return True
        if not expand:
            # from a state at the depth searched: what it reaches lies past that depth,
            # where nothing is stored (keying it would find nothing to leave it to)
            return False
        if self.key(snap)[0] in self.parents:
            self.report.left_to_key += 1
            return None
        return False

    def before(self, snap: Snapshot) -> _Before:
        """What the step invariants read of the world as *snap* (just restored) holds it."""
        accounts: dict[str, AccountState] = {}
        for acc in self.world.market.store.values("account"):
            accounts[acc.id] = acc.state
            if acc.company is not None:
                accounts[acc.company] = acc.state
        entries = snap[1]
        return _Before(entries, [self.part(e) for e in entries], accounts)

    def part(self, entry: Saved) -> StepPart:
        """What the step invariants read of the aggregate *entry* holds (the world holds it
        now), kept by the entry's version (equal versions, equal content)."""
        part = self.parts.get(entry.version)
        if part is None:
            if len(self.parts) >= KEEP_PARTS:
                self.parts.clear()
            part = self.parts[entry.version] = step_part(entry.agg)
        return part

    def step_problems(
        self, pairs: tuple[tuple[int, int], ...], was: list[StepPart], now: list[StepPart]
    ) -> list[str]:
        """The step invariants of the parts *was* turned into *now*: read once per *pairs*
        (the versions of the aggregates before and after), which fix both (versions are
        given by content and never given again to other content), and kept when passed."""
        if pairs in self.passed_steps:
            return []
        problems = step_problems(was, now)
        if not problems:
            if len(self.passed_steps) >= KEEP_PARTS:
                self.passed_steps.clear()
            self.passed_steps.add(pairs)
        return problems

    def step_invariants(self, before: _Before, snap: Snapshot, *, full: bool) -> list[str]:
        """The invariants of the step from the state *before* reads to the world as *snap*
        (just taken) holds it: with *full*, read from every aggregate; else from those whose
        entry the step changed (the others hold the same state and money: an entry's version
        changes with any field, history entry or child).

        *Premise*: an aggregate whose entry is the one it held before the step is unchanged
        (:func:`~statemachines.verify.world._save` gives a new entry to any change).
        *Checked*: the share of steps checked in full (:meth:`full`) reads every aggregate
        (``tests/verify/test_step_parts.py``)."""
        market = self.world.market
        old = before.entries
        new = snap[1]
        moved: list[int] | None = None
        if not full and len(new) == len(old):
            moved = [i for i, entry in enumerate(new) if entry is not old[i]]
            if not moved:
                return []
            if any(new[i].agg is not old[i].agg for i in moved):
                moved = None
        if moved is None:
            states = {k: v for part in before.parts for k, v in part.states}
            moneys = dict(part.money for part in before.parts if part.money is not None)
            after = states_of(market)
            problems = step_closed_stays_closed(states, after)
            problems += step_no_way_back(states, after)
            problems += step_money_never_shrinks(moneys, moneys_of(market))
            lengths = {e.agg.id: len(e.history) for e in old if isinstance(e.agg, Account)}
            changed = [
                acc for acc in market.store.values("account") if len(acc.history) != lengths[acc.id]
            ]
        else:
            parts = before.parts
            was: list[StepPart] = []
            now: list[StepPart] = []
            pairs: list[tuple[int, int]] = []
            changed = []
            lengths = {}
            for i in moved:
                entry = new[i]
                part = self.part(entry)
                if part != parts[i]:  # an aggregate whose part is unchanged passes them
                    was.append(parts[i])
                    now.append(part)
                    pairs.append((old[i].version, entry.version))
                agg = entry.agg
                if isinstance(agg, Account) and len(entry.history) != len(old[i].history):
                    changed.append(agg)
                    lengths[agg.id] = len(old[i].history)
            problems = self.step_problems(tuple(pairs), was, now) if was else []
        for acc in changed:
            if any(d.event == "settle" for d in acc.history[lengths[acc.id] :]):
                problems += inv_acc_3_settled_with_nothing_left(market, acc)
                self.report.invariants += 1
        return problems

    def run(self) -> Report:
        report = self.report
        world = self.world
        started = time.process_time()
        key, moments = self.key(world.initial)
        parents: dict[Any, tuple[Any, Step | None]] = {key: (None, None)}
        self.parents = parents
        depth_of = {key: 0}
        queue: deque[tuple[Any, Snapshot, list[datetime]]] = deque([(key, world.initial, moments)])
        report.states = 1
        current = key
        audit: dict[Any, tuple[Any, ...]] | None = None
        if self.bounds.audit:
            audit = {key: verdicts(world)}
        tell = started + self.every
        try:
            self.invariants(None, None, None, world.initial, full=True)
            while queue:
                current, snap, moments = queue.popleft()
                depth = depth_of[current]
                report.depth = max(report.depth, depth)
                if self.progress is not None and time.process_time() >= tell:
                    spent = time.process_time() - started
                    self.progress(Progress(report.states, len(queue), depth, spent))
                    tell = started + spent + self.every
                expand = self.bounds.depth is None or depth < self.bounds.depth
                # with *expand* false, the attempts are checked and nothing is yielded
                for step, new_snap in self.successors(current, snap, moments, expand=expand):
                    new_key, new_moments = step[0]
                    if audit is not None:
                        self.audit(audit, new_key, step[1])
                    if new_key in parents:
                        report.merged += 1
                        self.merge(current, step[1], new_key)  # finish: the successor audit
                        continue
                    parents[new_key] = (current, step[1])
                    depth_of[new_key] = depth + 1
                    report.states += 1
                    queue.append((new_key, new_snap, new_moments))
                    if (
                        self.bounds.max_states is not None
                        and report.states >= self.bounds.max_states
                    ):
                        report.complete = False
                        queue.clear()
                        break
        except (_Found, PremiseBroken) as found:
            report.violation = str(found)  # a premise of a cache found false, or a problem
            last = found.step if isinstance(found, _Found) else None
            report.trace = _trace(parents, current) + (() if last is None else (last,))
        self.end()
        report.paths = {
            edge: (*_trace(parents, node), step) for edge, (node, step) in self.first.items()
        }
        report.seconds = time.process_time() - started
        report.reused = self.checks.reused
        return report

    def end(self) -> None:
        """What the search does once it stops: count the attempts, audit the successors."""
        self.count()
        self.compare_successors()  # finish: the successor audit
        self.report.peak_mb = _peak_mb()

    def count(self) -> None:
        """Add the attempts of every plan used, as many times as it was used, to the
        report's tallies (:attr:`Report.tried`, :attr:`Report.attempts`)."""
        tried = self.report.tried
        total = 0
        for tallies, times in self.uses.values():
            for tally, n in tallies:
                tried[tally] = tried.get(tally, 0) + n * times
                total += n * times
        self.report.attempts += total
        self.uses.clear()

    def merge(self, current: Any, step: Step, key: Any) -> None:
        """A step from the state stored under *current* reached *key*, already stored: a
        merged pair the successor audit may draw (:mod:`~statemachines.verify.reduction`)."""
        if self.pairs is not None:
            self.pairs.note(self.parents, current, step, key)

    def compare_successors(self) -> None:
        """At the end of a search that found nothing: compare the successors of the merged
        pairs drawn (a difference is reported as a violation)."""
        if self.pairs is not None and self.report.ok:
            self.report.violation = self.pairs.run(self.bounds)
            pairs = self.pairs
            self.report.audited = (pairs.compared, pairs.successors, pairs.ranks)

    def audit(self, seen: dict[Any, tuple[Any, ...]], key: Any, step: Step) -> None:
        """Compare the verdicts of the state a step reached (the world now) with those of
        the state first stored under its key."""
        mine = verdicts(self.world)
        first = seen.setdefault(key, mine)
        if first != mine:
            diff = next((a, b) for a, b in zip(_flat(first), _flat(mine), strict=False) if a != b)
            raise _Found(step, f"{step}: the key merges states with different verdicts: {diff}")

    def record_new(self, snap: Snapshot, key: Any, step: Step) -> None:
        """Note every edge the step fired (cascades and child aggregates included)."""
        cov = self.report.coverage
        pending = list(snap[1])
        while pending:
            agg, _, history, kids, *_ = pending.pop()
            for captured in kids:
                pending.extend(captured)
            if len(agg.history) == len(history):
                continue
            spec = SPECS_BY_MODEL[type(agg)]
            for d in agg.history[len(history) :]:
                for edge in spec.edges_from(d.source, d.event):
                    if edge.target is d.target:
                        index = (spec.name, _edge_index(spec.name, edge))
                        cov.edges.add(index)
                        self.first.setdefault(index, (key, step))
                        break

    def successors(
        self, key: Any, snap: Snapshot, moments: list[datetime], *, expand: bool
    ) -> Iterator[tuple[tuple[tuple[Any, list[datetime]], Step], Snapshot]]:
        """Every state one step from *snap* (whose key is *key*, and *moments* the moments
        that matter next there): each attempt that fires, then each move of time; with
        *expand* false, the attempts are only checked."""
        world = self.world
        market = world.market
        world.restore(snap)
        now = world.clock.now()
        before = self.before(snap)
        self.reached()
        self.collect_less()
        kinds = self.bounds.focus or ACTING
        versions = snap.versions  # type: ignore[attr-defined]
        planner = self.planner
        # every plan reads the state as *snap* holds it, before anything fires
        plans = [
            planner.plan(kind, agg, versions[id(agg)], now)
            for kind in kinds
            for agg in market.store.values(kind)
        ]
        quiet = _quiet(world)
        for plan, made in plans:
            yield from self.steps(
                plan, made, key=key, snap=snap, before=before, quiet=quiet, expand=expand
            )
        if expand:
            yield from self.time_moves(key, snap, moments, before)

    def steps(
        self,
        plan: Plan,
        made: bool,
        *,
        key: Any,
        snap: Snapshot,
        before: _Before,
        quiet: bool,
        expand: bool,
    ) -> Iterator[tuple[tuple[tuple[Any, list[datetime]], Step], Snapshot]]:
        """The steps of one *plan* (*made* just now, or used again) of the state stored
        under *key* (*snap* holds it, and *before* what the step invariants read of it):
        its decided attempts checked (a share), its attempts that fire fired or put back."""
        world = self.world
        market = world.market
        report = self.report
        now = world.clock.now()
        # the attempts a plan stands for are counted when the search ends (count)
        tallies = plan.tallies
        use = self.uses.get(id(tallies))
        if use is None:
            self.uses[id(tallies)] = [tallies, 1]
        else:
            use[1] += 1
        # The oracle's word is taken for the attempts it says do not fire (no edge, a wrong
        # actor, a refusing rule), except the first of each kind and a share of the others,
        # which are fired anyway and must do what it says: the share where the plan is made
        # (the aggregate met in a new context), a tenth of it where it is used again (the
        # same aggregate, facts and time: the same premise as the plan's own).
        share = 1.0 if self.bounds.thorough else self.bounds.cross_check
        odds = share if made or share >= 1.0 else share * REUSED_SHARE
        checks = _checked(plan, made, _drawn(self.sample.random, len(plan.decided), odds))
        report.decided += len(plan.decided) - len(checks)
        for attempt in checks:
            self.attempt(attempt, snap, key, now)
        for i, attempt in enumerate(plan.fire):
            slot = _slot(attempt, i, snap) if quiet else None
            memo = None if slot is None else plan.outcomes
            decision, new_snap = self.attempt(attempt, snap, key, now, memo, slot)
            if decision is None:
                continue
            # The platform fires system events itself (effects, deadlines): they are checked
            # against the table and the invariants here, but start no new states.
            if attempt.actor.role is Role.SYSTEM:
                new_snap = new_snap or world.snapshot()
                full = self.system(new_snap, expand=expand)
                step = _step(attempt, now, market)
                self.invariants(step, before, decision, new_snap, full=full)
                continue
            if attempt.event in BOOKKEEPING or not expand:
                continue
            new_snap = new_snap or world.snapshot()
            if not self.within(new_snap):
                continue
            new = self.key(new_snap)
            if new[0] == key:
                continue
            step = _step(attempt, now, market)
            self.invariants(step, before, decision, new_snap, full=self.full(new[0]))
            yield (new, step), new_snap

    def collect_less(self) -> None:
        """Once the search has stored :data:`GC_FROM` states, Python's cyclic collector
        runs less often (its youngest threshold :data:`GC_YOUNG`), until :func:`check` ends.

        A large search keeps every state's key and parent and many caches alive, and
        allocates millions of short-lived records; at the default threshold the collector
        runs every 700 allocations and, as the heap grows, each older collection walks more
        of what the search keeps (12 % of the time at 30,000 states of the
        milestone-and-payment bound, more later). The cycles it makes (a refusal's traceback
        and its frames) are still collected, in larger batches. A small search keeps the
        default: collecting 100,000 young objects at its end costs more than it saves
        (0.45 s against 0.40 s for the depth-2 bound). What is explored does not change.
        """
        if self.report.states >= GC_FROM and gc.get_threshold()[0] < GC_YOUNG:
            was = gc.get_threshold()
            gc.set_threshold(GC_YOUNG, was[1], was[2])

    def reached(self) -> None:
        """Note the state of every aggregate (and milestone) of the world as reached."""
        cov = self.report.coverage
        for agg in self.world.aggregates():
            cov.states.add((SPECS_BY_MODEL[type(agg)].name, agg.state._name_))
            if isinstance(agg, Contract):
                for ms in agg.milestones:
                    cov.states.add(("milestone", ms.state._name_))

    def time_moves(
        self, key: Any, snap: Snapshot, moments: list[datetime], before: _Before
    ) -> Iterator[tuple[tuple[tuple[Any, list[datetime]], Step], Snapshot]]:
        """The states time reaches from *snap*: the next moment that matters, and a second
        before it, with the deadlines due by then fired."""
        world = self.world
        market = world.market
        report = self.report
        world.restore(snap)
        self.dirty = False
        first_due = min((e.agg.deadlines[0].due for e in snap[1] if e.agg.deadlines), default=None)
        for at in _next_times(world, moments):
            step = Step(at)
            if first_due is None or first_due > at:
                # nothing is due by then: the marketplace would fire nothing, and the world
                # is as *snap* holds it, later
                new_snap = world.later(snap, at)
            else:
                world.restore(snap)
                world.clock.set(at)
                try:
                    fired = market.advance(at)
                except StatemachinesError as err:
                    raise _Found(step, f"{step}: a deadline failed: {err}") from None
                if market.stuck:
                    raise _Found(step, f"{step}: deadlines were refused: {market.stuck}")
                report.transitions += len(fired)
                step = attrs.evolve(step, result=", ".join(f"{d.event}" for d in fired))
                self.record_new(snap, key, step)
                new_snap = world.snapshot()
                if not self.within(new_snap):
                    continue
            new = self.key(new_snap)
            self.invariants(step, before, None, new_snap, full=self.full(new[0]))
            yield (new, step), new_snap

    def attempt(  # noqa: PLR0917  (the attempt, where, and its outcome's memo)
        self,
        attempt: Attempt,
        snap: Snapshot,
        key: Any,
        now: datetime,
        memo: dict[Any, Outcome] | None = None,
        index: Any = 0,
    ) -> tuple[Any, Snapshot | None]:
        """Fire *attempt* on the world as *snap* holds it and check the outcome against the
        oracle's: the decision when it fired (the world is then changed), else None; and the
        world's snapshot when one was taken.

        With *memo* (the plan's outcomes, the attempt's at *index*), an outcome known from
        another state is put in place instead of firing, except for a share
        :attr:`Bounds.cross_check` fired anyway and compared; an outcome not known yet is
        kept when the attempt changed its aggregate alone.
        """
        world = self.world
        report = self.report
        known = memo.get(index) if memo is not None else None
        recall = known is not None and self.sample.random() >= self.bounds.cross_check
        if self.dirty:
            # the aggregate an outcome is put back into is written whole by apply()
            world.undo(snap, keep=known.saved.agg if known is not None and recall else None)
            self.dirty = False
        if known is not None and recall:
            world.apply(known.saved)
            self.dirty = True
            self.facts.cache.clear()
            report.transitions += 1
            report.fired[attempt.tally] = report.fired.get(attempt.tally, 0) + 1
            report.recalled += 1
            return known.decision, None
        decision = self.fire(attempt, snap, key, now)
        if decision is None or memo is None:
            return decision, None
        new_snap = world.snapshot()
        changed = [
            entry for entry, old in zip(new_snap[1], snap[1], strict=False) if entry is not old
        ]
        alone = len(new_snap[1]) == len(snap[1]) and len(changed) == 1
        if alone and changed[0].agg is world.market.get(attempt.kind, attempt.target):
            if known is None:
                if _quiet(world):
                    memo[index] = Outcome(changed[0], decision)
            elif not same(known.saved, changed[0]) or known.decision != decision:
                step = Step(
                    now, *attempt[:4], tuple(attempt.payload.items()), decision.target.value
                )
                raise _Found(
                    step,
                    f"{step}: fired again in the same aggregate, facts and time, it did "
                    "something else than before",
                )
        elif known is not None:
            step = Step(now, *attempt[:4], tuple(attempt.payload.items()), "?")
            raise _Found(step, f"{step}: fired again, it changed other aggregates than before")
        return decision, new_snap

    def fire(self, attempt: Attempt, snap: Snapshot, key: Any, now: datetime) -> Any:
        """Fire *attempt* for real and check the outcome against the oracle's: the decision
        when it fired (the world is then changed), else None."""
        market = self.world.market
        report = self.report
        kind, target, event, actor, payload, expected, tally = attempt
        agg = market.get(kind, target)
        spec: MachineSpec[Any, Any] = market._flows[kind].spec
        saved = spec._get(agg)
        length = len(agg.history)
        if kind == "account":
            self.facts.token = target
        try:
            decision = market.fire(kind, target, event, actor, **payload)
        except StatemachinesError as err:
            changed = spec._get(agg) != saved or len(agg.history) != length
            _check_failure(err, attempt, now, changed=changed)
            others = self.world.after_failure()
            if others:
                step = Step(now, kind, target, event, actor, tuple(payload.items()), "failed")
                problem = f"{step}: it failed, but it changed {', '.join(others)}"
                raise _Found(step, problem) from None
            return None
        self.dirty = True
        self.facts.cache.clear()
        edge = expected.edge
        step = _step(attempt, now, market)
        if expected.outcome != "fires" or edge is None:
            raise _Found(
                step,
                f"{step}: fired, but the table says {expected.outcome}"
                f"{list(expected.refusing) or ''}",
            )
        if decision.target is not edge.target:
            raise _Found(
                step,
                f"{step}: went to {decision.target.value}, but the table's target "
                f"is {edge.target.value}",
            )
        self.record_new(snap, key, step)
        report.transitions += 1
        report.fired[tally] = report.fired.get(tally, 0) + 1
        return decision


def _step(attempt: Attempt, now: datetime, market: Marketplace) -> Step:
    """The step *attempt* made (fired now), with its target's state after it."""
    kind, target = attempt.kind, attempt.target
    return Step(
        now,
        kind,
        target,
        attempt.event,
        attempt.actor,
        tuple(attempt.payload.items()),
        market.get(kind, target).state.value,
    )


def _checked(plan: Plan, made: bool, drawn: list[int]) -> list[Attempt]:
    """The decided attempts of *plan* fired to check the oracle: those *drawn* (by index),
    and where the plan was just *made*, the first of each kind."""
    decided = plan.decided
    if made and plan.first:
        first = {id(a) for a in plan.first}
        chosen = set(drawn)
        return [a for i, a in enumerate(decided) if i in chosen or id(a) in first]
    return [decided[i] for i in drawn]


def _slot(attempt: Attempt, index: int, snap: Snapshot) -> Any:
    """Where a plan keeps the outcome of its *index*-th attempt in a quiet state (see
    :attr:`~statemachines.verify.attempts.Plan.outcomes`): the index for an event without
    effects on other machines, the index and what its effects read for one with them, None
    for an event whose outcome is not kept."""
    if reusable(attempt):
        return index
    read = context(attempt, snap[1])
    return None if read is None else (index, read)


def _drawn(sample: Callable[[], float], n: int, odds: float) -> list[int]:
    """Which of *n* attempts are drawn, each with probability *odds*: the gaps between
    those drawn are geometric, so a draw costs one random number per attempt drawn, not
    one per attempt."""
    if odds <= 0.0 or n == 0:
        return []
    if odds >= 1.0:
        return list(range(n))
    out: list[int] = []
    scale = 1.0 / math.log1p(-odds)
    i = -1
    while True:
        i += 1 + int(math.log(1.0 - sample()) * scale)
        if i >= n:
            return out
        out.append(i)


def _quiet(world: World) -> bool:
    """No account closing (nothing for the marketplace to settle after an event) and no
    deadline due (nothing for it to fire before one): the marketplace then adds nothing to
    an event without effects on other machines."""
    now = world.clock.now()
    for agg in world.aggregates():
        if agg.deadlines and agg.deadlines[0].due <= now:
            return False
        if isinstance(agg, Account) and agg.state is AccountState.CLOSING:
            return False
    return True


def _flat(sig: tuple[Any, ...]) -> Iterator[Any]:
    for group in sig:
        for agg_id, state, attempts in group:
            yield agg_id, state
            for attempt in attempts:
                yield agg_id, attempt


def _check_failure(
    err: StatemachinesError, attempt: Attempt, now: datetime, *, changed: bool
) -> None:
    """An attempt failed: it must have changed nothing, and failed as the oracle said."""
    kind, target, event, actor, payload, expected, _ = attempt
    got = _outcome(err)
    if changed:
        step = Step(now, kind, target, event, actor, tuple(payload.items()), got)
        raise _Found(step, f"{step}: {got}, but the aggregate changed") from None
    if got != expected.outcome:
        step = Step(now, kind, target, event, actor, tuple(payload.items()), got)
        raise _Found(
            step,
            f"{step}: the table says {expected.outcome}"
            f"{list(expected.refusing) or ''} but it was {got}: {err}",
        ) from None
    if isinstance(err, TransitionRefused):
        _check_rules(err, expected, now, kind, target, event, actor, payload)


def _check_rules(  # noqa: PLR0917  (the attempt, for the message)
    err: TransitionRefused,
    expected: Expected,
    now: datetime,
    kind: str,
    agg_id: str,
    event: str,
    actor: Actor,
    payload: Mapping[str, Any],
) -> None:
    if set(err.rule_ids) != set(expected.refusing):
        step = Step(now, kind, agg_id, event, actor, tuple(payload.items()), "refused")
        raise _Found(
            step,
            f"{step}: refused by {list(err.rule_ids)}, but the table's guards refuse "
            f"{list(expected.refusing)}",
        )


def check(
    bounds: Bounds, *, progress: Callable[[Progress], None] | None = None, every: float = 10.0
) -> Report:
    """Explore every state of the bounded marketplace; stop at the first violation.

    *progress*, when given, is called about every *every* CPU seconds while the search runs
    (``python -m statemachines check --progress`` prints each call on standard error).
    """
    _ROLES.clear()  # tables may have been edited since the last run (tests break guards)
    _EDGE_INDEX.clear()
    with _fewer_collections():
        return _Search(bounds, progress=progress, every=every).run()


def _peak_mb() -> float:
    """The process's peak resident memory so far, in MB (0 where it is not known)."""
    try:
        import resource  # noqa: PLC0415  (POSIX only)
    except ImportError:  # pragma: no cover  (Windows)
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS


GC_YOUNG = 100_000
"""The youngest generation's threshold once a search is large (Python's default is 700)."""
GC_FROM = 1_000
"""How many states a search stores before the collector runs less often."""


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """The cyclic collector's thresholds as they were, once the search ends (a large
    search raises the youngest, see :meth:`_Search.collect_less`)."""
    was = gc.get_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*was)

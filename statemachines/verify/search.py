"""The checker's search: breadth first over the abstract states of a bounded marketplace.

From every state it tries every attempt (:func:`statemachines.verify.world.payloads`, for
one actor of every role) through the marketplace, compares the outcome with the oracle
(:func:`statemachines.verify.oracle.predict`), moves time to the next moment that matters,
checks the invariants in every new state, and stores the states under their key
(:func:`statemachines.verify.key.world_key`). :func:`check` runs it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import attrs

from statemachines.core.actors import Actor, Role
from statemachines.core.engine import SPECS_BY_MODEL, MachineSpec
from statemachines.errors import StatemachinesError, TransitionRefused
from statemachines.machines.account.table import Account, AccountState
from statemachines.machines.contract.table import Contract
from statemachines.machines.invariants import CONTRACT_INVARIANTS, TIMED_CONTRACT_INVARIANTS
from statemachines.marketplace.invariants import (
    ACCOUNT_INVARIANTS,
    inv_acc_3_settled_with_nothing_left,
    inv_acc_9_no_activity_while_frozen,
)
from statemachines.verify.coverage import _EDGE_INDEX, _edge_index
from statemachines.verify.invariants import (
    moneys_of,
    offers_start_contracts,
    states_of,
    step_closed_stays_closed,
    step_money_never_shrinks,
    step_no_way_back,
)
from statemachines.verify.key import key_premises, world_key
from statemachines.verify.oracle import (
    _ROLES,
    Expected,
    _frozen_client,
    _outcome,
    _roles_for,
    predict,
    verdicts,
)
from statemachines.verify.report import Progress, Report, _trace
from statemachines.verify.world import (
    ACTING,
    ACTORS,
    SECOND,
    Bounds,
    Snapshot,
    Step,
    World,
    payloads,
)

__all__ = ["BOOKKEEPING", "check"]

BOOKKEEPING = frozenset({"export_records"})
"""Events that only record that something was done (checked in every state, never expanded:
no guard of v0.1 reads what they write)."""


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


class _Facts:
    """Caches an account's obligations while the world does not change.

    The checker tries dozens of events on an unchanged world, and reading the
    obligations is the dearest part of each. The cache is used by the checker's
    own reading and by the first reading of an account event it fires (made
    before anything changes, and only when *token* names that account); every
    other reading (after a change, during the marketplace's effects) is fresh.
    """

    def __init__(self, compute: Callable[[Account, datetime], Any]) -> None:
        self.compute = compute
        self.cache: dict[tuple[str, datetime], Any] = {}
        self.token: str | None = None
        self.reading = False

    def __call__(self, acc: Account, now: datetime) -> Any:
        use = self.reading or self.token == acc.id
        self.token = None
        if not use:
            return self.compute(acc, now)
        key = (acc.id, now)
        value = self.cache.get(key)
        if value is None:
            value = self.cache[key] = self.compute(acc, now)
        return value


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
        self.report = Report(bounds)
        self.first: dict[tuple[str, int], tuple[Any, Step]] = {}
        self.seen_once: set[tuple[Any, ...]] = set()
        self.denied: set[tuple[Any, ...]] = set()
        self.max_payments = (
            bounds.payments if bounds.payments is not None else bounds.milestones + 2
        )
        market = self.world.market
        self.facts = _Facts(market.obligations)
        market.accounts.obligations = self.facts
        self.world.on_restore = self.facts.cache.clear
        self.progress = progress
        self.every = every

    def key(self) -> tuple[Any, list[datetime]]:
        return world_key(self.world, symmetry=self.bounds.symmetry)

    def in_bound(self) -> bool:
        for c in self.world.market.store.values("contract"):
            if len(c.milestones) > self.bounds.milestones or len(c.payments) > self.max_payments:
                return False
            if len(c.refund_requests) > 1:
                return False
        return True

    def invariants(self, step: Step | None, before: tuple[Any, ...] | None, decision: Any) -> None:
        world = self.world
        market = world.market
        now = world.clock.now()
        problems: list[str] = []
        count = 0
        for c in market.store.values("contract"):
            for inv in CONTRACT_INVARIANTS:
                problems += inv(c)
            for timed in TIMED_CONTRACT_INVARIANTS:
                problems += timed(c, now)
            count += len(CONTRACT_INVARIANTS) + len(TIMED_CONTRACT_INVARIANTS)
        for inv_m in ACCOUNT_INVARIANTS:
            problems += inv_m(market)
        count += len(ACCOUNT_INVARIANTS)
        if self.bounds.jobs:
            problems += offers_start_contracts(market, self.bounds.contracts)
            count += 1
        problems += key_premises(market, now)
        count += 1
        if before is not None:
            states_before, moneys_before, accounts_before, lengths = before
            after = states_of(market)
            problems += step_closed_stays_closed(states_before, after)
            problems += step_no_way_back(states_before, after)
            problems += step_money_never_shrinks(moneys_before, moneys_of(market))
            count += 3
            for acc in market.store.values("account"):
                if any(d.event == "settle" for d in acc.history[lengths[acc.id] :]):
                    problems += inv_acc_3_settled_with_nothing_left(market, acc)
                    count += 1
            if decision is not None and step is not None:
                agg = market.get(step.kind, step.target)
                problems += inv_acc_9_no_activity_while_frozen(
                    accounts_before, step.kind, agg, decision
                )
                count += 1
        self.report.invariants += count
        if problems:
            raise _Found(step, "; ".join(problems))

    def before(self) -> tuple[Any, ...]:
        accounts: dict[str, AccountState] = {}
        for acc in self.world.market.store.values("account"):
            accounts[acc.id] = acc.state
            if acc.company is not None:
                accounts[acc.company] = acc.state
        lengths = {acc.id: len(acc.history) for acc in self.world.market.store.values("account")}
        return states_of(self.world.market), moneys_of(self.world.market), accounts, lengths

    def run(self) -> Report:
        report = self.report
        world = self.world
        started = time.process_time()
        key, moments = self.key()
        parents: dict[Any, tuple[Any, Step | None]] = {key: (None, None)}
        depth_of = {key: 0}
        queue: deque[tuple[Any, Snapshot, list[datetime]]] = deque([(key, world.initial, moments)])
        report.states = 1
        current = key
        audit: dict[Any, tuple[Any, ...]] | None = None
        if self.bounds.audit:
            audit = {key: verdicts(world)}
        tell = started + self.every
        try:
            self.invariants(None, None, None)
            while queue:
                current, snap, moments = queue.popleft()
                depth = depth_of[current]
                report.depth = max(report.depth, depth)
                if self.progress is not None and time.process_time() >= tell:
                    spent = time.process_time() - started
                    self.progress(Progress(report.states, len(queue), depth, spent))
                    tell = started + spent + self.every
                expand = self.bounds.depth is None or depth < self.bounds.depth
                for step, new_snap in self.successors(current, snap, moments, expand=expand):
                    if not expand:
                        continue
                    new_key, new_moments = step[0]
                    if audit is not None:
                        self.audit(audit, new_key, step[1])
                    if new_key in parents:
                        report.merged += 1
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
        except _Found as found:
            report.violation = found.problem
            last = () if found.step is None else (found.step,)
            report.trace = _trace(parents, current) + last
        report.paths = {
            edge: (*_trace(parents, node), step) for edge, (node, step) in self.first.items()
        }
        report.seconds = time.process_time() - started
        return report

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
            agg, _, history, kids = pending.pop()
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

    def successors(  # noqa: PLR0912, PLR0915  (every attempt and every time step)
        self, key: Any, snap: Snapshot, moments: list[datetime], *, expand: bool
    ) -> Iterator[tuple[tuple[tuple[Any, list[datetime]], Step], Snapshot]]:
        """Every state one step from *snap* (whose key is *key*, and *moments* the moments
        that matter next there): each attempt that fires, then each move of time; with
        *expand* false, the attempts are only checked."""
        world = self.world
        market = world.market
        report = self.report
        cov = report.coverage
        world.restore(snap)
        now = world.clock.now()
        before = self.before()
        for agg in world.aggregates():
            cov.states.add((SPECS_BY_MODEL[type(agg)].name, agg.state._name_))
            if isinstance(agg, Contract):
                for ms in agg.milestones:
                    cov.states.add(("milestone", ms.state._name_))
        kinds = self.bounds.focus or ACTING
        targets = [(kind, agg.id) for kind in kinds for agg in market.store.values(kind)]
        dirty = False
        seen_once = self.seen_once
        thorough = self.bounds.thorough
        for kind, agg_id in targets:
            flow = market._flows[kind]
            spec: MachineSpec[Any, Any] = flow.spec
            # an event fired on this aggregate is undone before the next attempt, so its
            # state and parties are those of the snapshot throughout
            state = market.get(kind, agg_id).state
            parties = _parties(market.get(kind, agg_id))
            for event in spec.events:
                roles = _roles_for(spec, state, event)
                for actor in ACTORS:
                    if actor.role not in roles:
                        # Illegal, or a role the table never lets fire it here: the engine
                        # decides from the state's name and the role alone, so once is enough.
                        memo: tuple[Any, ...] = (spec.name, state._name_, event, actor.role)
                        if memo in seen_once and not thorough:
                            continue
                        seen_once.add(memo)
                    elif not thorough:
                        # A role the table lets fire it, refused by the machine's authorisation
                        # (not this account's holder, not a party): that depends on who the actor
                        # is and on the aggregate's parties, which never change.
                        memo = (spec.name, parties, state._name_, event, actor)
                        if memo in self.denied:
                            continue
                    if dirty:
                        world.restore(snap)
                        dirty = False
                    agg = market.get(kind, agg_id)
                    for payload in payloads(world, kind, agg, event):
                        if dirty:
                            world.restore(snap)
                            dirty = False
                            agg = market.get(kind, agg_id)
                        report.attempts += 1
                        tally = (kind, event, actor.role.value)
                        report.tried[tally] = report.tried.get(tally, 0) + 1
                        self.facts.reading = True
                        try:
                            expected = _frozen_client(market, kind, agg, event) or predict(
                                flow, agg, event, actor, payload, now, cov.guard
                            )
                        finally:
                            self.facts.reading = False
                        saved = spec._get(agg)
                        length = len(agg.history)
                        if kind == "account":
                            self.facts.token = agg_id
                        try:
                            decision = market.fire(kind, agg_id, event, actor, **payload)
                        except StatemachinesError as err:
                            got = _outcome(err)
                            if spec._get(agg) != saved or len(agg.history) != length:
                                step = Step(
                                    now, kind, agg_id, event, actor, tuple(payload.items()), got
                                )
                                raise _Found(
                                    step, f"{step}: {got}, but the aggregate changed"
                                ) from None
                            if got != expected.outcome:
                                step = Step(
                                    now, kind, agg_id, event, actor, tuple(payload.items()), got
                                )
                                raise _Found(
                                    step,
                                    f"{step}: the table says {expected.outcome}"
                                    f"{list(expected.refusing) or ''} but it was {got}: {err}",
                                ) from None
                            if isinstance(err, TransitionRefused):
                                _check_rules(
                                    err, expected, now, kind, agg_id, event, actor, payload
                                )
                            elif got == "not_permitted" and expected.edge is not None:
                                self.denied.add((spec.name, parties, state._name_, event, actor))
                            continue
                        dirty = True
                        self.facts.cache.clear()
                        edge = expected.edge
                        step = Step(
                            now, kind, agg_id, event, actor, tuple(payload.items()), agg.state.value
                        )
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
                        # The platform fires system events itself (effects, deadlines): they
                        # are checked against the table and the invariants here, but start
                        # no new states.
                        if actor.role is Role.SYSTEM:
                            self.invariants(step, before, decision)
                            continue
                        if event in BOOKKEEPING or not expand or not self.in_bound():
                            continue
                        new = self.key()
                        if new[0] == key:
                            continue
                        self.invariants(step, before, decision)
                        yield (new, step), world.snapshot()
        if not expand:
            return
        world.restore(snap)
        for at in _next_times(world, moments):
            world.restore(snap)
            world.clock.set(at)
            step = Step(at)
            try:
                fired = market.advance(at)
            except StatemachinesError as err:
                raise _Found(step, f"{step}: a deadline failed: {err}") from None
            if market.stuck:
                raise _Found(step, f"{step}: deadlines were refused: {market.stuck}")
            report.transitions += len(fired)
            step = attrs.evolve(step, result=", ".join(f"{d.event}" for d in fired))
            self.record_new(snap, key, step)
            if not self.in_bound():
                continue
            new = self.key()
            self.invariants(step, before, None)
            yield (new, step), world.snapshot()


_PARTY_FIELDS = ("client", "freelancer", "agency", "member", "company", "team", "person", "owner")


def _parties(agg: Any) -> tuple[Any, ...]:
    """What a machine's authorisation reads of an aggregate (its id and its parties): a
    contract an offer starts gets the next free id whoever holds it."""
    return (agg.id, *(getattr(agg, name, None) for name in _PARTY_FIELDS))


def _flat(sig: tuple[Any, ...]) -> Iterator[Any]:
    for group in sig:
        for agg_id, state, attempts in group:
            yield agg_id, state
            for attempt in attempts:
                yield agg_id, attempt


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
    return _Search(bounds, progress=progress, every=every).run()

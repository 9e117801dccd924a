"""What the search tries on each aggregate of a state, read off the tables once per context.

For every aggregate the search tries every event for one actor of every role, with the
checker's arguments (:func:`~statemachines.verify.world.payloads`), and asks the oracle
(:func:`~statemachines.verify.oracle.predict`) what each attempt must do. Most must not
fire (no edge, a wrong actor, a refusing rule); only those that fire lead anywhere. A
:class:`Plan` is that reading for one aggregate: the attempts that fire, the ones the
oracle decided, and how many of each kind were made.

The oracle's answer depends only on the aggregate (its fields, history and children), the
facts the machine reads from the marketplace, the time, the actor and the arguments, so a
plan is kept per (aggregate version, facts, time) and used again whenever the aggregate is
met unchanged in the same context: a step changes one or two aggregates, and the plans of
the others stand.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from statemachines.core.actors import Actor
from statemachines.core.engine import Decision, MachineSpec
from statemachines.machines.account.model import Obligations
from statemachines.machines.account.table import Account
from statemachines.machines.contract.table import Contract
from statemachines.machines.team import Membership
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.market import World as MarketView
from statemachines.verify.coverage import Coverage
from statemachines.verify.oracle import Expected, _frozen_client, _roles_for, predict
from statemachines.verify.world import ACTORS, Saved, World, payloads

__all__ = ["Attempt", "Facts", "Outcome", "Plan", "Planner", "context", "reusable"]


KEEP = 200_000
"""How many plans are kept at most: when there are more, the older half is dropped (a plan
holds every attempt on its aggregate, about 16 KB with its outcomes, its arguments and
tallies shared with other plans; a dropped one is made again, and its outcomes are fired
again). The milestone-and-payment bound makes about 24,000 plans in its first 200,000
states: with 10,000 kept, it made twice as many and ran 20 % slower."""


class Attempt(NamedTuple):
    """One attempt on one aggregate, with what the oracle says it must do."""

    kind: str
    target: str
    event: str
    actor: Actor
    payload: dict[str, Any]
    expected: Expected
    tally: tuple[str, str, str]
    """(kind, event, role), for the report's counts."""


class Outcome(NamedTuple):
    """What firing an attempt did, when it changed its aggregate alone (see :class:`Plan`)."""

    saved: Saved
    """The aggregate afterwards (fields, history, children, version)."""
    decision: Decision


class Plan(NamedTuple):
    """The attempts on one aggregate in one context, read off the tables."""

    fire: tuple[Attempt, ...]
    """The attempts the oracle says fire: each is fired, and leads to a successor."""
    decided: tuple[Attempt, ...]
    """The attempts the oracle says do not fire (a share is fired anyway, to check it)."""
    tallies: tuple[tuple[tuple[str, str, str], int], ...]
    """How many attempts of each (kind, event, role) the plan stands for."""
    first: tuple[Attempt, ...]
    """Decided attempts the first of their kind when the plan was made (fired then)."""
    outcomes: dict[Any, Outcome]
    """What firing an attempt of :attr:`fire` did, in a quiet state (no account closing, no
    deadline due) when it changed nothing but its aggregate: by the attempt's index for an
    event without effects on other machines (:func:`reusable`), by the index and what the
    effects read (:func:`context`) for one with effects. The engine reads only the
    aggregate, its facts, the time, the actor and the arguments, and in a quiet state the
    marketplace adds nothing to an event but its effects, so the outcome is the same
    wherever the plan is used again (with the same context)."""


class Facts:
    """Caches an account's obligations while the world does not change.

    The checker reads each aggregate's facts once per state, and reading the obligations
    is dear. The cache is used by the checker's own reading and by the first reading of an
    account event it fires (made before anything changes, and only when *token* names that
    account); every other reading (after a change, during the marketplace's effects) is
    fresh.
    """

    def __init__(
        self,
        compute: Callable[[Account, datetime], Any],
        first: Callable[[Account, datetime], Any] | None = None,
    ) -> None:
        self.compute = compute
        self.first = first or compute
        """How the first reading of an account event read (before anything changes)."""
        self.cache: dict[tuple[str, datetime], Any] = {}
        self.token: str | None = None
        self.reading = False

    def __call__(self, acc: Account, now: datetime) -> Any:
        first = self.token == acc.id and not self.reading
        use = self.reading or first
        self.token = None
        if not use:
            return self.compute(acc, now)
        key = (acc.id, now)
        value = self.cache.get(key)
        if value is None:
            value = self.cache[key] = (self.first if first else self.compute)(acc, now)
        return value


_PARTY_FIELDS = ("client", "freelancer", "agency", "member", "company", "team", "person", "owner")


def _parties(agg: Any) -> tuple[Any, ...]:
    """What a machine's authorisation reads of an aggregate (its id and its parties): a
    contract an offer starts gets the next free id whoever holds it."""
    return (agg.id, *(getattr(agg, name, None) for name in _PARTY_FIELDS))


def _hashable(facts: Any) -> Any:
    """*facts* as a value a dictionary can key: the job and proposal machines' view of the
    marketplace holds mappings, which become sorted pairs; the others are frozen records."""
    if isinstance(facts, MarketView):
        return (
            tuple(sorted(facts.accounts.items())),
            tuple(sorted(facts.jobs.items())),
            tuple(sorted(facts.connects.items())),  # CONNECTS-D: a proposal's balance
        )
    return facts


_FACT_NUMBERS: dict[Any, int] = {}
"""Facts (as :func:`_hashable` makes them) -> a number, drawn once per value."""
_FACTS_SEEN: dict[int, tuple[Any, int]] = {}
"""By ``id``: an account's obligations met before (kept with them), and their number."""
_NUMBERS = itertools.count()
KEEP_FACTS = 100_000
"""How many facts are numbered at most (all are forgotten when there are more: a value
met again then gets a new number, which only costs a plan)."""


def _fact_number(facts: Any) -> int:
    """A number for *facts*: equal facts, equal numbers. An account's obligations are kept
    and met again as the same object (frozen), so they are looked up by identity first,
    without hashing their contracts and amounts again."""
    frozen = type(facts) is Obligations
    if frozen:
        seen = _FACTS_SEEN.get(id(facts))
        if seen is not None and seen[0] is facts:
            return seen[1]
    value = _hashable(facts)
    number = _FACT_NUMBERS.get(value)
    if number is None:
        if len(_FACT_NUMBERS) >= KEEP_FACTS:
            _FACT_NUMBERS.clear()
            _FACTS_SEEN.clear()
        number = _FACT_NUMBERS[value] = next(_NUMBERS)
    if frozen:
        if len(_FACTS_SEEN) >= KEEP_FACTS:
            _FACTS_SEEN.clear()
        _FACTS_SEEN[id(facts)] = (facts, number)
    return number


_EventRoles = tuple[str, frozenset[Any], tuple[Actor, ...]]
"""An event, the roles some row lets fire it in a state, and the actors with one of them."""


class Planner:
    """Makes and keeps :class:`Plan`\\ s, with the memos that skip attempts decided by the
    state's name and the role alone, or by who the actor is and the aggregate's parties."""

    def __init__(self, world: World, facts: Facts, coverage: Coverage, *, thorough: bool) -> None:
        self.world = world
        self.facts = facts
        self.coverage = coverage
        self.thorough = thorough
        self.plans: dict[tuple[Any, ...], Plan] = {}
        self.seen_once: set[tuple[Any, ...]] = set()
        self.denied: set[tuple[Any, ...]] = set()
        self.checked: set[tuple[Any, ...]] = set()
        self.exhausted: set[tuple[str, str]] = set()
        """Machine states whose attempts by roles the table never lets fire were all made."""
        self.by_state: dict[tuple[str, str], list[_EventRoles]] = {}

    def plan(self, kind: str, agg: Any, version: int, now: datetime) -> tuple[Plan, bool]:
        """The plan for *agg* (of *kind*, at *version*) now, and whether it was just made."""
        market = self.world.market
        flow = market._flows[kind]
        self.facts.reading = True
        try:
            facts = flow.facts(agg, now)
            frozen = _frozen_client(market, kind, agg, "fund_milestone")
        finally:
            self.facts.reading = False
        memo = (kind, version, _fact_number(facts), now, frozen is None)
        plan = self.plans.get(memo)
        if plan is not None:
            return plan, False
        if len(self.plans) >= KEEP:  # memory stays bounded; a plan dropped is made again
            for old in list(itertools.islice(self.plans, KEEP // 2)):
                del self.plans[old]
        plan = self.plans[memo] = self._make(market, kind, agg, now, facts)
        return plan, True

    def _skip(  # noqa: PLR0917  (the attempt, spelled out)
        self,
        machine: str,
        state: Any,
        parties: tuple[Any, ...],
        event: str,
        actor: Actor,
        roles: frozenset[Any],
        seen_all: bool,
    ) -> bool:
        """Whether an attempt is left out: its outcome was seen where it cannot differ."""
        if self.thorough:
            return False
        if actor.role not in roles:
            # Illegal, or a role the table never lets fire it here: the engine decides from
            # the state's name and the role alone, so once is enough.
            if seen_all:
                return True
            memo: tuple[Any, ...] = (machine, state._name_, event, actor.role)
            if memo in self.seen_once:
                return True
            self.seen_once.add(memo)
            return False
        # A role the table lets fire it, refused by the machine's authorisation (not this
        # account's holder, not a party): that depends on who the actor is and on the
        # aggregate's parties, which never change.
        return (machine, parties, state._name_, event, actor) in self.denied

    def _events(self, spec: MachineSpec[Any, Any], state: Any) -> list[_EventRoles]:
        """Per event of *spec*: the roles some row lets fire it in *state*, and the actors
        of :data:`~statemachines.verify.world.ACTORS` with one of them."""
        place = (spec.name, state._name_)
        found = self.by_state.get(place)
        if found is None:
            found = []
            for event in spec.events:
                roles = _roles_for(spec, state, event)
                found.append((event, roles, tuple(a for a in ACTORS if a.role in roles)))
            self.by_state[place] = found
        return found

    def _make(self, market: Marketplace, kind: str, agg: Any, now: datetime, facts: Any) -> Plan:
        """The plan for *agg* now, whose *facts* (read just before, the world unchanged
        since) every attempt's prediction reads."""
        flow = market._flows[kind]
        spec: MachineSpec[Any, Any] = flow.spec
        state = agg.state
        parties = _parties(agg)
        fire: list[Attempt] = []
        decided: list[Attempt] = []
        first: list[Attempt] = []
        tallies: dict[tuple[str, str, str], int] = {}
        thorough = self.thorough
        place = (spec.name, state._name_)
        seen_all = place in self.exhausted and not thorough
        self.facts.reading = True
        try:
            for event, roles, allowed in self._events(spec, state):
                options: list[dict[str, Any]] | None = None
                frozen = _frozen_client(market, kind, agg, event)
                for actor in allowed if seen_all else ACTORS:
                    if self._skip(spec.name, state, parties, event, actor, roles, seen_all):
                        continue
                    tally = _shared(_TALLIES, (kind, event, actor.role.value))
                    if options is None:
                        options = [_payload(p) for p in payloads(self.world, kind, agg, event)]
                    for payload in options:
                        tallies[tally] = tallies.get(tally, 0) + 1
                        expected = frozen or predict(
                            flow, agg, event, actor, payload, now, self.coverage.guard, facts
                        )
                        attempt = Attempt(kind, agg.id, event, actor, payload, expected, tally)
                        if expected.outcome == "fires" or thorough:
                            fire.append(attempt)
                            continue
                        if expected.outcome == "not_permitted" and expected.edge is not None:
                            self.denied.add((spec.name, parties, state._name_, event, actor))
                        decided.append(attempt)
                        sort: tuple[Any, ...] = (spec.name, state._name_, event, actor.role)
                        sort += (expected.outcome, *expected.refusing)
                        if sort not in self.checked:
                            self.checked.add(sort)
                            first.append(attempt)
        finally:
            self.facts.reading = False
        self.exhausted.add(place)
        return Plan(
            tuple(fire),
            tuple(decided),
            _shared(_TALLIES, tuple(tallies.items())),
            tuple(first),
            {},
        )


_TALLIES: dict[Any, Any] = {}
_PAYLOADS: dict[Any, dict[str, Any]] = {}


def _shared(table: dict[Any, Any], value: Any) -> Any:
    """*value*, or an equal one made before (plans hold many of each)."""
    return table.setdefault(value, value)


def _payload(payload: dict[str, Any]) -> dict[str, Any]:
    """*payload*, or an equal one made before: plans keep about a hundred attempts each,
    most with the same few arguments, and an attempt's arguments are only read (a dict
    shared by many attempts is never changed)."""
    try:
        key = tuple(sorted(payload.items()))
        hash(key)
    except TypeError:
        return payload
    return _PAYLOADS.setdefault(key, payload)


_EFFECTS = {
    "account": frozenset({"suspend", "reinstate", "permanent_close", "settle"}),
    "proposal": frozenset({"accept_offer"}),
}
"""Events after which the marketplace changes other aggregates (pauses, resumes or ends
contracts, unlinks an agency's owner, starts a contract)."""


def reusable(attempt: Attempt) -> bool:
    """Whether the outcome of *attempt* depends on its aggregate alone in a quiet state: not
    an event with effects on other machines, and not a membership (leaving a team may
    deactivate a team-only account)."""
    return attempt.kind != "membership" and attempt.event not in _EFFECTS.get(
        attempt.kind, frozenset()
    )


_CONTRACTS_READ = frozenset({"suspend", "reinstate", "permanent_close"})
"""Account events whose effects read the contracts of the account (pause, restart or end
them: :func:`statemachines.marketplace.handlers.account_suspended` and the like)."""


def context(attempt: Attempt, entries: tuple[Saved, ...]) -> tuple[int, ...] | None:
    """What the marketplace's effects of *attempt* read, as versions of the aggregates the
    world holds (*entries*), when they change nothing but the attempt's aggregate: None
    for an event whose outcome is not kept (see :attr:`Plan.outcomes`).

    - ``suspend``, ``reinstate``, ``permanent_close`` of an account: the contracts on which
      the account or its company is client or freelancer (a contract paused, restarted or
      ended is another aggregate changed: then the outcome is not kept, and whatever else
      the effect read does not matter);
    - any event of a membership: the person's account and every membership of the person
      (ACC-CLOSE-TM-1 deactivates a team-only account left without a team).

    *Premise*: the effects read nothing else when they change nothing else. *Checked*: a
    share :attr:`~statemachines.verify.world.Bounds.cross_check` of the outcomes put back
    is fired again and compared (``tests/verify/test_effects_kept.py``).
    """
    kind = attempt.kind
    if kind == "account":
        if attempt.event not in _CONTRACTS_READ:
            return None
        acc = next(
            e.agg for e in entries if isinstance(e.agg, Account) and e.agg.id == attempt.target
        )
        names = {acc.id, acc.company} - {None}
        return tuple(
            [
                e.version
                for e in entries
                if isinstance(e.agg, Contract)
                and (e.agg.client in names or e.agg.freelancer in names)
            ]
        )
    if kind == "membership":
        person = next(
            e.agg.person
            for e in entries
            if isinstance(e.agg, Membership) and e.agg.id == attempt.target
        )
        return tuple(
            [
                e.version
                for e in entries
                if (isinstance(e.agg, Account) and e.agg.id == person)
                or (isinstance(e.agg, Membership) and e.agg.person == person)
            ]
        )
    return None

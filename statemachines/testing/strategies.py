"""Hypothesis strategies for property tests of code built on statemachines.

* :func:`actors`: people of a marketplace (or the kit's cast) who may act, mixed with people
  who must be turned away: someone claiming a team they are not on, a stranger in every role;
* :func:`money_near_boundaries` and :func:`money_near`: amounts a cent either side of every
  amount a rule compares with (US$4.99, US$5.00, US$5.01 around the smallest milestone;
  US$0.99, US$1.00, US$1.01 around the net pay that keeps a contract in the work history);
* :func:`elapsed_near_windows` and :func:`times_near_window_edges`: a second before, at and
  after the end of every window the rules define (4 hours, 7, 14, 180, 365 days, five years,
  and the billing week's Monday noon, Saturday and Wednesday);
* :func:`bounds` and :func:`worlds`: whole worlds the size of a checker bound, walked a few
  random steps from their first state.

>>> from hypothesis import given
>>> @given(money_near_boundaries())
... def test_amounts_are_never_negative(amount):
...     assert amount.cents >= 0
>>> test_amounts_are_never_negative()
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from statemachines.core.actors import Actor
from statemachines.core.money import Money
from statemachines.errors import NaiveDatetime, StatemachinesError
from statemachines.machines.contract.values import week_of
from statemachines.marketplace.market import Marketplace
from statemachines.rules import account as rules_account
from statemachines.rules import contract as rules_contract
from statemachines.rules import milestone as rules_milestone
from statemachines.testing.cast import CAST, OTHER_FL, OZ, PAT_HM, parties_of, related
from statemachines.testing.cast import wrong_parties_of as _wrong_parties_of
from statemachines.verify.key import THRESHOLDS
from statemachines.verify.oracle import _roles_for
from statemachines.verify.world import ACTING, ACTORS, Bounds, World, payloads

__all__ = [
    "RULE_AMOUNTS",
    "RULE_SPANS",
    "WEEK_EDGES",
    "actors",
    "amounts_near",
    "bounds",
    "elapsed_near_windows",
    "moments_near_window_edges",
    "money_near",
    "money_near_boundaries",
    "people",
    "spans_near_windows",
    "times_near_window_edges",
    "worlds",
]

SECOND = timedelta(seconds=1)


def _rule_amounts() -> tuple[Money, ...]:
    found = {
        v
        for module in (rules_account, rules_contract, rules_milestone)
        for v in vars(module).values()
        if isinstance(v, Money)
    }
    return tuple(sorted(found, key=lambda m: m.cents))


RULE_AMOUNTS: tuple[Money, ...] = _rule_amounts()
"""Every amount the rule modules define (read from them, so a new one is covered)."""

RULE_SPANS: tuple[timedelta, ...] = THRESHOLDS
"""Every window the rules define, read from the rule modules (the checker's spans)."""

WEEK_EDGES: tuple[timedelta, ...] = (
    rules_contract.FREELANCER_EDIT_END,
    rules_contract.CLIENT_REVIEW_END,
    rules_contract.WEEK_AVAILABLE,
    rules_contract.WEEK,
)
"""Moments of the billing calendar, from a week's Monday 00:00 UTC: the Monday noon after
it (edits stop, the week is invoiced), the Saturday that ends the client's review, the
Wednesday its earnings become available, and the next week's start."""


def amounts_near(*anchors: Money | int, spread: int = 1) -> tuple[Money, ...]:
    """Amounts within *spread* cents of each anchor (never negative), in US dollars, sorted."""
    cents = sorted(
        {
            c + d
            for a in anchors
            for c in ((a.cents,) if isinstance(a, Money) else (a,))
            for d in range(-spread, spread + 1)
            if c + d >= 0
        }
    )
    if not cents:
        msg = "amounts near an anchor need at least one anchor amount"
        raise ValueError(msg)
    return tuple(Money(c) for c in cents)


def money_near(*anchors: Money | int, spread: int = 1) -> st.SearchStrategy[Money]:
    """Amounts within *spread* cents of each anchor (:func:`amounts_near`)."""
    return st.sampled_from(amounts_near(*anchors, spread=spread))


def money_near_boundaries() -> st.SearchStrategy[Money]:
    """A cent under, at and over every amount of :data:`RULE_AMOUNTS`, and nothing at all."""
    return money_near(0, *RULE_AMOUNTS)


def spans_near_windows(spans: Sequence[timedelta] = RULE_SPANS) -> tuple[timedelta, ...]:
    """A second before, at, and a second after the end of every window of *spans*, sorted."""
    return tuple(sorted({s + d for s in spans for d in (-SECOND, timedelta(0), SECOND)}))


def elapsed_near_windows(spans: Sequence[timedelta] = RULE_SPANS) -> st.SearchStrategy[timedelta]:
    """Elapsed times a second either side of every window's end (:func:`spans_near_windows`)."""
    return st.sampled_from(spans_near_windows(spans))


def moments_near_window_edges(
    since: datetime, spans: Sequence[timedelta] = RULE_SPANS, *, weeks: bool = True
) -> tuple[datetime, ...]:
    """Moments a second before, at and after each window of *spans* opened at *since* ends,
    and (with *weeks*) each edge of the billing calendar (:data:`WEEK_EDGES`) of the week
    holding *since* and of the next one. *since* must be timezone-aware."""
    if since.tzinfo is None or since.utcoffset() is None:
        msg = f"window edges need an aware datetime, got {since.isoformat()}"
        raise NaiveDatetime(msg)
    edges = [since + s for s in spans]
    if weeks:
        first = week_of(since)
        edges += [week + e for week in (first, first + rules_contract.WEEK) for e in WEEK_EDGES]
    return tuple(sorted({e + d for e in edges for d in (-SECOND, timedelta(0), SECOND)}))


def times_near_window_edges(
    since: datetime, spans: Sequence[timedelta] = RULE_SPANS, *, weeks: bool = True
) -> st.SearchStrategy[datetime]:
    """Moments around the window edges of :func:`moments_near_window_edges`."""
    return st.sampled_from(moments_near_window_edges(since, spans, weeks=weeks))


def people(
    market: Marketplace | None = None, *, of: Any = None
) -> tuple[tuple[Actor, ...], tuple[Actor, ...]]:
    """The people :func:`actors` draws from: those who may act and those who must not."""
    everyone = parties_of(market) if market is not None else CAST
    impostors = _wrong_parties_of(market) if market is not None else (OTHER_FL, OZ, PAT_HM)
    if of is None:
        return tuple(everyone), tuple(impostors)
    good = tuple(related(of, everyone))
    return good, tuple(a for a in (*everyone, *impostors) if a not in good)


def actors(
    market: Marketplace | None = None, *, of: Any = None, right: bool = True, wrong: bool = True
) -> st.SearchStrategy[Actor]:
    """People who may act (with *right*) and people who must be turned away (with *wrong*).

    Without *market*: the kit's cast (:data:`~statemachines.testing.cast.CAST`). With it:
    every holder of an account and member of a team in their role
    (:func:`~statemachines.testing.cast.parties_of`). With *of*, an aggregate: only the
    people who take part in it (and support) count as right; everyone else, and the
    impostors of :func:`~statemachines.testing.cast.wrong_parties_of`, as wrong.
    """
    good, bad = people(market, of=of)
    options = []
    if right:
        options.append(st.sampled_from(good))
    if wrong and bad:
        options.append(st.sampled_from(list(bad)))
    if not options:
        msg = "actors() needs right or wrong people to draw from"
        raise ValueError(msg)
    return st.one_of(options)


def bounds(
    *,
    contracts: int = 2,
    milestones: int = 2,
    hourly: bool = True,
    agency: bool = True,
    team: bool = True,
    jobs: int = 1,
) -> st.SearchStrategy[Bounds]:
    """Checker bounds up to these sizes (how many contracts, and of them how many hourly or
    held by the agency, milestones per contract, job posts; whether the agency and the
    company's team are in the world)."""

    @st.composite
    def draw_bounds(draw: st.DrawFn) -> Bounds:
        n = draw(st.integers(0, contracts), label="contracts")
        held = draw(st.integers(0, n), label="agency contracts") if agency else 0
        return Bounds(
            contracts=n,
            milestones=draw(st.integers(0, milestones), label="milestones"),
            hourly=draw(st.integers(0, n), label="hourly") if hourly else 0,
            agency=draw(st.booleans(), label="agency") if agency else False,
            agency_contracts=held,
            team=draw(st.booleans(), label="team") if team else False,
            jobs=draw(st.integers(0, jobs), label="jobs"),
        )

    return draw_bounds()


def worlds(
    bounds: Bounds | st.SearchStrategy[Bounds] | None = None, *, steps: int = 8
) -> st.SearchStrategy[World]:
    """A checker :class:`~statemachines.verify.world.World` of *bounds* (a fixed bound, a
    strategy of them, by default one contract with one milestone and no team), walked up to
    *steps* random steps from its first state: each step either moves time to just before,
    at or just after a window's end and fires what falls due, or has someone whose role
    the table lets fire an event try it (with the checker's arguments; a refusal changes
    nothing, so the step is simply spent)."""
    given = Bounds(contracts=1, milestones=1, team=False) if bounds is None else bounds

    @st.composite
    def draw_world(draw: st.DrawFn) -> World:
        b = draw(given) if isinstance(given, st.SearchStrategy) else given
        world = World(b)
        market = world.market
        for _ in range(draw(st.integers(0, steps), label="steps")):
            if draw(st.booleans(), label="time moves"):
                later = world.clock.now() + draw(elapsed_near_windows(), label="by")
                world.clock.set(later)
                market.advance(later)
                continue
            attempts = list(_attempts(world))
            if not attempts:
                continue
            kind, key, event, actor = draw(st.sampled_from(attempts), label="attempt")
            options = payloads(world, kind, market.get(kind, key), event)
            payload = draw(st.sampled_from(options), label="arguments")
            with contextlib.suppress(StatemachinesError):  # a refusal changes nothing
                market.fire(kind, key, event, actor, **payload)
        return world

    return draw_world()


def _attempts(world: World) -> Iterable[tuple[str, str, str, Actor]]:
    """Every (kind, aggregate, event, actor) whose role some edge or forbidden row allows."""
    market = world.market
    for kind in ACTING:
        spec = market._flows[kind].spec
        for agg in market.all(kind):
            for event in spec.events:
                roles = _roles_for(spec, agg.state, event)
                for actor in ACTORS:
                    if actor.role in roles:
                        yield kind, agg.id, event, actor

"""Playing a scenario: its world, each step's event and clock, and what each step checks.

:func:`run` first checks every name the steps use against the world (events, roles,
states, the arguments of each event and their types) so that a typo is a
:class:`ScenarioError` before the first step runs, then plays the steps in order and
stops after the first whose expectations fail.
"""

from __future__ import annotations

import enum
import importlib
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from statemachines.core.actors import Actor
from statemachines.core.clock import ManualClock, format_utc
from statemachines.core.engine import SPECS, Decision, Workflow
from statemachines.core.money import Money
from statemachines.errors import (
    IllegalTransition,
    NotPermitted,
    StatemachinesError,
    TransitionRefused,
)
from statemachines.publish.scenarios.load import world_fields
from statemachines.publish.scenarios.model import Engine, Expect, Scenario, Step
from statemachines.publish.scenarios.parse import (
    ScenarioError,
    build,
    convert_argument,
    parse_actor,
    parse_money,
    parse_role,
    parse_time,
    spec_of,
    workflow_for,
)

__all__ = ["Outcome", "Played", "StepResult", "play", "run"]


@attrs.frozen
class Outcome:
    """What a step's event did: the decision, or the error that stopped it."""

    decision: Decision | None = None
    error: StatemachinesError | None = None
    followed: tuple[str, ...] = ()
    """Decisions on other aggregates that the marketplace made as a result (``event@id``)."""

    @property
    def kind(self) -> str:
        """``accepted``, ``refused``, ``not_permitted``, ``illegal`` or ``invalid``."""
        if self.error is None:
            return "accepted"
        if isinstance(self.error, TransitionRefused):
            return "refused"
        if isinstance(self.error, NotPermitted):
            return "not_permitted"
        if isinstance(self.error, IllegalTransition):
            return "illegal"
        return "invalid"

    @property
    def detail(self) -> str:
        """The new state, the refusing rule IDs, or the error's message."""
        if self.decision is not None:
            then = f"; then {', '.join(self.followed)}" if self.followed else ""
            return f"-> {self.decision.target.value}{then}"
        if isinstance(self.error, TransitionRefused):
            return "[" + ", ".join(self.error.rule_ids) + "]"
        if isinstance(self.error, IllegalTransition):
            return f"(nothing to {self.error.event} in {self.error.state})"
        if isinstance(self.error, NotPermitted):
            return f"({str(self.error).split(': ', 1)[-1]})"
        return f"({self.error})" if self.error else ""


@attrs.frozen
class StepResult:
    """One step as it ran: when, who did what to which aggregate, and what went wrong."""

    number: int
    line: int
    at: datetime
    actor: str
    event: str
    target: str
    outcome: str
    """``accepted``, ``refused``, ``not_permitted``, ``illegal``, ``invalid`` for an event;
    ``clock`` for a step that only moves the clock (deadlines may fire on the way)."""
    fired: tuple[str, ...]
    problems: tuple[str, ...]
    detail: str = ""
    """What happened, briefly: ``-> funded``, ``[MS-1]``, or why it was not permitted."""

    @property
    def passed(self) -> bool:
        """True when every expectation held."""
        return not self.problems


def _held(market: Any, *, cases: bool) -> tuple[str, ...]:
    """The kinds of aggregate the marketplace module *market* holds; with *cases*, also the
    cases it opens beside them (Connects wallets, disputes, ...), which a world holds only
    when it asks for the marketplace (``engine: marketplace``): on their own, their
    machines run one workflow each, with nothing crossing to a contract."""
    if market is None:
        return ()
    kinds = tuple(getattr(market, "KINDS", ()))
    if not cases:
        return kinds
    return (*kinds, *importlib.import_module("statemachines.marketplace.model").CASES)


class _World:
    """The aggregates of a scenario and what moves them.

    When every machine of the world is one the marketplace holds (accounts,
    memberships, jobs, proposals, contracts), events go through a
    :class:`~statemachines.marketplace.market.Marketplace`, so guards see each other's
    facts and cross-machine effects happen; otherwise each aggregate has its own
    workflow. ``engine: workflows`` or ``engine: marketplace`` in the scenario
    chooses explicitly.
    """

    def __init__(self, scenario: Scenario, store: Any = None) -> None:
        self.scenario = scenario
        self.store = store
        self.clock = ManualClock(scenario.start)
        self.aggregates: dict[str, Any] = {}
        self.flows: dict[str, Workflow[Any, Any]] = {}
        for agg_id in scenario.world:
            name, fields = world_fields(scenario, agg_id)
            self.aggregates[agg_id] = build(SPECS[name].model, fields, f"world {agg_id}")
        self.market = self._marketplace(scenario.engine)
        for agg_id, aggregate in self.aggregates.items():
            spec = spec_of(aggregate)
            if self.market is None:
                self.flows[agg_id] = workflow_for(spec, self.clock)
            else:
                self._enter(spec.name, agg_id, aggregate)

    def _marketplace(self, engine: Engine) -> Any:
        if engine is Engine.WORKFLOWS:
            return None
        try:
            market: Any = importlib.import_module("statemachines.marketplace.market")
        except ImportError:  # not built yet: every aggregate gets its own workflow
            market = None
        kinds: tuple[str, ...] = _held(market, cases=engine is Engine.MARKETPLACE)
        others = sorted({spec_of(a).name for a in self.aggregates.values()} - set(kinds))
        if market is None or others:
            if engine is Engine.MARKETPLACE:
                held = ", ".join(kinds) or "nothing yet"
                msg = f"the marketplace holds {held}, not {', '.join(others)}"
                raise ScenarioError(msg, self.scenario.path.as_posix())
            return None
        return market.Marketplace(clock=self.clock, store=self.store)

    def _enter(self, kind: str, agg_id: str, aggregate: Any) -> None:
        market = self.market
        if kind == "account":
            market.open_account(aggregate)
        elif kind == "contract":
            market.add_contract(aggregate)
        else:
            market.store.put(kind, agg_id, aggregate)
            terms = getattr(sys.modules[type(market).__module__], "Terms", None)
            if kind == "proposal" and terms is not None:
                market.store.put("terms", agg_id, terms())

    # -- lookups

    def everything(self) -> dict[str, Any]:
        """Every aggregate by id: the world's, and those the marketplace made since (as the
        marketplace's store holds them now)."""
        if self.market is None:
            return dict(self.aggregates)
        found: dict[str, Any] = {}
        for kind in _held(importlib.import_module("statemachines.marketplace.market"), cases=True):
            for aggregate in self.market.all(kind):
                found.setdefault(aggregate.id, aggregate)
        return {**self.aggregates, **found}

    def get(self, agg_id: str) -> Any:
        """The aggregate *agg_id*, or ``None``."""
        return self.everything().get(agg_id)

    def actor(self, text: str, aggregate: Any) -> Actor:
        return parse_actor(self.scenario.actors.get(text, text), aggregate)

    def target(self, on: str | None) -> str | None:
        """The aggregate a step is about: its ``on``, or the world's only one."""
        if on is None and len(self.aggregates) == 1:
            return next(iter(self.aggregates))
        return on

    # -- moving

    def _lengths(self) -> dict[str, int]:
        return {agg_id: len(a.history) for agg_id, a in self.everything().items()}

    def _since(self, before: Mapping[str, int]) -> list[tuple[datetime, str, str]]:
        out = []
        for agg_id, aggregate in self.everything().items():
            for decision in aggregate.history[before.get(agg_id, 0) :]:
                out.append((decision.at, decision.event, agg_id))
        return sorted(out, key=lambda d: d[0])

    def fire(
        self, agg_id: str, event: str, actor: Actor, payload: Mapping[str, Any]
    ) -> tuple[Decision, list[str]]:
        """Fire *event*; returns the decision and what followed on other aggregates."""
        before = self._lengths()
        aggregate = self.get(agg_id)
        if self.market is None:
            decision = self.flows[agg_id].fire(aggregate, event, actor, **payload)
        else:
            kind = spec_of(aggregate).name
            decision = self.market.fire(kind, agg_id, event, actor, **payload)
        after = self._since(before)
        followed = [f"{e}@{a}" for _, e, a in after if not (a == agg_id and e == event)]
        return decision, followed

    def fire_due(self, now: datetime) -> list[str]:
        """Fire every deadline due by *now*, across aggregates, earliest first."""
        before = self._lengths()
        if self.market is not None:
            self.market.advance(now)
        else:
            while True:
                due = [
                    (agg.deadlines[0].due, agg_id)
                    for agg_id, agg in self.aggregates.items()
                    if agg.deadlines and agg.deadlines[0].due <= now
                ]
                if not due:
                    break
                when, agg_id = min(due)
                self.flows[agg_id].advance(self.aggregates[agg_id], when)
        return [f"{event}@{agg_id}" for _, event, agg_id in self._since(before)]


# --------------------------------------------------------------------------- checking


def _same(actual: Any, expected: Any) -> bool:  # noqa: PLR0911  (one case per type)
    if isinstance(actual, enum.Enum):
        return bool(expected in (actual.value, actual))
    if isinstance(actual, Money):
        try:
            return actual == parse_money(expected, actual.currency)
        except ScenarioError:
            return False
    if isinstance(actual, datetime):
        try:
            return actual == parse_time(expected)
        except ScenarioError:
            return False
    if actual is None or expected is None:
        return actual is expected
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, list) and isinstance(actual, tuple | list):
        # YAML has lists only: a tuple field (who was notified, late feedback sides) is
        # written as a list, item by item in order, each compared like a field.
        return len(actual) == len(expected) and all(map(_same, actual, expected))
    if isinstance(expected, list) and isinstance(actual, frozenset | set):
        return len(actual) == len(expected) and all(
            any(_same(a, e) for a in actual) for e in expected
        )
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return actual.keys() == expected.keys() and all(
            _same(actual[k], expected[k]) for k in actual
        )
    return bool(actual == expected)


def _show(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, tuple | list):
        return f"[{', '.join(map(_show, value))}]"
    return str(value)


def _check_outcome(expect: Expect, outcome: Outcome | None) -> list[str]:
    wanted = expect.outcome
    if outcome is None:
        return [f"{wanted} needs an event to check: add 'do' to the step"] if wanted else []
    got = outcome.kind
    if wanted is None and got != "accepted":
        return [f"expected the event to be accepted, but it was {got}: {outcome.error}"]
    if wanted is not None and got != wanted:
        detail = f": {outcome.error}" if outcome.error else ""
        return [f"expected {wanted.replace('_', ' ')}, but it was {got.replace('_', ' ')}{detail}"]
    if wanted == "refused" and isinstance(outcome.error, TransitionRefused):
        want = list(expect.refused or ())
        if want and sorted(want) != sorted(outcome.error.rule_ids):
            return [
                f"expected refusal by {', '.join(want)}, but the rules were "
                f"{', '.join(outcome.error.rule_ids)}: {outcome.error}"
            ]
    return []


def _check(
    expect: Expect, world: _World, target_id: str | None, outcome: Outcome | None, fired: list[str]
) -> list[str]:
    problems = _check_outcome(expect, outcome)
    on = world.target(expect.on or target_id)
    checks_target = expect.state is not None or bool(expect.fields)
    aggregate = world.get(on) if on is not None else None
    if checks_target and aggregate is None:
        problems.append("say which aggregate to check with 'on'")
        return problems
    if aggregate is None:
        return problems
    if expect.state is not None and aggregate.state.value != expect.state:
        problems.append(f"expected {on} to be {expect.state}, but it is {aggregate.state.value}")
    for agg_id, state in expect.states.items():
        other = world.get(agg_id)
        if other is None:
            problems.append(f"no aggregate {agg_id!r} in the world")
        elif other.state.value != state:
            problems.append(f"expected {agg_id} to be {state}, but it is {other.state.value}")
    for name, value in expect.fields.items():
        if not hasattr(aggregate, name):
            problems.append(f"{on} has no field {name!r}")
            continue
        actual = getattr(aggregate, name)
        if callable(actual):
            problems.append(f"{on}.{name} is a method, not a field")
        elif not _same(actual, value):
            problems.append(f"expected {on}.{name} = {_show(value)}, but it is {_show(actual)}")
    if expect.fired is not None:
        want_fired = list(expect.fired)
        same = len(want_fired) == len(fired) and all(
            w == f or ("@" not in w and f.split("@")[0] == w)
            for w, f in zip(want_fired, fired, strict=True)
        )
        if not same:
            shown = ", ".join(fired) or "nothing"
            problems.append(
                f"expected deadlines {', '.join(want_fired) or 'none'} to fire, but {shown} fired"
            )
    return problems


def _known_states(world: _World, expect: Expect, target_id: str | None) -> None:
    """Refuse a state name the machine does not have (a typo, not an unmet expectation)."""
    wanted = dict(expect.states)
    on = world.target(expect.on or target_id)
    if expect.state is not None and on is not None:
        wanted[on] = expect.state
    for agg_id, state in wanted.items():
        aggregate = world.get(agg_id)
        if aggregate is None:
            continue
        spec = spec_of(aggregate)
        names = [s.value for s in spec.states]
        if state not in names:
            msg = f"{spec.name} has no state {state!r}; its states are {', '.join(names)}"
            raise ScenarioError(msg)


# --------------------------------------------------------------------------- running


@attrs.frozen
class Played:
    """A scenario as it was played: each step's result and the aggregates it left."""

    results: tuple[StepResult, ...]
    aggregates: Mapping[str, Any]
    """Every aggregate of the world by id, as the last step left it."""


def run(
    scenario: Scenario,
    report: Callable[[StepResult], None] | None = None,
    *,
    store: Any = None,
) -> list[StepResult]:
    """Run *scenario* step by step; stops after the first step whose expectations fail.

    *store* is where a marketplace scenario keeps its world (a SQLite path; default: in
    memory).

    Every step is checked before anything runs: an unknown event, role, state or
    argument, or an argument of the wrong type, in any step is a :class:`ScenarioError`,
    not a failed step.
    """
    return list(play(scenario, report, store=store).results)


def play(
    scenario: Scenario,
    report: Callable[[StepResult], None] | None = None,
    *,
    store: Any = None,
) -> Played:
    """:func:`run`, also handing back the aggregates the scenario left (to draw their paths)."""
    world = _World(scenario, store)
    _validate(world, scenario)
    results: list[StepResult] = []
    where = scenario.path.as_posix()
    for step in scenario.steps:
        try:
            results.append(_run_step(world, step))
        except ScenarioError as err:
            msg = f"step {step.number}: {err.text}"
            raise ScenarioError(msg, f"{where}:{step.line}") from None
        if report is not None:
            report(results[-1])
        if not results[-1].passed:
            break
    return Played(tuple(results), world.everything())


def _validate(world: _World, scenario: Scenario) -> None:
    """Check every name and argument the steps use against the world they start from."""
    now = scenario.start
    for step in scenario.steps:
        try:
            if step.at is not None and step.at < now:
                at, then = format_utc(step.at), format_utc(now)
                msg = f"time never runs backwards: {at} is before {then}"
                raise ScenarioError(msg)
            now = step.at or (now + step.after if step.after else now)
            target = world.target(step.on)
            aggregate = world.get(target) if target is not None else None
            if step.do is not None and aggregate is not None:
                _payload(spec_of(aggregate), step)
            if step.actor is not None and step.actor not in scenario.actors:
                parse_role(step.actor.partition(":")[0])
            _known_states(world, step.expect, target)
        except ScenarioError as err:
            msg = f"step {step.number}: {err.text}"
            raise ScenarioError(msg, f"{scenario.path.as_posix()}:{step.line}") from None


def _payload(spec: Any, step: Step) -> dict[str, Any]:
    """The event's arguments, each converted to a type the event accepts."""
    event = str(step.do)
    if event not in spec.events:
        msg = f"{spec.name} has no event {event!r}; its events are {', '.join(spec.events)}"
        raise ScenarioError(msg)
    params = {p.name: p for p in spec.params(event)}
    payload = {}
    for name, value in step.arguments.items():
        if name not in params:
            msg = f"{event!r} takes no argument {name!r}; it takes {', '.join(params) or 'none'}"
            raise ScenarioError(msg)
        payload[name] = convert_argument(value, params[name].types, f"field 'with.{name}'")
    return payload


def _run_step(world: _World, step: Step) -> StepResult:
    now = world.clock.now()
    if step.at is not None:
        now = step.at
    elif step.after is not None:
        now = now + step.after
    if now < world.clock.now():
        before = format_utc(world.clock.now())
        msg = f"time never runs backwards: {format_utc(now)} is before {before}"
        raise ScenarioError(msg)
    world.clock.set(now)
    fired = world.fire_due(now) if step.fire_due else []
    outcome = None
    target_id = step.on
    if step.do is not None:
        target_id = world.target(step.on)
        if target_id is None:
            msg = f"say which aggregate with 'on' ({', '.join(world.aggregates)})"
            raise ScenarioError(msg)
        aggregate = world.get(target_id)
        if aggregate is None:
            known = ", ".join(world.everything())
            msg = f"no aggregate {target_id!r} in the world ({known})"
            raise ScenarioError(msg)
        payload = _payload(spec_of(aggregate), step)
        actor = world.actor(str(step.actor), aggregate)
        try:
            decision, followed = world.fire(target_id, step.do, actor, payload)
            outcome = Outcome(decision=decision, followed=tuple(followed))
        except StatemachinesError as err:
            outcome = Outcome(error=err)
    _known_states(world, step.expect, target_id)
    problems = _check(step.expect, world, target_id, outcome, fired)
    return StepResult(
        step.number,
        step.line,
        now,
        step.actor or "",
        step.do or "",
        str(target_id or ""),
        outcome.kind if outcome else "clock",
        tuple(fired),
        tuple(problems),
        outcome.detail if outcome else "",
    )

"""Executable specifications: a YAML scenario of a starting world, steps and expectations.

A scenario file reads like a story a product manager can check::

    scenario: The client asks for changes once, then the review lapses
    start: 2026-03-02T09:00:00Z          # every timestamp needs a UTC offset
    actors:
      ana: client_owner:ana:co-1         # ROLE[:ID[:PARTY]], as on the command line
      fl: freelancer:fl-1
    world:                               # aggregates by id, with their machine
      M-1: {machine: milestone, contract: C-1, client: co-1, freelancer: fl-1, amount: "200.00"}
    steps:
      - {actor: ana, do: fund, on: M-1, expect: funded}
      - after: 2 days                    # the clock moves; due deadlines fire first
        actor: fl
        do: submit
        expect: {state: submitted, fields: {review_due: 2026-03-18T09:00:00Z}}
      - after: 14 days
        expect: {state: approved, fired: [review_lapse], fields: {released: "200.00"}}

A step may move the clock (``after: 3 days`` or ``at: <time>``), fire one event
(``actor``, ``do``, ``on``, ``with`` for its arguments) and state what must follow
(``expect``): a state (``expect: funded`` is short for ``{state: funded}``), a
refusal with its rule IDs (``refused: [MS-1]``), ``not_permitted: true``,
``illegal: true``, ``invalid: true``, field values (``fields``, amounts as
``"200.00"`` or ``"150.00 EUR"``), the deadlines that fired on the way
(``fired``), and the states of other aggregates (``states: {C-1: ended}``). When
the clock moves, every deadline due by then fires first, as the platform's
scheduler would; ``fire_due: false`` holds them back for one step.

A world may hold aggregates of any machine in ``SPECS``, so contract and account
scenarios use the same format: ``machine: contract`` and the contract's fields.
When every aggregate belongs to a machine the marketplace holds (accounts,
memberships, jobs, proposals, contracts), events go through
:class:`~statemachines.marketplace.market.Marketplace`: an account's guards then see its
contracts and job posts, and what follows on other aggregates is reported
(``-> closing; then settle@co-1``). ``engine: workflows`` opts out.

Every name is checked before the first step runs: an unknown machine, event,
role or state, a malformed time or amount is a :class:`ScenarioError` naming the
file and line, never a traceback. A step whose expectations fail stops its
scenario; :func:`run` returns the results so far.
"""

from __future__ import annotations

import enum
import importlib
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import yaml

from statemachines.core.actors import SYSTEM, Actor, Role
from statemachines.core.clock import UTC, ManualClock, format_utc
from statemachines.core.engine import SPECS, SPECS_BY_MODEL, Decision, MachineSpec, Workflow
from statemachines.core.money import Money
from statemachines.errors import (
    IllegalTransition,
    InvalidInput,
    NotPermitted,
    StatemachinesError,
    TransitionRefused,
)

__all__ = [
    "Outcome",
    "Scenario",
    "ScenarioError",
    "StepResult",
    "convert_argument",
    "load",
    "parse_actor",
    "parse_time",
    "run",
    "workflow_for",
]


class ScenarioError(Exception):
    """A scenario file cannot be read or names something that does not exist."""

    def __init__(self, text: str, where: str = "") -> None:
        super().__init__(f"{where}: {text}" if where else text)
        self.where = where
        self.text = text


# --------------------------------------------------------------------------- parsing helpers


def parse_time(value: Any, what: str = "time") -> datetime:
    """An aware UTC datetime from YAML or command-line text; naive times are refused."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        day = value.isoformat()
        msg = f"{what} {day} is a date; give a time with a UTC offset, e.g. {day}T09:00:00Z"
        raise ScenarioError(msg)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            msg = f"{what} {value!r} is not an ISO-8601 time such as 2026-03-02T09:00:00Z"
            raise ScenarioError(msg) from None
    else:
        msg = f"{what} must be an ISO-8601 time, got {type(value).__name__} {value!r}"
        raise ScenarioError(msg)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        msg = f"{what} {parsed.isoformat()} has no UTC offset; write it as {parsed.isoformat()}Z"
        raise ScenarioError(msg)
    return parsed.astimezone(UTC)


_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*(weeks?|w|days?|d|hours?|h|minutes?|min|m|seconds?|s)\b")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_span(value: Any) -> timedelta:
    """``"14 days"``, ``"2d 3h"`` or ``"1 week"`` as a timedelta."""
    text = str(value).strip().lower()
    parts = list(_SPAN.finditer(text))
    if not parts or _SPAN.sub("", text).replace(",", "").replace("and", "").strip():
        msg = f"{value!r} is not a span of time such as '14 days' or '2d 3h'"
        raise ScenarioError(msg)
    total = timedelta()
    for part in parts:
        unit = "min" if part.group(2) == "min" else part.group(2)[0]
        key = "minutes" if unit == "min" else _UNITS[unit]
        total += timedelta(**{key: float(part.group(1))})
    return total


_ROLE_NAMES = {r.value: r for r in Role} | {r.label: r for r in Role}


def parse_role(text: str) -> Role:
    """A role by value (``client_owner``), label or §2.1 code (``CO``)."""
    from statemachines.publish.diagrams import ROLE_CODES  # noqa: PLC0415  (avoid an import cycle)

    key = text.strip()
    role = _ROLE_NAMES.get(key.lower()) or {c.lower(): r for r, c in ROLE_CODES.items()}.get(
        key.lower()
    )
    if role is None:
        roles = ", ".join(r.value for r in Role)
        msg = f"unknown role {text!r}; roles are {roles}"
        raise ScenarioError(msg)
    return role


def parse_actor(text: str, aggregate: Any = None) -> Actor:
    """``ROLE[:ID[:PARTY]]`` as an :class:`Actor`.

    A missing id or party is guessed from *aggregate*: the first of its own
    values (client, freelancer, ...) that its machine would accept for that
    role. When nothing fits, the role's name stands in and the machine says why.
    """
    role_text, _, rest = text.partition(":")
    role = parse_role(role_text)
    actor_id, _, party = rest.partition(":")
    if role is Role.SYSTEM:
        return SYSTEM
    if actor_id and party:
        return Actor(actor_id, role, party=party)
    guessed = _guess_actor(role, aggregate, actor_id or None)
    if guessed is not None:
        return guessed
    return Actor(actor_id or role.value, role, party=party or None)


def _guess_actor(role: Role, aggregate: Any, actor_id: str | None) -> Actor | None:
    if aggregate is None:
        return None
    spec = _spec_of(aggregate)
    values = [
        v
        for f in attrs.fields(type(aggregate))
        if f.name not in {"state", "history"}
        for v in [getattr(aggregate, f.name)]
        if isinstance(v, str) and v
    ]
    ids = [actor_id] if actor_id else [role.value, *values]
    edges = [e for e in spec.edges if role in e.roles]
    for candidate in ids:
        for party in [candidate, *values, None]:
            actor = Actor(candidate, role, party=party)
            if spec.authorize is None or any(
                spec.authorize(aggregate, actor, e) is None for e in edges
            ):
                return actor
    return None


def _spec_of(aggregate: Any) -> MachineSpec[Any, Any]:
    try:
        return SPECS_BY_MODEL[type(aggregate)]
    except KeyError:
        msg = f"{type(aggregate).__name__} is not the aggregate of any machine"
        raise ScenarioError(msg) from None


def _subclasses(cls: type) -> Iterator[type]:
    subs: list[type] = cls.__subclasses__()
    for sub in subs:
        yield sub
        yield from _subclasses(sub)


def workflow_for(spec: MachineSpec[Any, Any], clock: ManualClock) -> Workflow[Any, Any]:
    """The workflow class the machine's module defines, or a plain one for its spec."""
    for cls in _subclasses(Workflow):
        if getattr(cls, "spec", None) is spec:
            try:
                return typing.cast(Workflow[Any, Any], cls(clock=clock))
            except TypeError:
                break
    plain = type(f"{spec.name.title()}Workflow", (Workflow,), {"spec": spec})
    return typing.cast(Workflow[Any, Any], plain(clock=clock))


def parse_money(value: Any, currency: str = "USD") -> Money:
    """``"200.00"``, ``"US$200.00"``, ``"150.00 EUR"`` or ``{cents, currency}`` as Money."""
    if isinstance(value, Money):
        return value
    if isinstance(value, Mapping) and set(value) == {"cents", "currency"}:
        return Money(value["cents"], value["currency"])
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(?:US\$)?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([A-Z]{3})?\s*", value)
        if match:
            try:
                return Money.of(
                    Decimal(match.group(1).replace(",", "")), match.group(2) or currency
                )
            except InvalidInput as err:
                msg = str(err)
                raise ScenarioError(msg) from None
    msg = f'an amount is text such as "200.00" or "150.00 EUR", got {value!r}'
    raise ScenarioError(msg)


def convert(value: Any, hint: Any, what: str) -> Any:  # noqa: PLR0911, PLR0912  (one case per type)
    """Turn a YAML value into what a field or argument of type *hint* holds."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        errors = []
        for option in inner:
            try:
                return convert(value, option, what)
            except ScenarioError as err:
                errors.append(err.text)
        msg = errors[0] if errors else f"{what}: cannot read {value!r}"
        raise ScenarioError(msg)
    if hint is Money:
        return parse_money(value)
    if hint is datetime:
        return parse_time(value, what)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in hint)
            msg = f"{what}: {value!r} is not one of {allowed}"
            raise ScenarioError(msg) from None
    if origin in (tuple, list):
        if not isinstance(value, list):
            msg = f"{what}: expected a list, got {value!r}"
            raise ScenarioError(msg)
        items = [convert(v, args[0] if args else Any, what) for v in value]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        if not isinstance(value, Mapping):
            msg = f"{what}: expected a mapping, got {value!r}"
            raise ScenarioError(msg)
        values = args[1] if len(args) == 2 else Any
        return {k: convert(v, values, what) for k, v in value.items()}
    if isinstance(hint, type) and attrs.has(hint):
        if isinstance(value, hint):
            return value
        if not isinstance(value, Mapping):
            msg = f"{what}: expected the fields of a {hint.__name__}"
            raise ScenarioError(msg)
        return build(hint, dict(value), what)
    if hint in (str, int, bool):
        if (isinstance(value, bool) and hint is not bool) or not isinstance(value, hint):
            msg = f"{what}: expected {hint.__name__}, got {value!r}"
            raise ScenarioError(msg)
        return value
    if hint is float:
        msg = f"{what}: floats are not used here"
        raise ScenarioError(msg)
    return value


def build(model: type, fields: dict[str, Any], what: str) -> Any:
    """Build an attrs aggregate (or value) of *model* from YAML fields."""
    hints = typing.get_type_hints(model)
    known = {f.name for f in attrs.fields(model)}
    unknown = sorted(set(fields) - known)
    if unknown:
        fields_text = ", ".join(sorted(known - {"history", "state"}))
        names = ", ".join(map(repr, unknown))
        msg = f"{what}: {model.__name__} has no field {names}; it has {fields_text}"
        raise ScenarioError(msg)
    kwargs = {}
    for name, value in fields.items():
        kwargs[name] = convert(value, hints[name], f"{what}.{name}")
    try:
        return model(**kwargs)
    except (TypeError, ValueError) as err:
        msg = f"{what}: {err}"
        raise ScenarioError(msg) from None


# --------------------------------------------------------------------------- loading


class _Loader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping (``__line__``)."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[str, Any]:
    value: dict[str, Any] = {
        str(k): v for k, v in loader.construct_mapping(node, deep=True).items()
    }
    value["__line__"] = node.start_mark.line + 1
    return value


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
# YAML 1.1 reads on/off/yes/no as booleans, which would turn the step key "on"
# into True; only true and false are booleans in a scenario.
_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in rules if tag != _BOOL]
    for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


@attrs.frozen
class Step:
    """One step of a scenario, as written."""

    number: int
    line: int
    data: Mapping[str, Any]


@attrs.frozen
class Scenario:
    """A loaded scenario file."""

    path: Path
    title: str
    start: datetime
    actors: Mapping[str, str]
    world: Mapping[str, Mapping[str, Any]]
    steps: tuple[Step, ...]
    engine: str = "auto"
    """``auto``, ``marketplace`` or ``workflows`` (see :class:`_World`)."""


_STEP_KEYS = {"at", "after", "actor", "do", "on", "with", "expect", "fire_due", "note"}
_EXPECT_KEYS = {
    "state",
    "refused",
    "not_permitted",
    "illegal",
    "invalid",
    "fields",
    "fired",
    "states",
    "on",
}


def load(path: Path) -> Scenario:  # noqa: PLR0912, PLR0915  (one clear message per mistake)
    """Read a scenario file, or raise :class:`ScenarioError` with one clear line."""
    where = path.as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = "no such file"
        raise ScenarioError(msg, where) from None
    except OSError as err:
        msg = err.strerror or str(err)
        raise ScenarioError(msg, where) from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        msg = f"malformed YAML: {problem}"
        where = f"{where}{line}"
        raise ScenarioError(msg, where) from None
    if not isinstance(data, dict):
        msg = "a scenario is a mapping with scenario, start, world and steps"
        raise ScenarioError(msg, where)
    missing = [k for k in ("scenario", "start", "world", "steps") if k not in data]
    if missing:
        msg = f"missing {', '.join(missing)}"
        raise ScenarioError(msg, where)
    try:
        start = parse_time(data["start"], "start")
    except ScenarioError as err:
        msg = err.text
        where = f"{where}:{data['__line__']}"
        raise ScenarioError(msg, where) from None
    world = data["world"]
    if not isinstance(world, dict) or not set(world) - {"__line__"}:
        msg = "world must map aggregate ids to their fields"
        raise ScenarioError(msg, where)
    raw_steps = data["steps"]
    if not isinstance(raw_steps, list) or not raw_steps:
        msg = "steps must be a non-empty list"
        raise ScenarioError(msg, where)
    steps = []
    for number, raw in enumerate(raw_steps, start=1):
        if not isinstance(raw, dict):
            msg = f"step {number} must be a mapping, got {raw!r}"
            raise ScenarioError(msg, where)
        line = raw["__line__"]
        unknown = sorted(set(raw) - _STEP_KEYS - {"__line__"})
        if unknown:
            keys = ", ".join(sorted(_STEP_KEYS))
            msg = f"step {number}: unknown key(s) {', '.join(unknown)}; a step has {keys}"
            where = f"{where}:{line}"
            raise ScenarioError(msg, where)
        expect = raw.get("expect")
        if isinstance(expect, dict):
            bad = sorted(set(expect) - _EXPECT_KEYS - {"__line__"})
            if bad:
                keys = ", ".join(sorted(_EXPECT_KEYS))
                msg = f"step {number}: unknown expectation(s) {', '.join(bad)}; use {keys}"
                where = f"{where}:{line}"
                raise ScenarioError(msg, where)
        steps.append(Step(number, line, _strip(raw)))
    engine = str(data.get("engine", "auto"))
    if engine not in {"auto", "marketplace", "workflows"}:
        msg = f"engine {engine!r} is not one of auto, marketplace, workflows"
        raise ScenarioError(msg, where)
    actors = _strip(data.get("actors") or {})
    if not isinstance(actors, dict):
        msg = "actors must map names to ROLE[:ID[:PARTY]]"
        raise ScenarioError(msg, where)
    return Scenario(
        path,
        str(data["scenario"]),
        start,
        {str(k): str(v) for k, v in actors.items()},
        {str(k): _strip(v) for k, v in world.items() if k != "__line__"},
        tuple(steps),
        engine,
    )


# --------------------------------------------------------------------------- running


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
    fired: tuple[str, ...]
    problems: tuple[str, ...]
    detail: str = ""
    """What happened, briefly: ``-> funded``, ``[MS-1]``, or why it was not permitted."""

    @property
    def passed(self) -> bool:
        """True when every expectation held."""
        return not self.problems


class _World:
    """The aggregates of a scenario and what moves them.

    When every machine of the world is one the marketplace holds (accounts,
    memberships, jobs, proposals, contracts), events go through a
    :class:`~statemachines.marketplace.market.Marketplace`, so guards see each other's
    facts and cross-machine effects happen; otherwise each aggregate has its own
    workflow. ``engine: workflows`` or ``engine: marketplace`` in the scenario
    chooses explicitly.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.clock = ManualClock(scenario.start)
        self.aggregates: dict[str, Any] = {}
        self.flows: dict[str, Workflow[Any, Any]] = {}
        where = scenario.path.as_posix()
        for agg_id, raw in scenario.world.items():
            fields = dict(raw)
            name = fields.pop("machine", None)
            if name not in SPECS:
                known = ", ".join(sorted(SPECS))
                msg = f"world {agg_id!r}: machine {name!r} is not built; machines are {known}"
                raise ScenarioError(msg, where)
            spec = SPECS[name]
            if "id" in {f.name for f in attrs.fields(spec.model)}:
                fields.setdefault("id", agg_id)
            try:
                self.aggregates[agg_id] = build(spec.model, fields, f"world {agg_id}")
            except ScenarioError as err:
                raise ScenarioError(err.text, where) from None
        self.market = self._marketplace(scenario.engine)
        for agg_id, aggregate in self.aggregates.items():
            spec = _spec_of(aggregate)
            if self.market is None:
                self.flows[agg_id] = workflow_for(spec, self.clock)
            else:
                self._enter(spec.name, agg_id, aggregate)

    def _marketplace(self, engine: str) -> Any:
        if engine == "workflows":
            return None
        try:
            market: Any = importlib.import_module("statemachines.marketplace.market")
        except ImportError:  # not built yet: every aggregate gets its own workflow
            market = None
        kinds: tuple[str, ...] = tuple(getattr(market, "KINDS", ()))
        others = sorted({_spec_of(a).name for a in self.aggregates.values()} - set(kinds))
        if market is None or others:
            if engine == "marketplace":
                held = ", ".join(kinds) or "nothing yet"
                msg = f"the marketplace holds {held}, not {', '.join(others)}"
                raise ScenarioError(msg, self.scenario.path.as_posix())
            return None
        return market.Marketplace(clock=self.clock)

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
        """Every aggregate by id: the world's, and those the marketplace made since."""
        found = dict(self.aggregates)
        if self.market is not None:
            from statemachines.marketplace.market import KINDS  # noqa: PLC0415

            for kind in KINDS:
                for aggregate in self.market.all(kind):
                    found.setdefault(aggregate.id, aggregate)
        return found

    def get(self, agg_id: str) -> Any:
        """The aggregate *agg_id*, or ``None``."""
        return self.everything().get(agg_id)

    def actor(self, text: str, aggregate: Any) -> Actor:
        return parse_actor(self.scenario.actors.get(text, text), aggregate)

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
            kind = _spec_of(aggregate).name
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
    return bool(actual == expected)


def _show(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return format_utc(value)
    return str(value)


def _check(  # noqa: PLR0912  (one branch per kind of expectation)
    expect: Mapping[str, Any],
    world: _World,
    target_id: str | None,
    outcome: Outcome | None,
    fired: list[str],
) -> list[str]:
    problems: list[str] = []
    wanted = next(
        (k for k in ("refused", "not_permitted", "illegal", "invalid") if expect.get(k)), None
    )
    if outcome is not None:
        got = outcome.kind
        if wanted is None and got != "accepted":
            problems.append(f"expected the event to be accepted, but it was {got}: {outcome.error}")
        elif wanted is not None and got != wanted:
            detail = f": {outcome.error}" if outcome.error else ""
            problems.append(
                f"expected {wanted.replace('_', ' ')}, but it was {got.replace('_', ' ')}{detail}"
            )
        elif wanted == "refused" and isinstance(outcome.error, TransitionRefused):
            ids = expect["refused"]
            want = [ids] if isinstance(ids, str) else list(ids) if isinstance(ids, list) else []
            if want and sorted(want) != sorted(outcome.error.rule_ids):
                problems.append(
                    f"expected refusal by {', '.join(want)}, but the rules were "
                    f"{', '.join(outcome.error.rule_ids)}: {outcome.error}"
                )
    elif wanted is not None:
        problems.append(f"{wanted} needs an event to check: add 'do' to the step")
    on = expect.get("on", target_id)
    if on is None and len(world.aggregates) == 1:
        on = next(iter(world.aggregates))
    checks_target = "state" in expect or "fields" in expect
    aggregate = world.get(on) if on is not None else None
    if checks_target and aggregate is None:
        problems.append("say which aggregate to check with 'on'")
        return problems
    if "state" in expect and aggregate is not None and aggregate.state.value != expect["state"]:
        problems.append(f"expected {on} to be {expect['state']}, but it is {aggregate.state.value}")
    for agg_id, state in (expect.get("states") or {}).items():
        other = world.get(agg_id)
        if other is None:
            problems.append(f"no aggregate {agg_id!r} in the world")
        elif other.state.value != state:
            problems.append(f"expected {agg_id} to be {state}, but it is {other.state.value}")
    for name, value in (expect.get("fields") or {}).items():
        if aggregate is None:
            break
        if not hasattr(aggregate, name):
            problems.append(f"{on} has no field {name!r}")
            continue
        actual = getattr(aggregate, name)
        if callable(actual):
            problems.append(f"{on}.{name} is a method, not a field")
        elif not _same(actual, value):
            problems.append(f"expected {on}.{name} = {_show(value)}, but it is {_show(actual)}")
    if "fired" in expect:
        want_fired = [str(w) for w in expect["fired"] or []]
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


def _known_states(world: _World, expect: Mapping[str, Any], target_id: Any) -> None:
    """Refuse a state name the machine does not have (a typo, not an unmet expectation)."""
    wanted = dict(expect.get("states") or {})
    on = expect.get("on", target_id)
    if on is None and len(world.aggregates) == 1:
        on = next(iter(world.aggregates))
    if "state" in expect and on is not None:
        wanted[on] = expect["state"]
    for agg_id, state in wanted.items():
        aggregate = world.get(agg_id)
        if aggregate is None:
            continue
        spec = _spec_of(aggregate)
        names = [s.value for s in spec.states]
        if state not in names:
            msg = f"{spec.name} has no state {state!r}; its states are {', '.join(names)}"
            raise ScenarioError(msg)


def _expectations(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {"state": raw}
    if isinstance(raw, dict):
        return dict(raw)
    msg = f"expect must be a state name or a mapping, got {raw!r}"
    raise ScenarioError(msg)


def run(scenario: Scenario, report: Callable[[StepResult], None] | None = None) -> list[StepResult]:
    """Run *scenario* step by step; stops after the first step whose expectations fail.

    Names are checked before anything runs: an unknown event, role or state in
    any step is a :class:`ScenarioError`, not a failed step.
    """
    world = _World(scenario)
    _validate(world, scenario)
    results = []
    where = scenario.path.as_posix()
    for step in scenario.steps:
        data = step.data
        try:
            results.append(_run_step(world, step, data))
        except ScenarioError as err:
            msg = f"step {step.number}: {err.text}"
            where = f"{where}:{step.line}"
            raise ScenarioError(msg, where) from None
        if report is not None:
            report(results[-1])
        if not results[-1].passed:
            break
    return results


def _validate(world: _World, scenario: Scenario) -> None:
    """Check every name a scenario uses against the world it starts from."""
    for name, text in scenario.actors.items():
        try:
            parse_role(text.partition(":")[0])
        except ScenarioError as err:
            msg = f"actor {name!r}: {err.text}"
            raise ScenarioError(msg, scenario.path.as_posix()) from None
    for step in scenario.steps:
        data = step.data
        try:
            expect = _expectations(data.get("expect"))
            target = data.get("on")
            if target is None and len(world.aggregates) == 1:
                target = next(iter(world.aggregates))
            aggregate = world.get(target) if target is not None else None
            if "do" in data and aggregate is not None:
                spec = _spec_of(aggregate)
                if data["do"] not in spec.events:
                    events = ", ".join(spec.events)
                    msg = f"{spec.name} has no event {data['do']!r}; its events are {events}"
                    raise ScenarioError(msg)
            if "actor" in data and str(data["actor"]) not in scenario.actors:
                parse_role(str(data["actor"]).partition(":")[0])
            _known_states(world, expect, target)
        except ScenarioError as err:
            where = f"{scenario.path.as_posix()}:{step.line}"
            msg = f"step {step.number}: {err.text}"
            raise ScenarioError(msg, where) from None


def _run_step(world: _World, step: Step, data: Mapping[str, Any]) -> StepResult:  # noqa: PLR0912, PLR0915
    expect = _expectations(data.get("expect"))
    now = world.clock.now()
    if "at" in data and "after" in data:
        msg = "give either 'at' or 'after', not both"
        raise ScenarioError(msg)
    if "at" in data:
        now = parse_time(data["at"], "at")
    elif "after" in data:
        now = now + parse_span(data["after"])
    if now < world.clock.now():
        before = format_utc(world.clock.now())
        msg = f"time never runs backwards: {format_utc(now)} is before {before}"
        raise ScenarioError(msg)
    world.clock.set(now)
    fired = world.fire_due(now) if data.get("fire_due", True) else []
    outcome = None
    target_id = data.get("on")
    event = str(data.get("do", ""))
    actor_text = ""
    if event:
        if target_id is None:
            if len(world.aggregates) != 1:
                msg = f"say which aggregate with 'on' ({', '.join(world.aggregates)})"
                raise ScenarioError(msg)
            target_id = next(iter(world.aggregates))
        aggregate = world.get(target_id)
        if aggregate is None:
            known = ", ".join(world.everything())
            msg = f"no aggregate {target_id!r} in the world ({known})"
            raise ScenarioError(msg)
        spec = _spec_of(aggregate)
        if event not in spec.events:
            msg = f"{spec.name} has no event {event!r}; its events are {', '.join(spec.events)}"
            raise ScenarioError(msg)
        if "actor" not in data:
            msg = f"who does {event!r}? add 'actor'"
            raise ScenarioError(msg)
        actor = world.actor(str(data["actor"]), aggregate)
        actor_text = str(data["actor"])
        params = {p.name: p for p in spec.params(event)}
        payload = {}
        for name, value in (data.get("with") or {}).items():
            if name not in params:
                msg = (
                    f"{event!r} takes no argument {name!r}; it takes {', '.join(params) or 'none'}"
                )
                raise ScenarioError(msg)
            payload[name] = convert_argument(value, params[name].types, f"with.{name}")
        try:
            decision, followed = world.fire(target_id, event, actor, payload)
            outcome = Outcome(decision=decision, followed=tuple(followed))
        except StatemachinesError as err:
            outcome = Outcome(error=err)
    _known_states(world, expect, target_id)
    problems = _check(expect, world, target_id, outcome, fired)
    return StepResult(
        step.number,
        step.line,
        now,
        actor_text,
        event,
        str(target_id or ""),
        outcome.kind if outcome else ("deadlines" if fired else "clock"),
        tuple(fired),
        tuple(problems),
        outcome.detail if outcome else "",
    )


def convert_argument(value: Any, types: tuple[type, ...], what: str) -> Any:
    """An event argument from YAML or command-line text, tried against each accepted type."""
    errors = []
    for kind in types:
        try:
            return convert(value, kind, what)
        except ScenarioError as err:
            errors.append(err.text)
    msg = errors[0]
    raise ScenarioError(msg)


def files(paths: Sequence[Path]) -> list[Path]:
    """The scenario files named by *paths* (folders give their ``*.yaml``, sorted)."""
    out = []
    for path in paths:
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                msg = "no *.yaml scenarios in this folder"
                raise ScenarioError(msg, path.as_posix())
            out.extend(found)
        else:
            out.append(path)
    return out

"""The engine: machine tables as data, and the one place that runs ``transitions``.

A machine is a :class:`MachineSpec`: an enum of states, an initial state, the
terminal states, and a table of :class:`Edge` rows. Each edge names its event,
source states, target, the roles that may fire it (with the rule IDs that say
so), its guards (each bound to a rule ID), its effects, the arguments it takes,
and, for deadline-driven edges, the :class:`Timer` that fires it.

One shared ``transitions.Machine`` is built per table, with
``auto_transitions=False``, an explicit initial state and no model registered
(registering models costs time that grows with every model added, and resets a
restored model to the initial state). Aggregates are plain attrs classes; a
:class:`Workflow` fires events on them through ``machine.events[name].trigger``.

Firing an event, in order:

1. the event must exist (:class:`~statemachines.errors.UnknownEvent`) and have an
   edge from the current state (:class:`~statemachines.errors.IllegalTransition`);
2. its arguments are checked (:class:`~statemachines.errors.InvalidPayload`);
3. the actor's role and party must be allowed (:class:`~statemachines.errors.NotPermitted`);
4. every guard is evaluated, none skipped, and any failure raises
   :class:`~statemachines.errors.TransitionRefused` with all violations;
5. effects and the state change run atomically: if anything raises, every field
   of the aggregate is put back as it was;
6. the accepted decision is appended to the aggregate's history.

Refused, illegal and failed attempts go to the workflow's audit trail, never into
the aggregate.

Coverage tools may :func:`observe` the engine: an observer sees every guard
outcome of a real attempt and every edge that fires, and changes nothing.
"""

from __future__ import annotations

import enum
import operator
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableSequence, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar, Generic, NamedTuple, NoReturn, Protocol, TypeVar

import attrs
from transitions import Machine

from statemachines.core.actors import SYSTEM, Actor, Role
from statemachines.core.clock import UTC, Clock, ensure_utc, format_utc
from statemachines.core.money import Money
from statemachines.errors import (
    ClockError,
    DefinitionError,
    IllegalTransition,
    InvalidInput,
    InvalidPayload,
    NotPermitted,
    StatemachinesError,
    TransitionError,
    TransitionRefused,
    UnknownEvent,
    Violation,
    refused,
)
from statemachines.rules import rule

__all__ = [
    "Aggregate",
    "Attempt",
    "Branch",
    "Context",
    "Deadline",
    "Decision",
    "Edge",
    "Effect",
    "Forbidden",
    "Guard",
    "MachineSpec",
    "Observer",
    "Param",
    "Reason",
    "Timer",
    "Verdict",
    "Workflow",
    "fail",
    "observe",
]

S = TypeVar("S", bound=enum.Enum)
A = TypeVar("A", bound="Aggregate")

EMPTY: Mapping[str, Any] = MappingProxyType({})
"""A shared, immutable empty payload (most events carry no arguments)."""


class Aggregate(Protocol):
    """What the engine needs of an aggregate: an id, a state, deadlines and a history."""

    id: str
    state: Any
    deadlines: tuple[Deadline, ...]
    history: list[Decision]


# --------------------------------------------------------------------------- values


class Reason(NamedTuple):
    """What a guard returns when it says no: a readable sentence and the facts behind it."""

    text: str
    data: Mapping[str, object] = EMPTY


# Named tuples built on the hot path skip their generated (Python) ``__new__``.
_tuple = tuple.__new__


def fail(text: str, **data: object) -> Reason:
    """Build a :class:`Reason`; guards ``return fail("...", amount=...)`` to refuse."""
    return _tuple(Reason, (text, MappingProxyType(data) if data else EMPTY))


class Context(NamedTuple):
    """Who fires the event, when, and with which arguments. Guards read only this."""

    now: datetime
    actor: Actor
    payload: Mapping[str, Any] = EMPTY
    facts: Any = None
    """Read-only facts about *other* aggregates that the workflow supplies
    (:meth:`Workflow.facts`), e.g. an account's obligations; ``None`` by default."""


@attrs.frozen(slots=True)
class Deadline:
    """A moment at which the platform fires *event* on the aggregate (data, not a thread)."""

    key: str
    """Unique per aggregate; setting a deadline with the same key supersedes the old one."""
    event: str
    """The timer event fired when it falls due."""
    due: datetime
    """When it falls due (UTC)."""

    @staticmethod
    def put(deadlines: tuple[Deadline, ...], new: Deadline) -> tuple[Deadline, ...]:
        """Return *deadlines* with *new* added, replacing any deadline with the same key."""
        if not deadlines:
            return (new,)
        kept = [d for d in deadlines if d.key != new.key]
        kept.append(new)
        kept.sort(key=operator.attrgetter("due", "key"))
        return tuple(kept)

    @staticmethod
    def drop(deadlines: tuple[Deadline, ...], key: str) -> tuple[Deadline, ...]:
        """Return *deadlines* without the one keyed *key* (a cancelled deadline never fires)."""
        if len(deadlines) == 1:
            return () if deadlines[0].key == key else deadlines
        return tuple(d for d in deadlines if d.key != key)


class Decision(NamedTuple):
    """One accepted transition, as kept in an aggregate's append-only history."""

    at: datetime
    actor: Actor
    event: str
    source: enum.Enum
    target: enum.Enum
    payload: Mapping[str, Any] = EMPTY
    """The event's arguments in JSON-safe form (amounts as ``{"cents", "currency"}``)."""
    deadline: str | None = None
    """The key of the deadline this decision fired, for timer events."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Decision:
        # A recorded decision never changes (its payload is a read-only mapping): a copy
        # of a history shares its decisions, as copying an aggregate must not fail.
        return self


class Attempt(NamedTuple):
    """A refused, illegal or failed attempt, kept in a workflow's audit trail."""

    at: datetime
    aggregate: str
    actor: Actor
    event: str
    state: str
    outcome: str
    """``illegal``, ``not_permitted``, ``refused``, ``invalid`` or ``failed``."""
    rule_ids: tuple[str, ...]
    message: str


@attrs.frozen
class Verdict:
    """What would happen if *actor* fired *event* now: the target, or the error and its reasons."""

    event: str
    target: enum.Enum | None
    error: StatemachinesError | None = None

    @property
    def allowed(self) -> bool:
        """True when the event would be accepted."""
        return self.error is None

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Rule IDs that refuse the event (empty when allowed or refused for another reason)."""
        return self.error.rule_ids if isinstance(self.error, TransitionRefused) else ()

    def __str__(self) -> str:
        if self.error is None:
            assert self.target is not None
            return f"{self.event}: allowed -> {self.target.value}"
        return f"{self.event}: {type(self.error).__name__}: {self.error}"


# --------------------------------------------------------------------------- table rows


Check = Callable[[Any, Context], Reason | None]
Apply = Callable[[Any, Context], None]


@attrs.frozen
class Guard:
    """A pure check bound to the rule it enforces; returns ``None`` or a :class:`Reason`."""

    rule_id: str
    check: Check
    uses: tuple[str, ...] = ()
    """Event arguments the check reads; it is skipped by :meth:`Workflow.available`
    when the caller did not give them."""

    def __str__(self) -> str:
        # transitions labels diagram conditions with str() for non-functions.
        return self.rule_id


@attrs.frozen
class Effect:
    """A change an edge makes to the aggregate, with the rule that asks for it."""

    rule_id: str | None
    apply: Apply

    def __str__(self) -> str:
        return self.rule_id or str(getattr(self.apply, "__name__", "effect"))


@attrs.frozen
class Timer:
    """Marks an edge as fired by the platform when a deadline of the same event falls due."""

    rule_id: str
    label: str
    """When it fires, in words for diagrams: ``"14 days after the latest submission"``."""


@attrs.frozen
class Branch:
    """Chooses between edges sharing a source and an event (e.g. ending with funds held or not)."""

    label: str
    test: Callable[[Any, Context], bool]

    def __call__(self, event: Any) -> bool:
        """Adapter for ``transitions`` conditions (``send_event=True``)."""
        return self.test(event.model, event.kwargs["ctx"])

    def __str__(self) -> str:
        return self.label


_MISSING: Any = object()


@attrs.frozen
class Param:
    """An argument an event takes."""

    name: str
    types: tuple[type, ...]
    default: Any = _MISSING
    doc: str = ""

    @property
    def required(self) -> bool:
        """True when the caller must give it."""
        return self.default is _MISSING


@attrs.frozen
class Edge(Generic[S]):
    """One row of a machine table."""

    event: str
    sources: tuple[S, ...]
    target: S
    roles: frozenset[Role]
    role_rules: tuple[str, ...] = ()
    """Rule IDs that decide who may fire the event."""
    guards: tuple[Guard, ...] = ()
    effects: tuple[Effect, ...] = ()
    params: tuple[Param, ...] = ()
    timer: Timer | None = None
    branch: Branch | None = None
    summary: str = ""
    """What the edge does, in one line, for the catalogue."""

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Every rule ID this edge cites, in table order and without repeats."""
        ids = [*self.role_rules, *(g.rule_id for g in self.guards)]
        ids += [e.rule_id for e in self.effects if e.rule_id]
        if self.timer:
            ids.append(self.timer.rule_id)
        return tuple(dict.fromkeys(ids))


@attrs.frozen
class Forbidden(Generic[S]):
    """A documented refusal: *event* exists but a rule forbids it from these states.

    Where the rulebook says *why* an event cannot happen in a state (an active
    milestone cannot be edited, MS-3), the caller gets a
    :class:`~statemachines.errors.TransitionRefused` citing that rule instead of
    a bare :class:`~statemachines.errors.IllegalTransition`. Nothing is drawn.
    """

    event: str
    sources: tuple[S, ...]
    roles: frozenset[Role]
    rule_id: str
    reason: Check
    """Returns the reason (it always refuses)."""


# --------------------------------------------------------------------------- the spec

Authorize = Callable[[Any, Actor, "Edge[Any] | None"], str | None]


def _run_effects(effects: tuple[Effect, ...]) -> Callable[[Any], None]:
    def before(event: Any) -> None:
        ctx = event.kwargs["ctx"]
        for effect in effects:
            effect.apply(event.model, ctx)

    return before


SPECS: dict[str, MachineSpec[Any, Any]] = {}
"""Every machine spec built so far, by name (snapshots and tools look machines up here)."""

SPECS_BY_MODEL: dict[type, MachineSpec[Any, Any]] = {}
"""The same specs, by aggregate class."""


class MachineSpec(Generic[S, A]):
    """A machine declared as data, checked when it is built (at import time)."""

    def __init__(
        self,
        *,
        name: str,
        states: type[S],
        initial: S,
        terminal: Iterable[S],
        edges: Sequence[Edge[S]],
        model: type[A],
        forbidden: Sequence[Forbidden[S]] = (),
        children: Sequence[str] = (),
        authorize: Authorize | None = None,
        description: str = "",
        version: int = 1,
        register: bool = True,
    ) -> None:
        self.name = name
        self.states = states
        self.initial = initial
        self.terminal = frozenset(terminal)
        self.edges: tuple[Edge[S], ...] = tuple(edges)
        self.forbidden: tuple[Forbidden[S], ...] = tuple(forbidden)
        self.model = model
        self.version = version
        self.authorize = authorize
        self.description = description
        self._check()
        index: dict[tuple[S, str], list[Edge[S]]] = {}
        for edge in self.edges:
            for source in edge.sources:
                index.setdefault((source, edge.event), []).append(edge)
        # Keyed by the state's *name*: Enum.__hash__ is Python code, str hashing is not,
        # and these lookups happen on every event.
        self._index = {(s.name, e): tuple(v) for (s, e), v in index.items()}
        self._forbidden = {(s.name, f.event): f for f in self.forbidden for s in f.sources}
        self.events: tuple[str, ...] = tuple(dict.fromkeys(e.event for e in self.edges))
        self._params = {e.event: e.params for e in self.edges}
        self._names = {e: frozenset(p.name for p in ps) for e, ps in self._params.items()}
        self._defaults: dict[str, Mapping[str, Any]] = {
            event: MappingProxyType({p.name: p.default for p in params}) if params else EMPTY
            for event, params in self._params.items()
            if not any(p.required for p in params)
        }
        self._timers = frozenset(e.event for e in self.edges if e.timer)
        fields = tuple(
            f.name
            for f in attrs.fields(model)  # type: ignore[arg-type]  # A is an attrs class
            if f.name not in {"history", "state"}
        )
        self.fields = fields
        self._get = operator.attrgetter(*fields, "state")
        self.children = tuple(children)
        for child in self.children:
            if child not in fields:
                self._reject(f"child field {child!r} is not a field")
        self.machine = Machine(
            model=None,
            states=list(states),
            initial=initial,
            auto_transitions=False,
            send_event=True,
            name=name,
            transitions=[self._transition(e) for e in self.edges],
        )
        # One bound ``trigger`` per event, looked up once rather than on every event.
        self._triggers = {name: event.trigger for name, event in self.machine.events.items()}
        if register:  # throwaway machines (in tests) stay out of the registry
            if name in SPECS:
                self._reject("another machine has this name")
            SPECS[name] = self
            SPECS_BY_MODEL[model] = self

    @staticmethod
    def _transition(edge: Edge[S]) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "trigger": edge.event,
            "source": list(edge.sources),
            "dest": edge.target,
        }
        if edge.branch is not None:
            spec["conditions"] = [edge.branch]
        if edge.effects:
            spec["before"] = [_run_effects(edge.effects)]
        return spec

    def _reject(self, text: str) -> NoReturn:
        msg = f"machine {self.name!r}: {text}"
        raise DefinitionError(msg)

    def _check(self) -> None:
        states = set(self.states)
        if self.initial not in states:
            self._reject(f"initial state {self.initial!r} is not one of its states")
        if not self.terminal <= states:
            self._reject(f"terminal states {sorted(map(str, self.terminal - states))} are unknown")
        seen = self._check_edges(states)
        self._check_branches(seen)
        for row in self.forbidden:
            rule(row.rule_id)
            if not any(e.event == row.event for e in self.edges):
                self._reject(f"forbidden row names event {row.event!r}, which has no edge")
            for source in row.sources:
                if (source, row.event) in seen:
                    self._reject(f"{row.event!r} from {source.name} is both an edge and forbidden")
        self._check_reachable()

    def _check_edges(self, states: set[S]) -> dict[tuple[S, str], list[Edge[S]]]:
        seen: dict[tuple[S, str], list[Edge[S]]] = {}
        params: dict[str, tuple[Param, ...]] = {}
        for edge in self.edges:
            if not edge.sources:
                self._reject(f"edge {edge.event!r} has no source state (wildcards are not allowed)")
            for state in (*edge.sources, edge.target):
                if state not in states:
                    self._reject(f"edge {edge.event!r} names unknown state {state!r}")
            if not edge.roles:
                self._reject(f"edge {edge.event!r} names no role that may fire it")
            if edge.timer is not None and edge.roles != {Role.SYSTEM}:
                self._reject(f"timer edge {edge.event!r} must be fired by the system alone")
            for rule_id in edge.rule_ids:
                rule(rule_id)  # raises DefinitionError for an unknown rule ID
            if params.setdefault(edge.event, edge.params) != edge.params:
                self._reject(f"edges of event {edge.event!r} disagree about its arguments")
            for source in edge.sources:
                if source in self.terminal:
                    self._reject(f"terminal state {source.name} has an exit: {edge.event!r}")
                seen.setdefault((source, edge.event), []).append(edge)
        return seen

    def _check_branches(self, seen: dict[tuple[S, str], list[Edge[S]]]) -> None:
        for (source, event), group in seen.items():
            if len(group) == 1:
                continue
            labels = [e.branch.label if e.branch else None for e in group]
            if None in labels or len(set(labels)) != len(labels):
                self._reject(
                    f"duplicate edges for {event!r} from {source.name}: "
                    "edges sharing a source and an event need distinct branches"
                )

    def _check_reachable(self) -> None:
        reached = {self.initial}
        todo = deque([self.initial])
        while todo:
            state = todo.popleft()
            for edge in self.edges:
                if state in edge.sources and edge.target not in reached:
                    reached.add(edge.target)
                    todo.append(edge.target)
        unreachable = [s.name for s in self.states if s not in reached]
        if unreachable:
            self._reject(f"states {unreachable} cannot be reached from {self.initial.name}")

    # -- atomicity

    def save(self, aggregate: A) -> tuple[Any, ...]:
        """Capture *aggregate* so that :meth:`restore` can put every field back.

        Fields hold immutable values (amounts, datetimes, tuples), so keeping
        references is a full copy. Child aggregates (``children``, e.g. a
        contract's milestones) are captured recursively, history length included.
        """
        values = self._get(aggregate)
        if not self.children:
            return (values, len(aggregate.history), ())
        kids = tuple(
            tuple(SPECS_BY_MODEL[type(kid)].save(kid) for kid in getattr(aggregate, name))
            for name in self.children
        )
        return (values, len(aggregate.history), kids)

    def restore(self, aggregate: A, saved: tuple[Any, ...]) -> None:
        """Put back what :meth:`save` captured, dropping history recorded since."""
        values, length, kids = saved
        for name, value in zip((*self.fields, "state"), values, strict=True):
            setattr(aggregate, name, value)
        del aggregate.history[length:]
        for name, captured in zip(self.children, kids, strict=True):
            for kid, kid_saved in zip(getattr(aggregate, name), captured, strict=True):
                SPECS_BY_MODEL[type(kid)].restore(kid, kid_saved)

    # -- queries on the table

    def edges_from(self, state: S, event: str) -> tuple[Edge[S], ...]:
        """The edges for *event* from *state* (empty when the pair is illegal)."""
        return self._index.get((state._name_, event), ())

    def forbidden_from(self, state: S, event: str) -> Forbidden[S] | None:
        """The documented refusal of *event* in *state*, if the table has one."""
        return self._forbidden.get((state._name_, event))

    def params(self, event: str) -> tuple[Param, ...]:
        """The arguments *event* takes."""
        return self._params[event]

    def is_timer(self, event: str) -> bool:
        """True when *event* is fired by deadlines."""
        return event in self._timers

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Every rule ID the table cites."""
        return tuple(dict.fromkeys(r for e in self.edges for r in e.rule_ids))

    def __repr__(self) -> str:
        return f"<MachineSpec {self.name}: {len(self.states)} states, {len(self.edges)} edges>"


# --------------------------------------------------------------------------- payloads


def _to_json(value: Any) -> Any:
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, Money):
        return value.to_dict()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    msg = f"cannot record argument of type {type(value).__name__}"
    raise InvalidPayload(msg)


def _from_json(value: Any, types: tuple[type, ...]) -> Any:
    if value is None or (isinstance(value, str | int | bool) and type(value) in types):
        return value
    for kind in types:
        if kind is Money and isinstance(value, dict):
            return Money(value["cents"], value["currency"])
        if kind is datetime and isinstance(value, str):
            return ensure_utc(datetime.fromisoformat(value))
        if issubclass(kind, enum.Enum):
            return kind(value)
    msg = f"cannot read recorded argument {value!r} as {'/'.join(t.__name__ for t in types)}"
    raise InvalidPayload(msg)


# --------------------------------------------------------------------------- the workflow


class Observer(Protocol):
    """Sees what the engine decides, for coverage reports; it must change nothing."""

    def guard(self, machine: str, edge: Edge[Any], rule_id: str, ok: bool, /) -> None:
        """One guard (or deadline check) of *edge* evaluated on a real attempt."""

    def fired(self, machine: str, edge: Edge[Any], /) -> None:
        """*edge* fired: the aggregate is now in its target state."""


_OBSERVERS: list[Observer] = []


@contextmanager
def observe(observer: Observer) -> Iterator[Observer]:
    """Let *observer* see every guard outcome and fired edge until the block ends.

    Meant for test sessions and coverage runs; with no observer the hot path
    pays one list check per attempt.
    """
    _OBSERVERS.append(observer)
    try:
        yield observer
    finally:
        _OBSERVERS.remove(observer)


class AuditSink(Protocol):
    """Where refused and illegal attempts go: a list, or a backend's own store."""

    def append(self, attempt: Attempt, /) -> None:
        """Record one attempt."""


class Workflow(Generic[S, A]):
    """Fires events of one machine on its aggregates, with an injected clock.

    A workflow holds no aggregate: one instance serves any number of them.
    """

    spec: ClassVar[MachineSpec[Any, Any]]

    def __init__(self, *, clock: Clock, audit: AuditSink | None = None) -> None:
        self.clock = clock
        self.audit: AuditSink | MutableSequence[Attempt] = [] if audit is None else audit
        # Most machines read no facts; skip the call on the hot path when not overridden.
        self._reads_facts = type(self).facts is not Workflow.facts

    # -- facts

    def facts(self, aggregate: A, now: datetime) -> Any:
        """Facts about other aggregates that guards may read as ``ctx.facts``.

        The default supplies none. A workflow whose guards depend on other
        machines (an account's obligations) overrides it; the facts are read
        afresh for every attempt and are never stored in the aggregate.
        """
        return None

    # -- firing

    def fire(self, aggregate: A, event: str, actor: Actor, /, **payload: Any) -> Decision:
        """Apply *event* for *actor* now, or raise; on any error *aggregate* is unchanged."""
        return self._fire(aggregate, event, actor, self.clock.now(), payload)

    def fire_at(
        self, aggregate: A, event: str, actor: Actor, at: datetime, /, **payload: Any
    ) -> Decision:
        """Like :meth:`fire`, at an explicit time (for composed machines and schedulers).

        An effect of one machine that drives a child aggregate (a contract ending
        its milestones) calls this with ``ctx.now`` so both record the same time.
        """
        return self._fire(aggregate, event, actor, at, payload)

    def advance(self, aggregate: A, now: datetime | None = None) -> list[Decision]:
        """Fire every deadline due at or before *now* (default: the clock), in time order.

        Each fires once, as the system, at its own due time (or, when the
        aggregate already records a later decision, at that decision's time);
        cancelled or superseded deadlines are gone from the aggregate and never fire.
        """
        limit = self.clock.now() if now is None else ensure_utc(now, what="now")
        fired = []
        history = aggregate.history
        while aggregate.deadlines and aggregate.deadlines[0].due <= limit:
            due = aggregate.deadlines[0].due
            # A late scheduler: if someone acted on the aggregate after the deadline fell
            # due, the deadline fires at that later time, so history never runs backwards.
            at = max(due, history[-1].at) if history else due
            fired.append(self._fire(aggregate, aggregate.deadlines[0].event, SYSTEM, at, EMPTY))
        return fired

    def _fire(
        self,
        aggregate: A,
        event: str,
        actor: Actor,
        now: datetime,
        payload: Mapping[str, Any],
    ) -> Decision:
        source = aggregate.state
        try:
            if type(now) is not datetime or now.tzinfo is not UTC:
                now = ensure_utc(now, what="event time")
            history = aggregate.history
            if history and now < history[-1].at:
                msg = (
                    f"{event!r} at {format_utc(now)} would precede the last recorded decision "
                    f"({format_utc(history[-1].at)}); time never runs backwards"
                )
                raise ClockError(msg)
            ctx = _tuple(
                Context,
                (
                    now,
                    actor,
                    self._payload(aggregate, event, payload),
                    self.facts(aggregate, now) if self._reads_facts else None,
                ),
            )
            edge, deadline, violations = self._resolve(aggregate, event, ctx, complete=True)
        except StatemachinesError as err:
            self._record(aggregate, event, actor, now, err)
            raise
        if violations:  # raised here, not deep in _resolve: fewer frames to unwind
            text = self._refusal_text(aggregate, event, violations)
            self.audit.append(
                _tuple(
                    Attempt,
                    (
                        now,
                        aggregate.id,
                        actor,
                        event,
                        source._value_,
                        "refused",
                        tuple(map(_RULE_ID, violations)),
                        text,
                    ),
                )
            )
            # Never bound to a local name: the traceback holds this frame, and a frame
            # holding its own exception is a cycle only the garbage collector can free.
            raise refused(text, self.spec.name, source._value_, event, violations)
        spec = self.spec
        saved = spec.save(aggregate)
        try:
            if deadline is not None:
                aggregate.deadlines = Deadline.drop(aggregate.deadlines, deadline.key)
            if not spec._triggers[event](aggregate, ctx=ctx):
                msg = f"{spec.name}: no branch of {event!r} matched in state {source.name}"
                raise DefinitionError(msg)
        except BaseException as err:
            spec.restore(aggregate, saved)
            if isinstance(err, Exception):
                self._record(aggregate, event, actor, now, err)
            raise
        decision = _tuple(
            Decision,
            (
                now,
                actor,
                event,
                source,
                edge.target,
                {k: _to_json(v) for k, v in payload.items()} if payload else EMPTY,
                deadline.key if deadline is not None else None,
            ),
        )
        history.append(decision)
        if _OBSERVERS:
            for observer in _OBSERVERS:
                observer.fired(spec.name, edge)
        return decision

    def _payload(  # noqa: PLR0912  (one branch per way an argument can be wrong)
        self, aggregate: A, event: str, given: Mapping[str, Any], *, partial: bool = False
    ) -> Mapping[str, Any]:
        spec = self.spec
        if not given:
            defaults = spec._defaults.get(event)
            if defaults is not None:  # no arguments given, none required: the common case
                return defaults
        key = (aggregate.state._name_, event)
        if key not in spec._index and key not in spec._forbidden:
            return given  # unknown or illegal: _resolve reports that first
        params = spec._params[event]
        if not params:
            if given:
                msg = f"{event!r} takes no arguments, got {sorted(given)}"
                raise InvalidPayload(msg)
            return EMPTY
        names = spec._names[event]
        if not names.issuperset(given):
            unknown = ", ".join(map(repr, sorted(set(given) - names)))
            msg = f"{event!r} takes no argument {unknown}; it takes {sorted(names)}"
            raise InvalidPayload(msg)
        out: dict[str, Any] = {}
        for p in params:
            name = p.name
            value = given.get(name, _MISSING)
            if value is _MISSING:
                if p.required and partial:
                    continue
                if p.required:
                    msg = f"{event!r} needs the argument {name!r} ({p.doc or p.types[0].__name__})"
                    raise InvalidPayload(msg)
                out[name] = p.default
                continue
            if value is None and p.default is None:
                out[name] = None
                continue
            kind = type(value)
            if kind not in p.types and (kind is bool or not isinstance(value, p.types)):
                wanted = " or ".join(t.__name__ for t in p.types)
                msg = f"{event!r}: {name!r} must be {wanted}, got {kind.__name__} {value!r}"
                raise InvalidPayload(msg)
            if kind is Money:
                currency = getattr(aggregate, "currency", None)
                if currency is not None and value.currency != currency:
                    msg = (
                        f"{event!r}: {name!r} is in {value.currency} but {aggregate.id!r} "
                        f"is kept in {currency}"
                    )
                    raise InvalidPayload(msg)
            elif isinstance(value, datetime):
                value = ensure_utc(value, what=name)
            out[name] = value
        return out

    def _resolve(
        self, aggregate: A, event: str, ctx: Context, *, complete: bool
    ) -> tuple[Edge[Any], Deadline | None, list[Violation]]:
        """The edge *event* takes and the deadline it fires, with the guards' violations.

        Raises for an unknown or illegal event, a forbidden row and an actor
        without authority; returns violations (empty when every guard passes)
        so that the caller raises the refusal with a short traceback.
        """
        spec = self.spec
        state = aggregate.state
        edges = spec._index.get((state._name_, event))
        if not edges:
            row = spec.forbidden_from(state, event)
            if row is None:
                if event not in spec._params:
                    msg = (
                        f"{spec.name} has no event {event!r}; its events are {sorted(spec.events)}"
                    )
                    raise UnknownEvent(msg, machine=spec.name, state=state.value, event=event)
                allowed = sorted(e.event for e in spec.edges if state in e.sources)
                msg = (
                    f"cannot {event!r} {spec.name} {aggregate.id!r} in state {state.value!r}; "
                    f"from there it accepts {allowed or 'nothing (it is final)'}"
                )
                raise IllegalTransition(msg, machine=spec.name, state=state.value, event=event)
            self._permit(aggregate, event, ctx.actor, row.roles, None)
            reason = row.reason(aggregate, ctx)
            assert reason is not None, f"forbidden row {event!r} must always give a reason"
            violation = Violation(row.rule_id, reason.text, reason.data)
            msg = f"{spec.name} {aggregate.id!r} cannot {event!r}: {violation}"
            raise TransitionRefused(
                msg, machine=spec.name, state=state.value, event=event, violations=[violation]
            )
        edge = edges[0]
        if len(edges) > 1 or edge.branch is not None:
            matching = [e for e in edges if e.branch is None or e.branch.test(aggregate, ctx)]
            if len(matching) != 1:
                msg = f"{spec.name}: {len(matching)} branches of {event!r} match in {state.name}"
                raise DefinitionError(msg)
            edge = matching[0]
        actor = ctx.actor
        authorize = spec.authorize
        if actor.role not in edge.roles or (
            authorize is not None and authorize(aggregate, actor, edge) is not None
        ):
            self._permit(aggregate, event, actor, edge.roles, edge)  # raises with the reason
        violations: list[Violation] = []
        deadline = None
        if edge.timer is not None:
            deadline = next((d for d in aggregate.deadlines if d.event == event), None)
            if deadline is None or deadline.due > ctx.now:
                when = f"it falls due at {format_utc(deadline.due)}" if deadline else "none is set"
                violations.append(
                    Violation(
                        edge.timer.rule_id,
                        f"no {event!r} deadline is due at {format_utc(ctx.now)}: {when}",
                        {"due": deadline.due.isoformat() if deadline else None},
                    )
                )
        for guard in edge.guards:
            if not complete and any(n not in ctx.payload for n in guard.uses):
                continue
            reason = guard.check(aggregate, ctx)
            if reason is not None:
                violations.append(_tuple(Violation, (guard.rule_id, *reason)))
        if complete and _OBSERVERS:
            self._observe(edge, violations)
        return edge, deadline, violations

    def _refusal_text(self, aggregate: A, event: str, violations: list[Violation]) -> str:
        if len(violations) == 1:
            rule_id, reason, _ = violations[0]
            reasons = f"[{rule_id}] {reason}"
        else:
            reasons = "; ".join(map(str, violations))
        return f"{self.spec.name} {aggregate.id!r} cannot {event!r}: {reasons}"

    def _observe(self, edge: Edge[Any], violations: list[Violation]) -> None:
        refused = {v.rule_id for v in violations}
        name = self.spec.name
        checks = [g.rule_id for g in edge.guards]
        if edge.timer is not None:
            checks.append(edge.timer.rule_id)
        for observer in _OBSERVERS:
            for rule_id in checks:
                observer.guard(name, edge, rule_id, rule_id not in refused)

    def _permit(
        self,
        aggregate: A,
        event: str,
        actor: Actor,
        roles: frozenset[Role],
        edge: Edge[Any] | None,
    ) -> None:
        spec = self.spec
        problem = None
        if actor.role not in roles:
            problem = f"{event!r} may be done only by {_roles(roles)}"
        elif spec.authorize is not None:
            problem = spec.authorize(aggregate, actor, edge)
        if problem is not None:
            msg = f"{actor} may not {event!r} {spec.name} {aggregate.id!r}: {problem}"
            raise NotPermitted(
                msg,
                machine=spec.name,
                state=aggregate.state.value,
                event=event,
                actor=actor.id,
                allowed_roles=sorted(r.value for r in roles),
            )

    def _record(
        self, aggregate: A, event: str, actor: Actor, now: datetime, err: Exception
    ) -> None:
        outcome = _OUTCOMES.get(type(err)) or (
            "invalid" if isinstance(err, InvalidInput) else "failed"
        )
        rule_ids = err.rule_ids if isinstance(err, TransitionRefused) else ()
        self.audit.append(
            _tuple(
                Attempt,
                (
                    now if getattr(now, "tzinfo", None) is not None else self.clock.now(),
                    aggregate.id,
                    actor,
                    event,
                    aggregate.state._value_,
                    outcome,
                    rule_ids,
                    str(err),
                ),
            )
        )

    # -- side-effect-free queries

    def explain(self, aggregate: A, event: str, actor: Actor, /, **payload: Any) -> Verdict:
        """Say what *event* would do now for *actor*, or why not, without changing anything.

        Guards that read arguments the caller did not give are skipped, so
        ``explain(ms, "approve", client)`` answers for the default arguments.
        """
        try:
            now = self.clock.now()
            ctx = Context(
                now,
                actor,
                self._payload(aggregate, event, payload, partial=True),
                self.facts(aggregate, now),
            )
            edge, _, violations = self._resolve(aggregate, event, ctx, complete=False)
        except (TransitionError, InvalidInput) as err:
            return Verdict(event, None, err)
        if violations:
            text = self._refusal_text(aggregate, event, violations)
            state = aggregate.state._value_
            return Verdict(event, None, refused(text, self.spec.name, state, event, violations))
        target = edge.target
        return Verdict(event, target)

    def verdicts(self, aggregate: A, actor: Actor) -> tuple[Verdict, ...]:
        """A verdict for every event of the machine, in table order."""
        return tuple(self.explain(aggregate, event, actor) for event in self.spec.events)

    def available(self, aggregate: A, actor: Actor) -> tuple[str, ...]:
        """The events *actor* may fire now (with default arguments)."""
        return tuple(v.event for v in self.verdicts(aggregate, actor) if v.allowed)

    # -- history

    def replay(self, initial: A, decisions: Iterable[Decision]) -> A:
        """Re-apply recorded *decisions* to *initial* (mutated in place) and return it.

        Decisions already in ``initial.history`` are skipped, so replaying an
        aggregate's full history onto its first snapshot reproduces it exactly.
        """
        for decision in list(decisions)[len(initial.history) :]:
            params = {p.name: p.types for p in self.spec.params(decision.event)}
            payload = {k: _from_json(v, params[k]) for k, v in decision.payload.items()}
            self._fire(initial, decision.event, decision.actor, decision.at, payload)
        return initial


_RULE_ID = operator.itemgetter(0)

_OUTCOMES: dict[type, str] = {
    UnknownEvent: "illegal",
    IllegalTransition: "illegal",
    NotPermitted: "not_permitted",
    TransitionRefused: "refused",
}


def _roles(roles: Iterable[Role]) -> str:
    names = sorted(r.label for r in roles)
    if len(names) == 1:
        return f"the {names[0]}"
    return f"the {', '.join(names[:-1])} or {names[-1]}"

"""The spec: a machine table, checked when it is built; the only importer of ``transitions``.

A machine is a :class:`MachineSpec`: an enum of states, an initial state, the
terminal states, and a table of :class:`~statemachines.core.engine.rows.Edge`
rows. One shared ``transitions.Machine`` is built per table, with
``auto_transitions=False``, an explicit initial state and no model registered
(registering models costs time that grows with every model added, and resets a
restored model to the initial state). The spec also saves and restores an
aggregate's fields, which makes every transition atomic.
"""

from __future__ import annotations

import enum
import operator
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Generic, NoReturn, TypeVar

import attrs
from transitions import Machine

from statemachines.core.actors import Actor, Role
from statemachines.core.engine.records import EMPTY, Aggregate
from statemachines.core.engine.rows import Edge, Effect, Forbidden, Param
from statemachines.errors import DefinitionError, Violation
from statemachines.rules import rule

__all__ = ["SPECS", "SPECS_BY_MODEL", "Authorize", "MachineSpec", "RunEffects", "Who"]

S = TypeVar("S", bound=enum.Enum)
A = TypeVar("A", bound=Aggregate)

Authorize = Callable[[Any, Actor, "Edge[Any] | None"], "str | Violation | None"]
"""Why *actor* (in a role the table names) may not act on the aggregate, or ``None``: a
:class:`~statemachines.errors.Violation` citing its own rule, or words (which cite the
edge's role rule)."""

Who = Callable[[Any, frozenset[Role]], "str | None"]
"""Who among the roles may act on the aggregate, in words (``None``: the engine's wording)."""


class RunEffects:
    """An edge's effects as one ``transitions`` ``before`` callback (``send_event=True``).

    The workflow applies an edge's :attr:`effects` itself, in the same order (ADR 0042;
    a branched edge too, ADR 0046); ``tests/core/test_direct_dispatch.py`` checks that
    ``transitions`` would do nothing else.
    """

    __slots__ = ("effects",)

    def __init__(self, effects: tuple[Effect, ...]) -> None:
        self.effects = effects

    def __call__(self, event: Any) -> None:
        ctx = event.kwargs["ctx"]
        for effect in self.effects:
            effect.apply(event.model, ctx)


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
        who: Who | None = None,
        description: str = "",
        version: int = 1,
        register: bool = True,
    ) -> None:
        self.name = name
        self.states = states
        self.initial = initial
        self.terminal = frozenset(terminal)
        self._terminal_names = frozenset(s.name for s in self.terminal)
        self.edges: tuple[Edge[S], ...] = tuple(edges)
        self.forbidden: tuple[Forbidden[S], ...] = tuple(forbidden)
        self.model = model
        self.version = version
        self.authorize = authorize
        self.who = who
        self._role_rules: dict[str, tuple[str, ...]] = {}
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
            spec["before"] = [RunEffects(edge.effects)]
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
            if edge.timer is None and not edge.role_rules:
                self._reject(f"edge {edge.event!r} names no rule that says who may fire it")
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
        # lists, not generators: a fire saves its aggregate twice (the engine, the unit of work)
        kids = tuple(
            [
                tuple([SPECS_BY_MODEL[type(kid)].save(kid) for kid in getattr(aggregate, name)])
                for name in self.children
            ]
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

    def role_rules_of(self, event: str) -> tuple[str, ...]:
        """The rules that say who may fire *event*: its edges' role rules (or timers)."""
        rules = self._role_rules.get(event)
        if rules is None:
            edges = [e for e in self.edges if e.event == event]
            found = [r for e in edges for r in e.role_rules]
            found += [e.timer.rule_id for e in edges if e.timer is not None]
            rules = self._role_rules[event] = tuple(dict.fromkeys(found))
        return rules

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

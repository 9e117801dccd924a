"""The workflow: fires events of one machine on its aggregates, with an injected clock.

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
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Iterable, Mapping, MutableSequence
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from statemachines.core.actors import SYSTEM, Actor, Role, one_of, who_tried
from statemachines.core.clock import UTC, Clock, ensure_utc, format_utc
from statemachines.core.engine.observers import OBSERVERS as _OBSERVERS
from statemachines.core.engine.observers import muted
from statemachines.core.engine.payloads import from_json as _from_json
from statemachines.core.engine.payloads import to_json as _to_json
from statemachines.core.engine.records import (
    EMPTY,
    Aggregate,
    Attempt,
    Context,
    Deadline,
    Decision,
    Verdict,
)
from statemachines.core.engine.rows import MISSING as _MISSING
from statemachines.core.engine.rows import Edge
from statemachines.core.engine.spec import MachineSpec
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

__all__ = ["AuditSink", "Workflow"]

# Named tuples built on the hot path skip their generated (Python) ``__new__``.
_tuple = tuple.__new__

S = TypeVar("S", bound=enum.Enum)
A = TypeVar("A", bound=Aggregate)


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
        """Apply *event* for *actor* now, or raise; on any error *aggregate* is unchanged.

        The aggregate's deadlines due by now fire first, in time order and as the
        platform, so the event meets the aggregate as time has made it (a review that
        lapsed has approved its milestone). If the event is then refused or fails,
        those deadlines are undone too: they fire again with the next event or
        :meth:`advance`. Returns the event's own decision.
        """
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
            event = aggregate.deadlines[0].event
            fired.append(self._fire(aggregate, event, SYSTEM, at, EMPTY, catch_up=False))
        return fired

    def _due_first(self, aggregate: A, event: str, now: datetime) -> bool:
        """True when a deadline of *aggregate* due by *now* must fire before *event*."""
        deadlines = aggregate.deadlines
        return bool(deadlines) and deadlines[0].due <= now and deadlines[0].event != event

    def _catch_up(self, aggregate: A, event: str, now: datetime) -> None:
        """Fire the deadlines due by *now* that come before *event* (see :meth:`fire`).

        A timer event fired by hand consumes its own deadline: the catch-up stops there.
        """
        history = aggregate.history
        while self._due_first(aggregate, event, now):
            deadline = aggregate.deadlines[0]
            at = max(deadline.due, history[-1].at) if history else deadline.due
            self._fire(aggregate, deadline.event, SYSTEM, at, EMPTY, catch_up=False)

    def _fire_after_due(
        self, aggregate: A, event: str, actor: Actor, now: datetime, payload: Mapping[str, Any]
    ) -> Decision:
        saved = self.spec.save(aggregate)
        try:
            self._catch_up(aggregate, event, now)
            return self._fire(aggregate, event, actor, now, payload, catch_up=False)
        except BaseException:
            self.spec.restore(aggregate, saved)
            raise

    def _fire(  # noqa: PLR0912  (the hot path: every check inlined, one branch each)
        self,
        aggregate: A,
        event: str,
        actor: Actor,
        now: datetime,
        payload: Mapping[str, Any],
        *,
        catch_up: bool = True,
    ) -> Decision:
        source = aggregate.state
        try:
            if type(actor) is not Actor:
                _check_actor(actor)
            if type(now) is not datetime or now.tzinfo is not UTC:
                now = ensure_utc(now, what="event time")
            history = aggregate.history
            if history and now < history[-1].at:
                msg = (
                    f"{event!r} at {format_utc(now)} would precede the last recorded decision "
                    f"({format_utc(history[-1].at)}); time never runs backwards"
                )
                raise ClockError(msg)
        except StatemachinesError as err:
            self._record(aggregate, event, actor, now, err)
            raise
        deadlines = aggregate.deadlines
        if catch_up and deadlines and deadlines[0].due <= now and deadlines[0].event != event:
            return self._fire_after_due(aggregate, event, actor, now, payload)
        try:
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
            if edge.branch is None:
                # The only edge of (state, event), without conditions: what `transitions`
                # would do, done here (its `before` callbacks in order, then the state):
                # ADR 0042.
                for effect in edge.effects:
                    effect.apply(aggregate, ctx)
                aggregate.state = edge.target
            else:
                # Branched edges: what the shared machine's trigger does, done here too
                # (ADR 0046): the first edge of (state, event), in table order, whose branch
                # holds now (tested again, after the deadline went; compared with True as
                # the trigger's Condition.check does), its effects, then its state.
                for taken in spec._index[source._name_, event]:
                    branch = taken.branch
                    if branch is None or branch.test(aggregate, ctx) == True:  # noqa: E712
                        for effect in taken.effects:
                            effect.apply(aggregate, ctx)
                        aggregate.state = taken.target
                        break
                else:
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
                raise self._illegal(aggregate, event)  # raised here: one frame fewer to unwind
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
                when = (
                    f"the next time is {format_utc(deadline.due)}"
                    if deadline
                    else "nothing is due to happen now"
                )
                violations.append(
                    Violation(
                        edge.timer.rule_id,
                        f"the platform does this only when it falls due ({edge.timer.label}); "
                        f"at {format_utc(ctx.now)} it is not due: {when}",
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

    def _illegal(self, aggregate: A, event: str) -> IllegalTransition:
        spec = self.spec
        state = aggregate.state
        if event not in spec._params:
            msg = f"{spec.name} has no event {event!r}; its events are {sorted(spec.events)}"
            return UnknownEvent(msg, machine=spec.name, state=state.value, event=event)
        msg = f"cannot {event!r} {spec.name} {aggregate.id!r} in state {state.value!r}"
        if state._name_ in spec._terminal_names:
            msg += self._final(aggregate)
        else:
            allowed = sorted(e.event for e in spec.edges if state in e.sources)
            msg += f"; from there it accepts {allowed}"
        return IllegalTransition(msg, machine=spec.name, state=state.value, event=event)

    def _final(self, aggregate: A) -> str:
        """A final state says since when and why, from the decision that made it so:
        ``: it became approved on <when> (<what that edge does>), and that is final``."""
        state = aggregate.state
        since = ""
        entered = next((d for d in reversed(aggregate.history) if d.target is state), None)
        if entered is not None:
            edges = self.spec.edges_from(entered.source, entered.event)
            summaries = {e.summary for e in edges if e.target is state}
            # several branches into the state: the decision does not say which one it took
            summary = summaries.pop() if len(summaries) == 1 else ""
            why = f" ({summary[0].lower()}{summary[1:].rstrip('.')})" if summary else ""
            since = f" on {format_utc(entered.at)}{why}"
        return f": it became {state.value.replace('_', ' ')}{since}, and that is final"

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
        """Raise :class:`NotPermitted` citing the rule that decides who may act, or return.

        A role the table does not name cites the edge's role rule for that role (TEAM-5 for
        a client member, TEAM-8 for an agency's people, else the edge's first); a machine's
        ``authorize`` says why a named role may not act here, as a
        :class:`~statemachines.errors.Violation` with its own rule ID, or in words (which
        then cite the edge's role rule the same way).
        """
        spec = self.spec
        rules = edge.who_rules if edge is not None else spec.role_rules_of(event)
        problem: str | Violation | None = None
        if actor.role not in roles:
            agency = getattr(aggregate, "agency", None)
            who = spec.who(aggregate, roles) if spec.who is not None else None
            if who is None:
                who = one_of(roles, agency=agency if isinstance(agency, bool) else None)
            what = f"{spec.name.replace('_', ' ')} {aggregate.id}"
            problem = Violation(
                _role_rule(rules, actor.role),
                f"{who_tried(actor)} cannot do this on {what}; only {who} can",
                {"role": actor.role.value, "allowed": tuple(sorted(r.value for r in roles))},
            )
        elif spec.authorize is not None:
            problem = spec.authorize(aggregate, actor, edge)
        if problem is None:
            return
        if not isinstance(problem, Violation):
            problem = Violation(_role_rule(rules, actor.role), problem)
        msg = f"{actor} may not {event!r} {spec.name} {aggregate.id!r}: {problem}"
        raise NotPermitted(
            msg,
            machine=spec.name,
            state=aggregate.state.value,
            event=event,
            actor=actor.id,
            allowed_roles=sorted(r.value for r in roles),
            violations=(problem,),
        )

    def _record(
        self, aggregate: A, event: str, actor: Actor, now: datetime, err: Exception
    ) -> None:
        outcome = _OUTCOMES.get(type(err)) or (
            "invalid" if isinstance(err, InvalidInput) else "failed"
        )
        rule_ids = err.rule_ids if isinstance(err, TransitionRefused | NotPermitted) else ()
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
        now = self.clock.now()
        if type(actor) is not Actor:
            try:
                _check_actor(actor)
            except InvalidInput as err:
                return Verdict(event, None, err)
        if aggregate.deadlines and self._due_first(aggregate, event, now):
            return self._explain_after_due(aggregate, event, actor, now, payload)
        return self._explain(aggregate, event, actor, now, payload)

    def _explain_after_due(
        self, aggregate: A, event: str, actor: Actor, now: datetime, payload: Mapping[str, Any]
    ) -> Verdict:
        # Judged as fire would judge it: after the deadlines due by now, which are undone
        # again; nothing reaches the audit trail or the observers.
        saved = self.spec.save(aggregate)
        audit, self.audit = self.audit, []
        try:
            with muted():
                self._catch_up(aggregate, event, now)
                return self._explain(aggregate, event, actor, now, payload)
        except (TransitionError, InvalidInput) as err:
            return Verdict(event, None, err)
        finally:
            self.audit = audit
            self.spec.restore(aggregate, saved)

    def _explain(
        self, aggregate: A, event: str, actor: Actor, now: datetime, payload: Mapping[str, Any]
    ) -> Verdict:
        try:
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
            self._fire(
                initial, decision.event, decision.actor, decision.at, payload, catch_up=False
            )
        return initial


_RULE_ID = operator.itemgetter(0)

_OUTCOMES: dict[type, str] = {
    UnknownEvent: "illegal",
    IllegalTransition: "illegal",
    NotPermitted: "not_permitted",
    TransitionRefused: "refused",
}


_CLIENT_MEMBERS = frozenset(
    {Role.CLIENT_OWNER, Role.CLIENT_ADMIN, Role.HIRING_MANAGER, Role.SOURCING_MEMBER}
) | {Role.TEAM_MEMBER}
_AGENCY_PEOPLE = frozenset({Role.AGENCY_OWNER, Role.BUSINESS_MANAGER, Role.AGENCY_MEMBER})


def _check_actor(actor: object) -> None:
    """Refuse anything but an :class:`Actor` (``None``, a role, a name) as the one who acts."""
    if isinstance(actor, Actor):
        return
    hint = ""
    if isinstance(actor, Role | str):
        hint = "; build one with Actor(id, Role.<ROLE>, party=...)"
    msg = f"an event is fired by an Actor, got {type(actor).__name__} {actor!r}{hint}"
    raise InvalidInput(msg)


def _role_rule(rules: tuple[str, ...], role: Role) -> str:
    """The role rule that answers *role*: TEAM-5 for a client member and TEAM-8 for an
    agency's people when the edge cites them, else the edge's first role rule."""
    if role in _CLIENT_MEMBERS and "TEAM-5" in rules:
        return "TEAM-5"
    if role in _AGENCY_PEOPLE and "TEAM-8" in rules:
        return "TEAM-8"
    return rules[0]

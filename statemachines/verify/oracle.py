"""The checker's oracle: what the machine tables say an attempt must do, read without firing it.

:func:`predict` reads the outcome of one attempt off the table (edge or forbidden row,
branch, roles and authorisation, timer, every guard); :func:`verdicts` does it for every
attempt the checker makes in a state (what ``--audit`` compares between merged states).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from statemachines.core.actors import Actor, Role
from statemachines.core.engine import Context, Edge, MachineSpec, Workflow
from statemachines.errors import (
    IllegalTransition,
    InvalidInput,
    NotPermitted,
    StatemachinesError,
    TransitionRefused,
)
from statemachines.marketplace.handlers import frozen_party
from statemachines.marketplace.market import FREEZING, Marketplace
from statemachines.verify.world import ACTING, ACTORS, World, payloads

__all__ = ["Expected", "predict", "verdicts"]


@attrs.frozen
class Expected:
    """What the table says an attempt must do."""

    outcome: str
    """``fires``, ``illegal``, ``not_permitted``, ``refused`` or ``invalid``."""
    edge: Edge[Any] | None = None
    refusing: tuple[str, ...] = ()


_READ: Any = object()
"""The default of :func:`predict`'s *facts*: read them."""


def predict(  # noqa: PLR0911, PLR0917  (one return per outcome; the attempt spelled out)
    flow: Workflow[Any, Any],
    agg: Any,
    event: str,
    actor: Actor,
    payload: Mapping[str, Any],
    now: datetime,
    seen: Callable[[str, Edge[Any], str, bool], None] | None = None,
    facts: Any = _READ,
) -> Expected:
    """Read the outcome of firing *event* off the table, without firing it.

    The edge (or forbidden row) for the state and event, the edge's roles and the
    machine's authorisation, its timer and every guard decide it; *seen* is told
    each guard's result (for coverage). *facts* are what ``flow.facts(agg, now)`` gives,
    when the caller read them already (a plan reads them once for all its attempts: the
    world does not change while it is made); else they are read here.
    """
    spec = flow.spec
    state = agg.state
    edges = spec.edges_from(state, event)
    row = spec.forbidden_from(state, event)
    if not edges and row is None:
        return _ILLEGAL
    try:
        given = flow._payload(agg, event, payload)
    except InvalidInput:
        return _INVALID
    ctx = Context(now, actor, given, flow.facts(agg, now) if facts is _READ else facts)
    if not edges:
        assert row is not None
        if actor.role not in row.roles or (
            spec.authorize is not None and spec.authorize(agg, actor, None) is not None
        ):
            return _NOT_PERMITTED
        return _refused(None, (row.rule_id,))
    matching = [e for e in edges if e.branch is None or e.branch.test(agg, ctx)]
    if len(matching) != 1:
        return Expected("ambiguous")
    edge = matching[0]
    if actor.role not in edge.roles or (
        spec.authorize is not None and spec.authorize(agg, actor, edge) is not None
    ):
        return _by_edge("not_permitted", edge)
    refusing: list[str] = []
    if edge.timer is not None:
        due = next((d for d in agg.deadlines if d.event == event), None)
        if due is None or due.due > now:
            refusing.append(edge.timer.rule_id)
    for guard in edge.guards:
        ok = guard.check(agg, ctx) is None
        if seen is not None:
            seen(spec.name, edge, guard.rule_id, ok)
        if not ok:
            refusing.append(guard.rule_id)
    if refusing:
        return _refused(edge, tuple(dict.fromkeys(refusing)))
    return _by_edge("fires", edge)


_ILLEGAL = Expected("illegal")
_INVALID = Expected("invalid")
_NOT_PERMITTED = Expected("not_permitted")
_BY_EDGE: dict[tuple[str, int], tuple[Edge[Any], Expected]] = {}


def _by_edge(outcome: str, edge: Edge[Any]) -> Expected:
    """``Expected(outcome, edge)``, made once per outcome and edge (they are frozen)."""
    found = _BY_EDGE.get((outcome, id(edge)))
    if found is None or found[0] is not edge:
        found = _BY_EDGE[outcome, id(edge)] = (edge, Expected(outcome, edge))
    return found[1]


_REFUSED: dict[tuple[int, tuple[str, ...]], tuple[Edge[Any] | None, Expected]] = {}


def _refused(edge: Edge[Any] | None, refusing: tuple[str, ...]) -> Expected:
    """``Expected("refused", edge, refusing)``, made once per edge and rules (the checker's
    plans hold many)."""
    found = _REFUSED.get((id(edge), refusing))
    if found is None or found[0] is not edge:
        found = _REFUSED[id(edge), refusing] = (edge, Expected("refused", edge, refusing))
    return found[1]


_ROLES: dict[tuple[str, str, str], frozenset[Role]] = {}


def _roles_for(spec: MachineSpec[Any, Any], state: enum.Enum, event: str) -> frozenset[Role]:
    """Every role that some edge or forbidden row lets fire *event* in *state*."""
    key = (spec.name, state.name, event)
    roles = _ROLES.get(key)
    if roles is None:
        roles = frozenset().union(*(e.roles for e in spec.edges_from(state, event)))
        row = spec.forbidden_from(state, event)
        if row is not None:
            roles |= row.roles
        _ROLES[key] = roles
    return roles


def verdicts(world: World) -> tuple[Any, ...]:
    """What the table says every attempt the checker makes in the world's state would do.

    Per aggregate (contracts as a sorted multiset, so that symmetric states compare
    equal): for every event, actor and argument set (by position), the outcome, the
    refusing rule IDs and the target. Two states under one key must give the same.
    """
    market = world.market
    now = world.clock.now()
    out: list[Any] = []
    for kind in ACTING:
        flow = market._flows[kind]
        per: list[Any] = []
        for agg in market.store.values(kind):
            sig = []
            for event in flow.spec.events:
                for actor in ACTORS:
                    for i, payload in enumerate(payloads(world, kind, agg, event)):
                        e = _frozen_client(market, kind, agg, event) or predict(
                            flow, agg, event, actor, payload, now
                        )
                        target = e.edge.target.value if e.edge is not None else None
                        sig.append((event, actor.role.value, i, e.outcome, e.refusing, target))
            anonymous = kind in {"contract", "job", "proposal"}  # symmetric: a multiset
            per.append(("" if anonymous else agg.id, agg.state.value, tuple(sig)))
        out.append(tuple(sorted(per, key=repr)))
    return tuple(out)


def _frozen_client(market: Marketplace, kind: str, agg: Any, event: str) -> Expected | None:
    """The marketplace's own refusal: no new funded work for a contract one of whose
    parties is frozen (ACC-FREEZE-D), judged by the marketplace's own function."""
    if kind != "contract" or event not in FREEZING:
        return None
    if frozen_party(market.account_of, agg) is None:
        return None
    return Expected("refused", refusing=("ACC-FREEZE-D",))


def _outcome(err: StatemachinesError) -> str:
    if isinstance(err, TransitionRefused):
        return "refused"
    if isinstance(err, NotPermitted):
        return "not_permitted"
    if isinstance(err, IllegalTransition):
        return "illegal"
    if isinstance(err, InvalidInput):
        return "invalid"
    return type(err).__name__

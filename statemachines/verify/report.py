"""What a check found: the report, its progress, and its counterexample as a scenario file.

:class:`Report` holds the counts, the coverage, the verdict and the shortest trace;
:func:`scenario_yaml` writes that trace as a scenario file that
``python -m statemachines run`` replays.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import attrs

from statemachines.core.actors import Role
from statemachines.core.clock import UTC
from statemachines.core.engine import SPECS_BY_MODEL
from statemachines.core.money import Money
from statemachines.verify.coverage import Coverage
from statemachines.verify.world import _NAMES, ACTING, ACTORS, START, Bounds, Step, World

__all__ = ["Progress", "Report", "scenario_yaml"]

T = TypeVar("T")


@attrs.define
class Report:
    """What a check found."""

    bounds: Bounds
    states: int = 0
    transitions: int = 0
    attempts: int = 0
    invariants: int = 0
    """Invariant checks made."""
    reused: int = 0
    """Invariant checks not made again: nothing they read had changed since one passed."""
    seconds: float = 0.0
    peak_mb: float = 0.0
    """The process's peak resident memory when the search ended, in MB (the interpreter,
    the package and whatever else the process holds included; 0 where the platform does
    not tell)."""
    complete: bool = True
    """False when ``max_states`` cut the search short."""
    depth: int = 0
    merged: int = 0
    """Steps that reached a key already seen (with ``audit``: each one's verdicts compared)."""
    violation: str | None = None
    trace: tuple[Step, ...] = ()
    coverage: Coverage = attrs.Factory(Coverage)
    paths: dict[tuple[str, int], tuple[Step, ...]] = attrs.Factory(dict)
    """For every edge that fired: the shortest trace from the initial world that fires it."""
    unchecked: int = 0
    """Steps that reached a key already seen whose state invariants were not checked again
    (the state first stored under the key passed them; see :attr:`Bounds.full_check`)."""
    left_to_key: int = 0
    """System events (which start no state of their own) whose state invariants were not
    checked: they reach a key already stored, whose first state passed them."""
    recalled: int = 0
    """Transitions not fired again: the attempt's outcome in the same aggregate, facts and
    time was known from another state (see :attr:`Bounds.cross_check`)."""
    decided: int = 0
    """Attempts the oracle decided alone (not fired: it said they do not fire, and they were
    not drawn for the cross-check, see :attr:`Bounds.cross_check`)."""
    tried: dict[tuple[str, str, str], int] = attrs.Factory(dict)
    """Attempts made, by kind of aggregate, event and role."""
    fired: dict[tuple[str, str, str], int] = attrs.Factory(dict)
    """Attempts that fired, by kind of aggregate, event and role (deadlines not counted)."""
    audited: tuple[int, int, int] = (0, 0, 0)
    """The successor audit (``Bounds.audit_successors``): merged pairs compared, their
    successors compared, and of those the ones whose keys differ only in the ranks of
    their moments (:mod:`~statemachines.verify.reduction`)."""

    def by(
        self, counts: Mapping[tuple[str, str, str], int], *, kind: str = "", role: str = ""
    ) -> int:
        """The sum of *counts* (:attr:`tried` or :attr:`fired`) for a kind and/or a role."""
        return sum(
            n
            for (k, _, r), n in counts.items()
            if (not kind or k == kind) and (not role or r == role)
        )

    @property
    def ok(self) -> bool:
        """True when no violation was found."""
        return self.violation is None

    @property
    def rate(self) -> float:
        """States per second."""
        return self.states / self.seconds if self.seconds else 0.0

    @property
    def exhaustive(self) -> bool:
        """True when every reachable state of the bound was explored: neither
        ``max_states`` nor ``depth`` stopped the search (a depth the search never reached
        stopped nothing)."""
        depth = self.bounds.depth
        return self.complete and (depth is None or self.depth < depth)

    def reach(self) -> str:
        """How far the search went, in words."""
        if not self.complete:
            return "cut short by --max-states: states still queued were not explored"
        if not self.exhaustive:
            return (
                f"explored to depth {self.bounds.depth}: states further from the start, if "
                "any, were not explored (--depth 0 runs to the end)"
            )
        return "explored to the end: every reachable state of this bound"

    def summary(self) -> str:
        """The report in a few lines."""
        b = self.bounds
        lines = [
            f"bounds: {b.contracts} contract(s) ({b.hourly} hourly), up to {b.milestones} "
            f"milestone(s) each, amounts {', '.join(str(Money(a)) for a in b.amounts)}, "
            f"agency {'yes' if b.has_agency else 'no'}"
            + (f" (holds {b.agency_contracts} contract(s))" if b.agency_contracts else "")
            + (f", {b.jobs} job post(s) with proposals" if b.jobs else "")
            + f", symmetry {'on' if b.symmetry else 'off'}, "
            f"depth {b.depth if b.depth is not None else 'unbounded'}",
            f"states: {self.states}   transitions: {self.transitions}   attempts: {self.attempts}"
            f"   invariants checked: {self.invariants}   merges: {self.merged}",
            f"CPU time: {self.seconds:.2f} s   states/s: {self.rate:,.0f}   "
            f"max depth: {self.depth}   peak memory: {self.peak_mb:,.0f} MB",
            self.reach(),
        ]
        kinds = [k for k in ACTING if self.by(self.tried, kind=k)]
        lines.append(
            "fired/tried by kind: "
            + ", ".join(
                f"{k} {self.by(self.fired, kind=k):,}/{self.by(self.tried, kind=k):,}"
                for k in kinds
            )
        )
        if b.has_agency:
            lines.append(
                "fired/tried by the agency's people: "
                + ", ".join(
                    f"{r.value} {self.by(self.fired, role=r.value):,}/"
                    f"{self.by(self.tried, role=r.value):,}"
                    for r in _AGENCY_ROLES
                )
            )
        if self.audited[0]:
            pairs, successors, ranks = self.audited
            lines.append(
                f"successors compared: {successors:,} of {pairs:,} merged pairs, each reaching "
                f"the same key from both ({ranks:,} up to the order of later moments)"
            )
        if self.violation is None:
            lines.append("no violation found")
        else:
            lines.append(f"VIOLATION: {self.violation}")
            lines.append(f"shortest trace ({len(self.trace)} steps):")
            lines.extend(f"  {i}. {s}" for i, s in enumerate(self.trace, 1))
        return "\n".join(lines)


_AGENCY_ROLES = (Role.AGENCY_OWNER, Role.BUSINESS_MANAGER, Role.AGENCY_MEMBER)


def _trace(parents: Mapping[Any, tuple[Any, T | None]], node: Any) -> tuple[T, ...]:
    """The steps from the root of a breadth-first search to *node*, following *parents*."""
    steps: list[T] = []
    while True:
        parent, step_in = parents[node]
        if step_in is None:
            return tuple(reversed(steps))
        steps.append(step_in)
        node = parent


@attrs.frozen
class Progress:
    """Where a long search is (see :func:`~statemachines.verify.search.check`'s *progress*)."""

    states: int
    queued: int
    depth: int
    seconds: float
    """CPU seconds since the search started."""

    def line(self) -> str:
        """One line for a terminal."""
        rate = self.states / self.seconds if self.seconds else 0.0
        return (
            f"{self.states:,} states, {self.queued:,} queued, depth {self.depth}, "
            f"{self.seconds:,.0f} s CPU ({rate:,.0f} states/s)"
        )


def _yaml_value(value: Any) -> Any:
    if isinstance(value, Money):
        return f"{value.cents // 100}.{value.cents % 100:02d} {value.currency}"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_yaml_value(v) for v in value]
    if attrs.has(type(value)):
        return _fields_of(value)
    return value


def _fields_of(agg: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in attrs.fields(type(agg)):
        if f.name == "history":
            continue
        value = getattr(agg, f.name)
        default = f.default
        factory = getattr(default, "factory", None)
        if factory is not None:  # an attrs.Factory
            default = factory(agg) if default.takes_self else factory()
        if default is not attrs.NOTHING and value == default:
            continue
        out[f.name] = _yaml_value(value)
    return out


def scenario_yaml(report: Report, title: str | None = None) -> str:
    """The report's trace as a scenario file for ``python -m statemachines run``."""
    world = World(report.bounds)
    aggregates: dict[str, Any] = {}
    for agg in world.aggregates():
        fields = _fields_of(agg)
        fields.pop("id", None)
        aggregates[agg.id] = {"machine": SPECS_BY_MODEL[type(agg)].name, **fields}
    used = {s.actor for s in report.trace if s.actor is not None}
    actors = {
        _NAMES[a]: f"{a.role.value}:{a.id}" + (f":{a.party}" if a.party else "")
        for a in ACTORS
        if a in used and a.role is not Role.SYSTEM
    }
    steps: list[dict[str, Any]] = []
    now = START
    for s in report.trace:
        entry: dict[str, Any] = {}
        if s.at != now:
            entry["at"] = _yaml_value(s.at)
            now = s.at
        if s.event:
            entry["actor"] = _NAMES[s.actor] if s.actor is not None else "system"
            entry["do"] = s.event
            entry["on"] = s.target
            if s.payload:
                entry["with"] = {k: _yaml_value(v) for k, v in s.payload}
            if s.result:
                entry["expect"] = {"state": s.result}
        else:
            entry["note"] = f"time moves; deadlines fire: {s.result or 'none'}"
        steps.append(entry)
    doc = {
        "scenario": title or f"Checker counterexample: {report.violation}",
        "start": _yaml_value(START),
        "actors": actors,
        "world": aggregates,
        "steps": steps,
    }
    header = (
        "# Written by `python -m statemachines check`: the shortest trace to a violation.\n"
        f"# {report.violation}\n"
    )
    # YAML is needed only for a counterexample: the checker's import does not load it
    import yaml  # noqa: PLC0415

    return header + yaml.safe_dump(doc, sort_keys=False, width=100)

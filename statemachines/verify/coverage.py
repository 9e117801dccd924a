"""Coverage of the tables: states reached, edges fired, guards seen passing and refusing.

Three sources feed one :class:`Coverage`: the checker,
which records what it saw in every state; the path search, which records the
edges it fired; and a :class:`Recorder` passed to the engine's
:func:`statemachines.core.engine.observe`, which sees every guard outcome of a real
attempt and every fired edge (the test suite installs one for a whole pytest
session, see ``tests/coverage_plugin.py``). :func:`gaps` lists what was never
seen: an edge that never fired, a state never reached, and a guard of a v0.1
rule never seen refusing or never seen passing. :func:`render` writes it all
out, machine by machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from statemachines.core.engine import SPECS, Edge

__all__ = ["Coverage", "Recorder", "exclusions", "gaps", "render", "summary", "v01_rules"]


@attrs.define
class Coverage:
    """Which states were reached, which edges fired, which guards passed and refused."""

    states: set[tuple[str, str]] = attrs.Factory(set)
    edges: set[tuple[str, int]] = attrs.Factory(set)
    guards: dict[tuple[str, int, str], set[bool]] = attrs.Factory(dict)

    def guard(self, machine: str, edge: Edge[Any], rule_id: str, ok: bool) -> None:
        """Record one guard result."""
        index = _edge_index(machine, edge)
        self.guards.setdefault((machine, index, rule_id), set()).add(ok)

    def fired(self, machine: str, edge: Edge[Any]) -> None:
        """Record an edge that fired."""
        self.edges.add((machine, _edge_index(machine, edge)))

    def merge(self, other: Coverage) -> None:
        """Add *other*'s observations to these."""
        self.states |= other.states
        self.edges |= other.edges
        for k, v in other.guards.items():
            self.guards.setdefault(k, set()).update(v)


_EDGE_INDEX: dict[tuple[str, int], int] = {}


def _edge_index(machine: str, edge: Edge[Any]) -> int:
    key = (machine, id(edge))
    index = _EDGE_INDEX.get(key)
    if index is None:
        edges = SPECS[machine].edges
        index = next((i for i, e in enumerate(edges) if e is edge), -1)
        if index < 0:  # an edited copy of a row (tests that break a guard): same place
            index = next(
                (
                    i
                    for i, e in enumerate(edges)
                    if (e.event, e.sources, e.target, e.branch)
                    == (edge.event, edge.sources, edge.target, edge.branch)
                ),
                -1,
            )
        _EDGE_INDEX[key] = index
    return index


class Recorder:
    """An engine observer that writes into a :class:`Coverage`, target states included.

    :meth:`pause` and :meth:`resume` let a caller drop what one stretch of work
    saw (a test that breaks a table on purpose): observations go to a scratch
    coverage until :meth:`resume` says whether to keep them.
    """

    def __init__(self, coverage: Coverage | None = None) -> None:
        self.coverage = Coverage() if coverage is None else coverage
        self._current = self.coverage

    def guard(self, machine: str, edge: Edge[Any], rule_id: str, ok: bool, /) -> None:
        """One guard (or deadline check) of *edge* evaluated on a real attempt."""
        if machine not in SPECS:
            return  # a machine built for one test, not in the registry
        self._current.guard(machine, edge, rule_id, ok)

    def fired(self, machine: str, edge: Edge[Any], /) -> None:
        """*edge* fired: its target state is reached."""
        if machine not in SPECS:
            return
        self._current.fired(machine, edge)
        self._current.states.add((machine, edge.target.name))

    def pause(self) -> None:
        """Send what follows to a scratch coverage, until :meth:`resume`."""
        self._current = Coverage()

    def resume(self, *, keep: bool) -> None:
        """Back to the main coverage; merge the scratch one into it if *keep*."""
        scratch, self._current = self._current, self.coverage
        if keep and scratch is not self.coverage:
            self.coverage.merge(scratch)


def v01_rules(path: Path) -> set[str]:
    """The rule IDs in v0.1 scope, from a ``machine RULE-ID`` per line file."""
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("#"):
            out.add(parts[1])
    return out


def exclusions(path: Path) -> dict[str, str]:
    """Gaps excused on purpose, from ``gap line  # reason`` per line (``#`` lines are comments)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        gap, _, reason = line.partition("  # ")
        if not reason.strip():
            msg = f"{path.name}: an exclusion needs a reason after '  # ': {line!r}"
            raise ValueError(msg)
        out[gap.strip()] = reason.strip()
    return out


def _where(machine: str, index: int, edge: Edge[Any]) -> str:
    sources = "|".join(s.name for s in edge.sources)
    return f"{machine}: edge {index} {edge.event} {sources} -> {edge.target.name}"


def _initial(cov: Coverage, machine: str) -> bool:
    """The initial state counts as reached once the machine was seen at all."""
    return any(m == machine for m, _ in cov.edges) or any(m == machine for m, _, _ in cov.guards)


def _reached(cov: Coverage, machine: str, state: str) -> bool:
    if (machine, state) in cov.states:
        return True
    return state == SPECS[machine].initial.name and _initial(cov, machine)


def gaps(
    cov: Coverage,
    machines: Iterable[str],
    scope: set[str],
    excluded: Mapping[str, str] | None = None,
) -> list[str]:
    """Every edge never fired, state never reached, and in-scope guard never seen both ways.

    A deadline edge's timer counts as a guard: it refuses the event before the
    deadline is due (an early ``settle``), and passes when it is.

    A gap listed in *excluded* is left out; an exclusion that is no longer a gap
    is reported, so the list of exclusions cannot go stale.
    """
    out = []
    for machine in machines:
        spec = SPECS[machine]
        for state in spec.states:
            if not _reached(cov, machine, state.name):
                out.append(f"{machine}: state {state.name} never reached")
        for index, edge in enumerate(spec.edges):
            where = _where(machine, index, edge)
            if (machine, index) not in cov.edges:
                out.append(f"{where} never fired")
            checks = [("guard", g.rule_id) for g in edge.guards]
            if edge.timer is not None:
                checks.append(("deadline", edge.timer.rule_id))
            for kind, rule_id in checks:
                if rule_id not in scope:
                    continue
                seen = cov.guards.get((machine, index, rule_id), set())
                if False not in seen:
                    out.append(f"{where}: {kind} {rule_id} never refused")
                if True not in seen:
                    out.append(f"{where}: {kind} {rule_id} never passed")
    out = list(dict.fromkeys(out))  # a rule may guard one edge twice
    excluded = excluded or {}
    stale = [f"excluded but covered now: {gap}" for gap in excluded if gap not in out]
    return [gap for gap in out if gap not in excluded] + stale


def _counts(cov: Coverage, machine: str, scope: set[str]) -> dict[str, tuple[int, int]]:
    spec = SPECS[machine]
    pairs = [(i, g.rule_id) for i, e in enumerate(spec.edges) for g in e.guards]
    timers = [(i, e.timer.rule_id) for i, e in enumerate(spec.edges) if e.timer is not None]
    v01 = [(i, r) for i, r in pairs + timers if r in scope]

    def both(i: int, r: str) -> bool:
        return cov.guards.get((machine, i, r)) == {True, False}

    return {
        "states": (
            sum(_reached(cov, machine, s.name) for s in spec.states),
            len(spec.states.__members__),
        ),
        "edges": (sum((machine, i) in cov.edges for i in range(len(spec.edges))), len(spec.edges)),
        "guards": (sum(both(i, r) for i, r in pairs), len(pairs)),
        "deadlines": (sum(both(i, r) for i, r in timers), len(timers)),
        "v0.1 guards": (sum(both(i, r) for i, r in v01), len(v01)),
    }


def summary(cov: Coverage, machines: Iterable[str], scope: set[str] | None = None) -> str:
    """One line per machine: states, edges and guard outcomes covered."""
    lines = []
    for machine in machines:
        counts = _counts(cov, machine, scope or set())
        parts = [f"states {counts['states'][0]}/{counts['states'][1]}"]
        parts.append(f"edges {counts['edges'][0]}/{counts['edges'][1]}")
        parts.append(
            f"guards seen passing and refusing {counts['guards'][0]}/{counts['guards'][1]}"
        )
        if counts["deadlines"][1]:
            parts.append(f"deadlines {counts['deadlines'][0]}/{counts['deadlines'][1]}")
        if scope is not None:
            done, total = counts["v0.1 guards"]
            parts.append(f"v0.1 guards and deadlines {done}/{total}")
        lines.append(f"{machine}: " + ", ".join(parts))
    return "\n".join(lines)


def _mark(seen: set[bool], ok: bool) -> str:
    return (
        ("passed" if ok else "refused")
        if ok in seen
        else ("never passed" if ok else "never refused")
    )


def render(
    cov: Coverage,
    machines: Iterable[str],
    scope: set[str],
    excluded: Mapping[str, str] | None = None,
) -> str:
    """A readable report: per machine its states, edges and guard outcomes, then the gaps."""
    machines = tuple(machines)
    excluded = excluded or {}
    out = ["# Machine coverage", "", summary(cov, machines, scope), ""]
    for machine in machines:
        spec = SPECS[machine]
        out += [f"## {machine}", "", "states:"]
        out += [
            f"  [{'x' if _reached(cov, machine, s.name) else ' '}] {s.name}" for s in spec.states
        ]
        out.append("edges (guards: outcomes seen; * = v0.1):")
        for index, edge in enumerate(spec.edges):
            fired = "x" if (machine, index) in cov.edges else " "
            branch = f" [{edge.branch.label}]" if edge.branch else ""
            out.append(f"  [{fired}] {_where(machine, index, edge).split(': ', 1)[1]}{branch}")
            checks = [g.rule_id for g in edge.guards]
            if edge.timer is not None:
                checks.append(edge.timer.rule_id)
            for rule_id in checks:
                seen = cov.guards.get((machine, index, rule_id), set())
                star = "*" if rule_id in scope else " "
                out.append(f"        {star}{rule_id}: {_mark(seen, True)}, {_mark(seen, False)}")
        out.append("")
    found = gaps(cov, machines, scope, excluded)
    out += [f"## Gaps ({len(found)})", ""]
    out += [f"  {gap}" for gap in found] or ["  none"]
    if excluded:
        out += ["", f"## Excluded on purpose ({len(excluded)})", ""]
        out += [f"  {gap}: {reason}" for gap, reason in excluded.items()]
    return "\n".join(out) + "\n"

"""Coverage of the tables: states reached, edges fired, guards seen passing and refusing.

The checker (:class:`statemachines.checker.Coverage`) records what it saw in
every state; the path search records the edges it fired. :func:`gaps` lists
what was never seen: an edge that never fired, a state never reached, and a
guard of a v0.1 rule never seen refusing (or never passing).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from statemachines._engine import SPECS
from statemachines.checker import Coverage

__all__ = ["gaps", "summary", "v01_rules"]


def v01_rules(path: Path) -> set[str]:
    """The rule IDs in v0.1 scope, from a ``machine RULE-ID`` per line file."""
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("#"):
            out.add(parts[1])
    return out


def gaps(cov: Coverage, machines: Iterable[str], scope: set[str]) -> list[str]:
    """Every edge never fired, state never reached, and in-scope guard never seen both ways."""
    out = []
    for machine in machines:
        spec = SPECS[machine]
        for state in spec.states:
            if (machine, state.name) not in cov.states:
                out.append(f"{machine}: state {state.name} never reached")
        for index, edge in enumerate(spec.edges):
            where = f"{machine}: edge {index} {edge.event} {'|'.join(s.name for s in edge.sources)}"
            where += f" -> {edge.target.name}"
            if (machine, index) not in cov.edges:
                out.append(f"{where} never fired")
            for guard in edge.guards:
                if guard.rule_id not in scope:
                    continue
                seen = cov.guards.get((machine, index, guard.rule_id), set())
                if False not in seen:
                    out.append(f"{where}: guard {guard.rule_id} never refused")
                if True not in seen:
                    out.append(f"{where}: guard {guard.rule_id} never passed")
    return out


def summary(cov: Coverage, machines: Iterable[str]) -> str:
    """One line per machine: states, edges and guard outcomes covered."""
    lines = []
    for machine in machines:
        spec = SPECS[machine]
        states = sum(1 for s in spec.states if (machine, s.name) in cov.states)
        edges = sum(1 for i in range(len(spec.edges)) if (machine, i) in cov.edges)
        pairs = [(i, g.rule_id) for i, e in enumerate(spec.edges) for g in e.guards]
        both = sum(1 for i, r in pairs if cov.guards.get((machine, i, r)) == {True, False})
        total = len(spec.states.__members__)
        lines.append(
            f"{machine}: states {states}/{total}, edges {edges}/{len(spec.edges)}, "
            f"guards seen passing and refusing {both}/{len(pairs)}"
        )
    return "\n".join(lines)

"""Path tests generated from the tables: the shortest trace to every edge, replayed one by one.

For each machine of the bounded marketplace (the checker's world), a
breadth-first search (:func:`statemachines.checker_paths.shortest_paths`) finds
the shortest trace from the initial world that fires each edge (deadline edges
included: time moves to the next deadline). Each trace is then replayed on a
fresh world as its own test case, which must end by firing that edge; the
states of the machine are covered by the edges' targets. Edges the bound does
not reach are reported as skipped, with the bound, and listed in
``docs/verification.md``.
"""

from __future__ import annotations

from typing import Any

import pytest

from statemachines._engine import SPECS
from statemachines.checker import Step, replay
from tests.verification.runs import PATH_GROUPS, paths


def _cases() -> list[Any]:
    machines = dict.fromkeys(m for _, ms, _ in PATH_GROUPS.values() for m in ms)
    cases = []
    for machine in machines:
        for index, edge in enumerate(SPECS[machine].edges):
            sources = "|".join(s.name for s in edge.sources)
            branch = f"[{edge.branch.label}]" if edge.branch else ""
            name = f"{machine}-{index}-{edge.event}-{sources}->{edge.target.name}{branch}"
            cases.append(pytest.param(machine, index, id=name.replace(" ", "_")))
    return cases


def _shortest(machine: str, index: int) -> tuple[Any, tuple[Step, ...]] | None:
    found = [
        (bounds, path)
        for group, (bounds, machines, _) in PATH_GROUPS.items()
        if machine in machines
        for path in [paths(group).get((machine, index))]
        if path is not None
    ]
    return min(found, key=lambda f: len(f[1]), default=None)


@pytest.mark.parametrize(("machine", "index"), _cases())
def test_shortest_path_fires_the_edge(machine: str, index: int) -> None:
    found = _shortest(machine, index)
    if found is None:
        pytest.skip("not reached within the path bounds (see docs/verification.md)")
    bounds, path = found
    edge = SPECS[machine].edges[index]

    _, last = replay(bounds, path)

    assert any(
        d.event == edge.event and d.source in edge.sources and d.target is edge.target for d in last
    ), f"the last step of {[str(s) for s in path]} did not fire it"

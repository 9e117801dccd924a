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
from statemachines.checker import replay
from tests.verification.runs import PATH_GROUPS, paths


def _cases() -> list[Any]:
    cases = []
    for group, (_, machines, _) in PATH_GROUPS.items():
        for machine in machines:
            for index, edge in enumerate(SPECS[machine].edges):
                sources = "|".join(s.name for s in edge.sources)
                branch = f"[{edge.branch.label}]" if edge.branch else ""
                name = f"{machine}-{index}-{edge.event}-{sources}->{edge.target.name}{branch}"
                cases.append(pytest.param(group, machine, index, id=name.replace(" ", "_")))
    return cases


@pytest.mark.parametrize(("group", "machine", "index"), _cases())
def test_shortest_path_fires_the_edge(group: str, machine: str, index: int) -> None:
    bounds, _, depth = PATH_GROUPS[group]
    path = paths(group).get((machine, index))
    if path is None:
        pytest.skip(f"not reached within {depth} steps of the {group} world")
    edge = SPECS[machine].edges[index]

    _, last = replay(bounds, path)

    assert any(
        d.event == edge.event and d.source in edge.sources and d.target is edge.target for d in last
    ), f"the last step of {[str(s) for s in path]} did not fire it"

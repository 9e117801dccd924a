"""Path tests generated from the tables: the shortest trace to every edge, replayed one by one.

For each machine (account, membership, contract, milestone, job, proposal), a
breadth-first search finds the shortest trace from an initial world that fires
each edge (deadline edges included: time moves to the next deadline). Each trace
is then replayed on a fresh world as its own test case, which must end by firing
that edge; the states of the machine are covered by the edges' targets.

The searches (``tests/verify/runs.py``):

* :data:`~tests.verify.runs.PATH_GROUPS`: the checker's bounded marketplace,
  :func:`statemachines.verify.paths.shortest_paths`;
* :data:`~tests.verify.runs.SETTING_GROUPS`: worlds the checker's bounds cannot
  express (jobs and proposals, an agency owned by the freelancer, debts, small
  bonuses), :func:`statemachines.verify.path_search.edge_paths`, for the edges the first
  searches did not reach;
* :data:`~tests.verify.runs.MACHINE_ONLY`: the few edges no event of the
  marketplace can fire, searched on their machine alone
  (:func:`statemachines.verify.path_search.machine_paths`); their cases are named
  ``machine-alone``.

No case is skipped: an edge that no search reaches fails.
"""

from __future__ import annotations

from typing import Any

import pytest

from statemachines.core.engine import SPECS
from statemachines.verify.path_search import replay_machine_path, replay_path
from statemachines.verify.world import replay
from tests.verify.runs import (
    MACHINE_ALONE,
    MACHINE_ONLY,
    PATH_GROUPS,
    SETTING_GROUPS,
    machine_alone_paths,
    paths,
    setting_paths,
)

PATH_MACHINES = ("account", "membership", "contract", "milestone", "job", "proposal")


def _cases() -> list[Any]:
    cases = []
    for machine in PATH_MACHINES:
        for index, edge in enumerate(SPECS[machine].edges):
            sources = "|".join(s.name for s in edge.sources)
            branch = f"[{edge.branch.label}]" if edge.branch else ""
            alone = "-machine-alone" if (machine, index) in MACHINE_ONLY else ""
            name = f"{machine}-{index}-{edge.event}-{sources}->{edge.target.name}{branch}{alone}"
            cases.append(pytest.param(machine, index, id=name.replace(" ", "_")))
    return cases


def _fired(machine: str, index: int, last: list[Any]) -> bool:
    edge = SPECS[machine].edges[index]
    return any(
        d.event == edge.event and d.source in edge.sources and d.target is edge.target for d in last
    )


@pytest.mark.parametrize(("machine", "index"), _cases())
def test_shortest_path_fires_the_edge(machine: str, index: int) -> None:
    if (machine, index) in MACHINE_ONLY:
        make_flow, initial, _, facts, _ = MACHINE_ALONE[machine]
        alone = machine_alone_paths(machine).get(index)
        assert alone is not None, f"the {machine} machine alone does not reach edge {index}"
        _, last = replay_machine_path(make_flow, initial, alone, facts)
        assert _fired(machine, index, last), f"{[str(s) for s in alone]} did not fire it"
        return
    found: list[tuple[int, Any]] = []
    for group, (bounds, machines, _) in PATH_GROUPS.items():
        if machine in machines and (path := paths(group).get((machine, index))) is not None:
            found.append((len(path), lambda b=bounds, p=path: (p, replay(b, p)[1])))
    for group, (setting, machines, _) in SETTING_GROUPS.items():
        if machine in machines and (path := setting_paths(group).get((machine, index))):
            found.append((len(path), lambda s=setting, p=path: (p, replay_path(s, p)[1])))
    assert found, "no search reaches this edge (see docs/verification.md)"

    path, last = min(found, key=lambda f: f[0])[1]()

    assert _fired(machine, index, last), (
        f"the last step of {[str(s) for s in path]} did not fire it"
    )


@pytest.mark.parametrize("edge", sorted(MACHINE_ONLY))
def test_machine_alone_edges_are_not_reached_in_the_marketplace(edge: tuple[str, int]) -> None:
    """An edge searched on its machine alone is one that the marketplace searches miss."""
    machine, _ = edge
    for group, (_, machines, _) in PATH_GROUPS.items():
        if machine in machines:
            assert edge not in paths(group), f"{group} reaches {edge}: drop it from MACHINE_ONLY"

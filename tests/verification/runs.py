"""The checker and path-search runs that several test modules read, each done once per session."""

from __future__ import annotations

import functools

from statemachines.checker import Bounds, Coverage, Report, Step, check
from statemachines.checker_paths import shortest_paths

CI_BOUND = Bounds(contracts=1, milestones=1, depth=2)
"""The whole marketplace, every role: the bound CI checks on every run."""

CONTRACT_BOUND = Bounds(
    contracts=2, hourly=1, milestones=1, team=False, focus=("contract",), depth=3
)
"""Both contract types side by side, contract events only: guards of the contract table."""

PATH_GROUPS: dict[str, tuple[Bounds, tuple[str, ...], int]] = {
    "contracts": (
        Bounds(contracts=2, hourly=1, milestones=1, team=False, focus=("contract",)),
        ("contract", "milestone"),
        4,
    ),
    "fixed-price": (
        Bounds(contracts=1, milestones=1, team=False, focus=("contract",)),
        ("contract", "milestone"),
        5,
    ),
    "accounts": (
        Bounds(contracts=1, team=True, focus=("account", "membership")),
        ("account", "membership"),
        4,
    ),
    "invitation": (
        Bounds(contracts=0, team=True, invited=True, focus=("membership",)),
        ("membership",),
        2,
    ),
}
"""Per group of machines: the world, the machines whose edges are wanted, and the depth.

A machine may be in several groups: its edges take the shortest path any group finds."""

MACHINES = ("account", "membership", "contract", "milestone")


@functools.cache
def report(name: str) -> Report:
    """The checker's report for the named bound (``ci`` or ``contract``)."""
    return check(CI_BOUND if name == "ci" else CONTRACT_BOUND)


@functools.cache
def paths(group: str) -> dict[tuple[str, int], tuple[Step, ...]]:
    """The shortest path to every edge the group's bound reaches."""
    bounds, machines, depth = PATH_GROUPS[group]
    return shortest_paths(bounds, machines, depth=depth)


def coverage() -> Coverage:
    """What the checker runs and the path searches saw, together."""
    cov = Coverage()
    for name in ("ci", "contract"):
        cov.merge(report(name).coverage)
    from statemachines._engine import SPECS  # noqa: PLC0415

    for group in PATH_GROUPS:
        for machine, index in paths(group):
            cov.edges.add((machine, index))
            edge = SPECS[machine].edges[index]
            cov.states.add((machine, edge.target.name))
            cov.states.update((machine, s.name) for s in edge.sources)
    return cov

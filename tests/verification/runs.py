"""The checker and path-search runs that several test modules read, each done once per session."""

from __future__ import annotations

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


_REPORTS: dict[str, Report] = {}
_PATHS: dict[str, dict[tuple[str, int], tuple[Step, ...]]] = {}


def report(name: str) -> Report:
    """The checker's report for the named bound (``ci`` or ``contract``), run once."""
    if name not in _REPORTS:
        _REPORTS[name] = check(CI_BOUND if name == "ci" else CONTRACT_BOUND)
    return _REPORTS[name]


def paths(group: str) -> dict[tuple[str, int], tuple[Step, ...]]:
    """The shortest path to every edge the group's bound reaches, searched once."""
    if group not in _PATHS:
        bounds, machines, depth = PATH_GROUPS[group]
        _PATHS[group] = shortest_paths(bounds, machines, depth=depth)
    return _PATHS[group]


def coverage(*, done_only: bool = False) -> Coverage:
    """What the checker runs and the path searches saw, together.

    With *done_only*, only the runs this process has already done count (the
    coverage plugin: a session that ran no checker test does not start one).
    """
    cov = Coverage()
    for name in ("ci", "contract"):
        if not done_only or name in _REPORTS:
            cov.merge(report(name).coverage)
    from statemachines._engine import SPECS  # noqa: PLC0415

    for group in PATH_GROUPS:
        if done_only and group not in _PATHS:
            continue
        for machine, index in paths(group):
            cov.edges.add((machine, index))
            edge = SPECS[machine].edges[index]
            cov.states.add((machine, edge.target.name))
            cov.states.update((machine, s.name) for s in edge.sources)
    return cov

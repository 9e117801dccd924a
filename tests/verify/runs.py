"""The checker and path-search runs that several test modules read, each done once per session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from statemachines.core.engine import SPECS
from statemachines.core.money import Money
from statemachines.machines.account.table import (
    Account,
    AccountLifecycle,
    AccountType,
    Obligations,
    SuspensionReason,
)
from statemachines.machines.milestone import Milestone, MilestoneReview
from statemachines.verify.coverage import Coverage
from statemachines.verify.path_search import (
    MachineStep,
    MakeFlow,
    Setting,
    edge_paths,
    machine_paths,
)
from statemachines.verify.paths import shortest_paths
from statemachines.verify.report import Report
from statemachines.verify.search import check
from statemachines.verify.world import Bounds, Step

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

_HOURLY = Bounds(contracts=1, hourly=1, team=False)
_FIXED_SMALL_BONUS = Bounds(contracts=1, milestones=1, team=False, amounts=(50, 500))

SETTING_GROUPS: dict[str, tuple[Setting, tuple[str, ...], int]] = {
    "jobs-and-proposals": (
        Setting(jobs=1, proposals=1, kinds=("job", "proposal")),
        ("job", "proposal"),
        6,
    ),
    "billing-pause": (
        Setting(bounds=_HOURLY, kinds=("account",), events=("suspend", "reinstate")),
        ("contract",),
        2,
    ),
    "suspended-client": (
        Setting(
            bounds=_HOURLY,
            kinds=("account",),
            events=("suspend", "reinstate"),
            arguments={"suspend": ({"reason": SuspensionReason.TERMS},)},
        ),
        ("contract",),
        2,
    ),
    "hourly-refunded": (
        Setting(
            bounds=_HOURLY, kinds=("contract",), events=("log_time", "end_contract", "give_refund")
        ),
        ("contract",),
        6,
    ),
    "small-bonus": (
        Setting(
            bounds=_FIXED_SMALL_BONUS,
            kinds=("contract",),
            events=("end_contract", "pay_bonus", "request_refund", "give_refund"),
        ),
        ("contract",),
        3,
    ),
    "dispute": (
        Setting(
            bounds=_FIXED_SMALL_BONUS,
            kinds=("contract",),
            events=(
                "add_milestone",
                "fund_milestone",
                "end_contract",
                "leave_feedback",
                "dispute_refund",
                "resolve_dispute",
                "allow_late_feedback",
            ),
        ),
        ("contract",),
        7,
    ),
    "closing": (
        Setting(
            bounds=_HOURLY,
            owed=100,
            kinds=("account", "contract"),
            events=(
                "log_time",
                "end_contract",
                "request_close",
                "cancel_close",
                "export_records",
                "pay_owed",
            ),
        ),
        ("account",),
        4,
    ),
    "withdraw": (
        Setting(
            bounds=_HOURLY,
            kinds=("account", "contract"),
            events=("log_time", "end_contract", "request_close", "withdraw"),
        ),
        ("account",),
        7,
    ),
    "agency-owner": (
        Setting(bounds=Bounds(contracts=0, team=False), freelancer_agency=True, kinds=("account",)),
        ("account",),
        4,
    ),
}
"""Worlds the checker's bounds cannot express (:class:`statemachines.verify.path_search.Setting`):
jobs and proposals, a freelancer who owns an agency, debts, small bonuses; the events tried
are narrowed to what the missing edges need. Each group wants the edges of its machines
that :data:`PATH_GROUPS` did not reach (and that are not :data:`MACHINE_ONLY`), and its
search stops as soon as it has them all."""


def _account_arguments(acc: Account, event: str) -> list[dict[str, Any]]:
    if event in {"pay_owed", "withdraw"}:
        return [{"amount": Money(100)}]
    if event in {"request_close", "delete_permanently"}:
        return [{"confirm": True}]
    if event == "suspend":
        return [{"reason": SuspensionReason.BILLING}]
    if event == "confirm_reactivation":
        return [{"token": acc.link_token or "no-such-link"}]
    return [{}]


def _account_flow(clock: Any, facts: Callable[[], Any]) -> AccountLifecycle:
    return AccountLifecycle(clock=clock, obligations=lambda _acc, _now: facts())


def _milestone_flow(clock: Any, facts: Callable[[], Any]) -> MilestoneReview:
    return MilestoneReview(clock=clock)


_NO_ARGUMENTS: Callable[[Any, str], list[dict[str, Any]]] = lambda _agg, _event: [{}]  # noqa: E731

MachineAlone = tuple[MakeFlow, Any, Callable[[Any, str], list[dict[str, Any]]], Sequence[Any], int]

MACHINE_ALONE: dict[str, MachineAlone] = {
    "account": (
        _account_flow,
        Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"),
        _account_arguments,
        (Obligations(), Obligations(owed=Money(100))),
        3,
    ),
    "milestone": (
        _milestone_flow,
        Milestone(id="M-1", contract="C-1", client="co-1", freelancer="fl-1", amount=Money(500)),
        _NO_ARGUMENTS,
        (None,),
        1,
    ),
}
"""Per machine: its workflow, initial aggregate, arguments, the outside facts it may see, depth."""

MACHINE_ONLY: dict[tuple[str, int], str] = {
    ("account", 8): "owing blocks closing (the client and freelancer debt guards) and a debt "
    "is recorded by the platform, not by an event, so no closing account owes",
    ("account", 26): "a freelancer cannot start closing while owning an agency that is not "
    "closed, so the agency never closes while its owner is closing",
    ("account", 27): "a freelancer cannot close while owning an agency that is not closed, "
    "so the agency never closes while its owner is deactivated",
}
"""Edges no event of the marketplace can fire, with why: a path on their machine alone."""


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


_SETTING_PATHS: dict[str, dict[tuple[str, int], tuple[Step, ...]]] = {}
_MACHINE_PATHS: dict[str, dict[int, tuple[MachineStep, ...]]] = {}


def setting_paths(group: str) -> dict[tuple[str, int], tuple[Step, ...]]:
    """The shortest path, in the group's world, to every edge it wants, searched once."""
    if group not in _SETTING_PATHS:
        setting, machines, depth = SETTING_GROUPS[group]
        reached = {
            edge
            for name, (_, ms, _) in PATH_GROUPS.items()
            if set(ms) & set(machines)
            for edge in paths(name)
        }
        wanted = [
            (m, i)
            for m in machines
            for i in range(len(SPECS[m].edges))
            if (m, i) not in reached and (m, i) not in MACHINE_ONLY
        ]
        _SETTING_PATHS[group] = edge_paths(setting, wanted, depth=depth)
    return _SETTING_PATHS[group]


def machine_alone_paths(machine: str) -> dict[int, tuple[MachineStep, ...]]:
    """The shortest path to every edge of *machine* searched on the machine alone, once."""
    if machine not in _MACHINE_PATHS:
        make_flow, initial, arguments, facts, depth = MACHINE_ALONE[machine]
        _MACHINE_PATHS[machine] = machine_paths(
            make_flow, initial, depth=depth, arguments=arguments, facts=facts
        )
    return _MACHINE_PATHS[machine]


def coverage(*, done_only: bool = False) -> Coverage:
    """What the checker runs and the path searches saw, together.

    With *done_only*, only the runs this process has already done count (the
    coverage plugin: a session that ran no checker test does not start one).
    """
    cov = Coverage()
    for name in ("ci", "contract"):
        if not done_only or name in _REPORTS:
            cov.merge(report(name).coverage)
    found: list[tuple[str, int]] = []
    for group in PATH_GROUPS:
        if not done_only or group in _PATHS:
            found.extend(paths(group))
    for group in SETTING_GROUPS:
        if not done_only or group in _SETTING_PATHS:
            found.extend(setting_paths(group))
    for machine, index in found:
        cov.edges.add((machine, index))
        edge = SPECS[machine].edges[index]
        cov.states.add((machine, edge.target.name))
        cov.states.update((machine, s.name) for s in edge.sources)
    return cov


# The contract's hourly-dispute edges (issue 17, ADR 0073) are fired by the platform for a
# dispute case, so only the machine alone reaches them.
def _contract_flow(clock: Any, facts: Callable[[], Any]) -> Any:
    from statemachines.machines.contract.table import ContractLifecycle  # noqa: PLC0415

    return ContractLifecycle(clock=clock)


def _dispute_arguments(_c: Any, event: str) -> list[dict[str, Any]]:
    arguments: dict[str, list[dict[str, Any]]] = {
        "log_time": [{"minutes": 60}],
        "end_contract": [{}],
        "dispute_hours": [{"minutes": 60}],
        "settle_held_hours": [{"refunded": 0}, {"refunded": 60}],
    }
    return arguments.get(event, [])


def _hourly_contract() -> Any:
    from statemachines.machines.contract.table import Contract  # noqa: PLC0415
    from statemachines.verify.world import START  # noqa: PLC0415

    return Contract.hourly(
        "C-1", client="co-1", freelancer="fl-1", rate=Money(3_000), started_at=START
    )


MACHINE_ALONE["contract"] = (_contract_flow, _hourly_contract(), _dispute_arguments, (None,), 7)
MACHINE_ONLY.update(
    {
        ("contract", i): "held hours are the platform's, for an hourly dispute case (ADR 0073)"
        for i, e in enumerate(SPECS["contract"].edges)
        if e.event in {"dispute_hours", "settle_held_hours"}
    }
)

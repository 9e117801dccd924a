"""The checker's larger world: agency contracts, and job posts whose offers start contracts.

``Bounds(agency_contracts=K)`` lets agency ``ag-1`` hold the last *K* contracts, worked by
its member ``am`` (its owner ``ao`` and business manager ``bm`` decide for it, TEAM-8);
``Bounds(jobs=J)`` puts *J* draft job posts of ``co-1`` in the world, each with a draft
proposal of ``fl-1`` (and of ``ag-1`` when the agency is there), and accepting an offer
starts a contract through the marketplace (TEAM-2: the member who sent the offer is its
contact person). Each test runs a small bound and asserts on the report's counts that the
new roles and events were tried and that some fired.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from statemachines.core.engine import SPECS
from statemachines.machines.contract.table import Contract
from statemachines.marketplace import handlers
from statemachines.publish.scenarios import load, run
from statemachines.verify.report import Report, scenario_yaml
from statemachines.verify.search import check
from statemachines.verify.world import Bounds, replay

AGENCY_ROLES = ("agency_owner", "business_manager", "agency_member")


def edge(machine: str, event: str) -> tuple[str, int]:
    """The coverage index of the (first) edge of *machine* for *event*."""
    edges = SPECS[machine].edges
    return machine, next(i for i, e in enumerate(edges) if e.event == event)


def fired(report: Report, kind: str, event: str, role: str) -> int:
    return report.fired.get((kind, event, role), 0)


@pytest.mark.rule("TEAM-7")
def test_the_agency_people_work_an_agency_contract() -> None:
    # One hourly contract held by ag-1 and worked by am, am a member of ag-1.
    report = check(
        Bounds(contracts=1, hourly=1, agency_contracts=1, depth=2, focus=("membership", "contract"))
    )

    assert report.ok, report.summary()
    for role in AGENCY_ROLES:
        assert report.by(report.tried, kind="contract", role=role) > 0
        assert report.by(report.fired, kind="contract", role=role) > 0
    # TEAM-8: the member on the contract logs its time; the owner and the business manager
    # decide (end it), and cannot log time.
    assert fired(report, "contract", "log_time", "agency_member") > 0
    assert fired(report, "contract", "log_time", "agency_owner") == 0
    assert fired(report, "contract", "end_contract", "agency_owner") > 0
    assert fired(report, "contract", "end_contract", "business_manager") > 0
    assert fired(report, "contract", "end_contract", "agency_member") == 0
    # fl-1 holds no contract: tried, never fired.
    assert report.by(report.tried, kind="contract", role="freelancer") > 0
    assert report.by(report.fired, kind="contract", role="freelancer") == 0
    # TEAM-7: am cannot leave ag-1 while the agency contract is live (seen refusing).
    leave = [g for g in report.coverage.guards if g[0] == "membership" and g[2] == "TEAM-7"]
    assert leave
    assert any(False in report.coverage.guards[g] for g in leave)
    assert "agency_member" in report.summary()


def test_an_accepted_offer_starts_a_contract() -> None:
    bounds = Bounds(contracts=0, jobs=1, team=False, depth=4)

    report = check(bounds)

    assert report.ok, report.summary()
    for kind, event, role in (
        ("job", "post", "client_owner"),
        ("job", "post", "sourcing_member"),  # TEAM-5
        ("proposal", "submit", "freelancer"),
        ("proposal", "withdraw", "freelancer"),
        ("proposal", "send_offer", "client_owner"),
        ("proposal", "accept_offer", "freelancer"),
        ("proposal", "decline_offer", "freelancer"),
    ):
        assert fired(report, kind, event, role) > 0, (kind, event, role)
    assert report.by(report.tried, kind="job") > 0
    assert fired(report, "proposal", "send_offer", "sourcing_member") == 0  # TEAM-5
    assert edge("proposal", "accept_offer") in report.coverage.edges
    assert report.by(report.fired, kind="contract") > 0  # the started contract was worked on

    world, _ = replay(bounds, report.paths[edge("proposal", "accept_offer")])
    (contract,) = world.market.all("contract")
    assert isinstance(contract, Contract)
    assert (contract.client, contract.freelancer, contract.agency) == ("co-1", "fl-1", False)
    assert world.market._contact(contract.id) == "ana"  # TEAM-2: the offer's sender


def test_an_agency_proposal_starts_an_agency_contract() -> None:
    report = check(
        Bounds(contracts=0, jobs=1, agency=True, team=False, depth=4, focus=("job", "proposal"))
    )

    assert report.ok, report.summary()
    assert fired(report, "proposal", "submit", "agency_member") > 0  # TEAM-8: any member writes
    assert fired(report, "proposal", "accept_offer", "agency_owner") > 0
    assert fired(report, "proposal", "accept_offer", "business_manager") > 0
    assert report.tried.get(("proposal", "accept_offer", "agency_member"), 0) > 0
    assert fired(report, "proposal", "accept_offer", "agency_member") == 0  # TEAM-8


def test_a_contract_started_without_the_agency_is_caught(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build = handlers.contract_for_offer

    def forgets_the_agency(*args: Any) -> Contract:
        contract = build(*args)
        contract.agency = False
        contract.member = None
        return contract

    monkeypatch.setattr(handlers, "contract_for_offer", forgets_the_agency)

    report = check(
        Bounds(contracts=0, jobs=1, agency=True, team=False, depth=5, focus=("job", "proposal"))
    )

    assert not report.ok
    assert "accepted offers" in (report.violation or "")
    assert [s.event for s in report.trace] == ["post", "submit", "send_offer", "accept_offer"]
    path = tmp_path / "counterexample.yaml"
    path.write_text(scenario_yaml(report), encoding="utf-8")
    assert all(step.passed for step in run(load(path)))


@pytest.mark.parametrize(
    "bounds",
    [
        Bounds(contracts=0, jobs=2, team=False, depth=3),
        Bounds(contracts=2, agency_contracts=2, team=False, depth=2, focus=("contract",)),
    ],
    ids=["two-jobs", "two-agency-contracts"],
)
def test_symmetry_changes_the_count_not_the_verdicts(bounds: Bounds) -> None:
    reduced = check(bounds)
    full = check(attrs.evolve(bounds, symmetry=False))

    assert reduced.ok, reduced.summary()
    assert full.ok, full.summary()
    assert reduced.states < full.states
    assert reduced.coverage.states == full.coverage.states
    assert reduced.coverage.edges == full.coverage.edges
    assert reduced.coverage.guards == full.coverage.guards


def test_jobs_merged_under_one_key_get_the_same_verdicts() -> None:
    report = check(Bounds(contracts=0, jobs=2, team=False, depth=2, audit=True))

    assert report.ok, report.summary()
    assert report.merged > 0

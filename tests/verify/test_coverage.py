"""The coverage gate: what it reports as a gap, and that a subset run is not judged.

The gate itself runs at the end of a full session (``pytest --machine-coverage``,
see ``tests/coverage_plugin.py``); these tests feed :func:`gaps` coverage with
one thing missing and check that exactly that thing is reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from statemachines import ManualClock, MilestoneReview, Money, TransitionRefused
from statemachines.core.engine import SPECS, observe
from statemachines.verify.coverage import (
    Coverage,
    Recorder,
    exclusions,
    gaps,
    render,
    summary,
    v01_rules,
)
from tests.machines.milestone.conftest import FREELANCER, OWNER, make_milestone
from tests.verify import runs

ROOT = Path(__file__).parents[2]
SCOPE = v01_rules(ROOT / "tests" / "v01_rules.txt")
EXCLUSIONS = ROOT / "tests" / "coverage_exclusions.txt"


def complete(machine: str) -> Coverage:
    """Coverage of *machine* with nothing missing: every state, edge and guard both ways."""
    spec = SPECS[machine]
    cov = Coverage()
    cov.states |= {(machine, s.name) for s in spec.states}
    cov.edges |= {(machine, i) for i in range(len(spec.edges))}
    for i, edge in enumerate(spec.edges):
        for guard in edge.guards:
            cov.guards[(machine, i, guard.rule_id)] = {True, False}
        if edge.timer is not None:
            cov.guards[(machine, i, edge.timer.rule_id)] = {True, False}
    return cov


def test_complete_coverage_has_no_gap() -> None:
    assert gaps(complete("milestone"), ["milestone"], SCOPE) == []


@pytest.mark.rule("MS-1")
def test_a_guard_never_seen_refusing_is_a_gap() -> None:
    cov = complete("milestone")
    cov.guards[("milestone", 1, "MS-1")] = {True}

    assert gaps(cov, ["milestone"], SCOPE) == [
        "milestone: edge 1 fund DRAFT -> FUNDED: guard MS-1 never refused"
    ]


@pytest.mark.rule("MS-1")
def test_a_guard_never_seen_passing_is_a_gap() -> None:
    cov = complete("milestone")
    cov.guards[("milestone", 1, "MS-1")] = {False}

    assert gaps(cov, ["milestone"], SCOPE) == [
        "milestone: edge 1 fund DRAFT -> FUNDED: guard MS-1 never passed"
    ]


@pytest.mark.rule("MS-REVIEW-2")
def test_a_deadline_never_seen_refusing_an_early_attempt_is_a_gap() -> None:
    cov = complete("milestone")
    cov.guards[("milestone", 7, "MS-REVIEW-2")] = {True}

    assert gaps(cov, ["milestone"], SCOPE) == [
        "milestone: edge 7 review_lapse SUBMITTED|RESUBMITTED -> APPROVED: deadline MS-REVIEW-2 "
        "never refused"
    ]


@pytest.mark.rule("MS-1")
def test_a_guard_outside_v01_is_not_judged() -> None:
    cov = complete("milestone")
    cov.guards[("milestone", 1, "MS-1")] = set()

    assert gaps(cov, ["milestone"], SCOPE - {"MS-1"}) == []


def test_an_edge_never_fired_and_a_state_never_reached_are_gaps() -> None:
    cov = complete("milestone")
    cov.edges.discard(("milestone", 0))
    cov.states.discard(("milestone", "APPROVED"))

    assert gaps(cov, ["milestone"], SCOPE) == [
        "milestone: state APPROVED never reached",
        "milestone: edge 0 edit DRAFT -> DRAFT never fired",
    ]


def test_an_excluded_gap_is_left_out_and_a_stale_exclusion_is_reported() -> None:
    cov = complete("milestone")
    cov.edges.discard(("milestone", 0))
    never_fired = "milestone: edge 0 edit DRAFT -> DRAFT never fired"
    stale = "milestone: edge 1 fund DRAFT -> FUNDED never fired"

    assert gaps(cov, ["milestone"], SCOPE, {never_fired: "a reason"}) == []
    assert gaps(cov, ["milestone"], SCOPE, {never_fired: "a reason", stale: "old"}) == [
        f"excluded but covered now: {stale}"
    ]


def test_an_exclusion_needs_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "exclusions.txt"
    path.write_text("# comment\nmilestone: edge 0 edit DRAFT -> DRAFT never fired\n")

    with pytest.raises(ValueError, match="needs a reason"):
        exclusions(path)


def test_the_committed_exclusions_all_give_a_reason() -> None:
    assert all(exclusions(EXCLUSIONS).values())


@pytest.mark.rule("MS-1")
def test_the_recorder_sees_guard_outcomes_and_fired_edges_through_observe(
    clock: ManualClock,
) -> None:
    review = MilestoneReview(clock=clock)
    ms = make_milestone(100)
    recorder = Recorder()

    with observe(recorder):
        with pytest.raises(TransitionRefused, match="at least"):
            review.fire(ms, "fund", OWNER)
        ms.amount = Money(500)
        review.fire(ms, "fund", OWNER)
        review.fire(ms, "submit", FREELANCER)

    cov = recorder.coverage
    assert cov.guards[("milestone", 1, "MS-1")] == {True, False}
    assert {("milestone", 1), ("milestone", 2)} <= cov.edges
    assert ("milestone", "SUBMITTED") in cov.states
    assert "milestone: edge 1 fund DRAFT -> FUNDED: guard MS-1" not in " ".join(
        gaps(cov, ["milestone"], SCOPE)
    )


@pytest.mark.rule("MS-1")
def test_what_a_paused_recorder_sees_is_dropped_unless_kept(clock: ManualClock) -> None:
    review = MilestoneReview(clock=clock)
    recorder = Recorder()

    with observe(recorder):
        recorder.pause()
        review.fire(make_milestone(), "fund", OWNER)
        recorder.resume(keep=False)
        recorder.pause()
        review.fire(make_milestone(), "fund", OWNER)
        recorder.resume(keep=True)
        recorder.pause()
        review.fire(make_milestone(), "fund", OWNER)
        recorder.resume(keep=False)

    assert recorder.coverage.edges == {("milestone", 1)}
    assert recorder.coverage.guards == {("milestone", 1, "MS-1"): {True}}


@pytest.mark.rule("MS-1")
def test_the_report_lists_every_machine_and_the_gaps() -> None:
    cov = complete("milestone")
    cov.guards[("milestone", 1, "MS-1")] = {True}

    text = render(cov, ["milestone", "account"], SCOPE)

    spec = SPECS["milestone"]
    states, edges = len(spec.states.__members__), len(spec.edges)
    assert f"milestone: states {states}/{states}, edges {edges}/{edges}" in text
    assert "MS-1: passed, never refused" in text
    assert "  milestone: edge 1 fund DRAFT -> FUNDED: guard MS-1 never refused" in text
    assert "account: state ACTIVE never reached" in text
    assert summary(cov, ["milestone"]).count("milestone:") == 1


def test_the_contract_bound_has_no_violation() -> None:
    """Both contract types, contract events, depth 3: its coverage feeds the gate."""
    report = runs.report("contract")

    assert report.ok, report.summary()
    assert report.complete


def _pytest(*args: str, report: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HYPOTHESIS_PROFILE": "dev"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *args,
            f"--machine-coverage-report={report}",
            "tests/machines/milestone/test_table.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_subset_run_is_not_judged_unless_asked_and_fails_when_asked(tmp_path: Path) -> None:
    report = tmp_path / "coverage.txt"

    plain = _pytest(report=report)
    gated = _pytest("--machine-coverage", report=report)

    assert plain.returncode == 0, plain.stdout
    assert not report.exists() or "machine coverage" not in plain.stdout
    assert gated.returncode == 1, gated.stdout
    assert "coverage gaps" in gated.stdout
    assert "account: edge 0 request_close ACTIVE -> CLOSING never fired" in gated.stdout
    assert "## Gaps" in report.read_text(encoding="utf-8")

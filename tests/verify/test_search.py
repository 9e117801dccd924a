"""The checker: a clean bound passes, and every guard broken on purpose is caught, shortly.

Each broken model is checked on the smallest world that can show the bug; the
counterexample must be short and must replay, step by step, as a scenario file
through :func:`statemachines.publish.scenarios.run` while the bug is in place.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from statemachines.core.engine.workflow import Workflow
from statemachines.machines import milestone
from statemachines.machines.account.table import ACCOUNT
from statemachines.machines.contract import escrow as contract_escrow
from statemachines.publish.scenarios import load, run
from statemachines.verify.report import Report, scenario_yaml
from statemachines.verify.search import check
from statemachines.verify.world import Bounds
from tests.verify import runs
from tests.verify.conftest import drop_guard, release_escrow_twice, reopen_closed_accounts


def replays(report: Report, tmp_path: Path) -> bool:
    """True when the report's trace, written as a scenario, runs with every step as expected."""
    path = tmp_path / "counterexample.yaml"
    path.write_text(scenario_yaml(report), encoding="utf-8")
    return all(step.passed for step in run(load(path)))


def test_the_ci_bound_has_no_violation() -> None:
    report = runs.report("ci")

    assert report.ok, report.summary()
    assert report.complete
    assert report.states > 50
    assert report.invariants > report.states


def test_a_large_search_collects_less_often_and_puts_the_collector_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc  # noqa: PLC0415

    from statemachines.verify import search  # noqa: PLC0415

    monkeypatch.setattr(search, "GC_FROM", 30)  # "large" from 30 states on
    before = gc.get_threshold()
    seen: list[int] = []

    report = check(
        Bounds(contracts=1, milestones=1, depth=2),
        progress=lambda _: seen.append(gc.get_threshold()[0]),
        every=0.0,
    )

    assert report.ok
    assert seen[0] == before[0]  # a small search keeps the default
    assert seen[-1] == search.GC_YOUNG
    assert gc.get_threshold() == before


def test_the_report_tells_the_peak_memory_of_the_process() -> None:
    import resource  # noqa: PLC0415  (POSIX only, like the CI machine)

    report = runs.report("ci")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # the interpreter and the package alone take tens of MB; the peak only grows
    assert 20 < report.peak_mb <= peak
    assert f"peak memory: {report.peak_mb:,.0f} MB" in report.summary()


@pytest.mark.rule("ACC-CLOSE-CL-3")
def test_drop_acc_close_cl_3_lets_a_company_close_with_a_live_contract(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    drop_guard(monkeypatch, ACCOUNT, "ACC-CLOSE-CL-3")

    report = check(Bounds(contracts=1, milestones=1, team=False, depth=4))

    assert not report.ok
    assert "live contracts" in (report.violation or "")
    assert len(report.trace) <= 2
    assert replays(report, tmp_path)


def test_a_closed_account_that_reopens_is_caught(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    reopen_closed_accounts(monkeypatch, request)

    report = check(Bounds(contracts=0, team=False, depth=5))

    assert not report.ok
    assert "closed" in (report.violation or "")
    assert len(report.trace) <= 4
    assert replays(report, tmp_path)


def test_releasing_escrow_twice_is_caught(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    release_escrow_twice(monkeypatch)

    report = check(Bounds(contracts=1, milestones=1, team=False, depth=4))

    assert not report.ok
    assert "INV-MONEY" in (report.violation or "") or "escrow" in (report.violation or "")
    assert len(report.trace) <= 4
    assert replays(report, tmp_path)


def test_a_review_lapse_one_second_early_is_caught(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(milestone, "REVIEW_WINDOW", timedelta(days=14, seconds=-1))

    report = check(Bounds(contracts=1, milestones=1, team=False, depth=4))

    assert not report.ok
    assert len(report.trace) <= 4
    assert replays(report, tmp_path)


def test_symmetry_reduction_changes_the_count_not_the_verdicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bounds = Bounds(contracts=2, milestones=1, team=False, depth=2)

    reduced = check(bounds)
    full = check(attrs.evolve(bounds, symmetry=False))

    assert reduced.ok
    assert full.ok
    assert reduced.states < full.states
    assert reduced.coverage.states == full.coverage.states
    assert reduced.coverage.edges == full.coverage.edges
    assert reduced.coverage.guards == full.coverage.guards

    monkeypatch.setattr(contract_escrow, "_paid_out", lambda *args: None)
    broken = [check(attrs.evolve(bounds, symmetry=s, depth=3)) for s in (True, False)]
    assert [r.ok for r in broken] == [False, False]
    assert len(broken[0].trace) == len(broken[1].trace)


def engine_ignores(monkeypatch: pytest.MonkeyPatch, rule_id: str) -> None:
    """Break the engine, not the table: it stops refusing for *rule_id*, while the oracle
    (which reads the table) still says the attempt is refused."""
    resolve = Workflow._resolve

    def lenient(self: Any, *args: Any, **kwargs: Any) -> Any:
        edge, deadline, violations = resolve(self, *args, **kwargs)
        return edge, deadline, [v for v in violations if v.rule_id != rule_id]

    monkeypatch.setattr(Workflow, "_resolve", lenient)


@pytest.mark.rule("ACC-CLOSE-CL-3")
@pytest.mark.parametrize("share", [0.0, 0.05])
def test_an_engine_that_ignores_a_guard_is_caught_though_refusals_are_not_all_fired(
    monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    # The oracle decides most refused attempts alone; the first of each kind (and a share of
    # the others) is fired anyway, and here the engine lets it through.
    engine_ignores(monkeypatch, "ACC-CLOSE-CL-3")

    report = check(Bounds(contracts=1, milestones=1, team=False, depth=4, cross_check=share))

    assert not report.ok
    # the engine refused for fewer rules than the table, or fired where it refuses
    assert "ACC-CLOSE-CL-3" in (report.violation or "")
    assert "the table" in (report.violation or "")
    assert report.decided > 0


def test_the_oracle_decides_most_attempts_and_every_first_of_a_kind_is_fired() -> None:
    bounds = Bounds(contracts=1, milestones=1, team=False, depth=3)
    fast = check(bounds)
    every = check(attrs.evolve(bounds, cross_check=1.0))

    assert fast.ok
    assert every.ok
    assert every.decided == 0
    assert fast.decided > fast.attempts / 2
    # the same states, transitions and coverage either way
    assert (fast.states, fast.merged, fast.transitions) == (
        every.states,
        every.merged,
        every.transitions,
    )
    assert fast.coverage == every.coverage


def test_an_engine_whose_outcome_depends_on_something_hidden_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Outcomes known from another state are put back instead of firing, and a share is fired
    # again and compared. An engine whose outcome depends on something the aggregate, its
    # facts and the time do not hold (here: how often it ran) breaks that premise.
    fire = Workflow._fire
    runs = {"n": 0}

    def hidden(self: Any, aggregate: Any, event: str, *args: Any, **kwargs: Any) -> Any:
        decision = fire(self, aggregate, event, *args, **kwargs)
        if event == "leave_feedback":
            runs["n"] += 1
            if runs["n"] % 2 == 0:
                aggregate.end_suggested = True  # something no earlier firing did
        return decision

    monkeypatch.setattr(Workflow, "_fire", hidden)

    report = check(
        Bounds(contracts=1, milestones=0, payments=0, team=False, depth=6, cross_check=0.5)
    )

    assert not report.ok
    assert "did something else than before" in (report.violation or "")


def test_outcomes_put_back_reach_the_states_fired_ones_do() -> None:
    bounds = Bounds(contracts=1, milestones=1, team=False, depth=3)
    recalled = check(bounds)
    fired = check(attrs.evolve(bounds, cross_check=1.0))

    assert recalled.recalled > recalled.transitions / 4
    assert fired.recalled == 0
    assert (recalled.states, recalled.merged, recalled.transitions) == (
        fired.states,
        fired.merged,
        fired.transitions,
    )
    assert recalled.coverage == fired.coverage

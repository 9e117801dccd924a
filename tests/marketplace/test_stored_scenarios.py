"""The scenarios of docs/scenarios/ on SQLite, and ``run --db`` and ``check --db``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from statemachines import ManualClock
from statemachines.cli import main
from statemachines.marketplace.audit import problems
from statemachines.marketplace.market import Marketplace
from statemachines.publish import scenarios

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "docs" / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_documented_scenario_passes_with_its_world_in_a_sqlite_file(
    path: Path, tmp_path: Path
) -> None:
    scenario = scenarios.load(path)
    db = tmp_path / "world.db"

    results = scenarios.run(scenario, store=db)

    assert [r.problems for r in results if r.problems] == []
    assert len(results) == len(scenario.steps)
    if db.exists():  # a scenario of one machine alone runs without a marketplace
        with Marketplace(clock=ManualClock(scenario.start), store=db) as market:
            assert problems(market) == []  # what check --db (and scripts/main) reports


def test_run_and_check_db_keep_and_check_each_scenarios_world(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "worlds"
    files = [
        ROOT / "docs/scenarios" / f"{name}.yaml"
        for name in ("contract-hourly-ends", "milestone-release")
    ]

    ran = main(["run", *map(str, files), "--db", str(folder)])
    capsys.readouterr()
    checked = main(["check", "--db", str(folder)])
    out = capsys.readouterr().out

    assert (ran, checked) == (0, 0)
    # a milestone scenario runs its machine alone, without a marketplace: no file
    assert sorted(p.name for p in folder.glob("*.db")) == ["contract-hourly-ends.db"]
    assert "contract-hourly-ends.db: 6 aggregates (account: active 3; membership: member 1; " in out
    assert "invariants hold, events agree" in out


def test_check_db_reports_an_aggregate_whose_events_disagree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "worlds"
    main(["run", str(ROOT / "docs/scenarios/contract-hourly-ends.yaml"), "--db", str(folder)])
    path = folder / "contract-hourly-ends.db"
    with sqlite3.connect(path) as conn:  # an event lost: the outbox no longer tells the story
        conn.execute("DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)")
    capsys.readouterr()

    assert main(["check", "--db", str(path)]) == 1
    assert "or they differ" in capsys.readouterr().out


def test_db_arguments_that_cannot_work_are_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "a.db"
    a_file.write_text("", encoding="utf-8")
    scenario = str(ROOT / "docs/scenarios/contract-hourly-ends.yaml")

    (tmp_path / "empty").mkdir()

    assert main(["check", "--db", str(tmp_path / "missing")]) == 2
    assert main(["check", "--db", str(tmp_path / "empty")]) == 2
    assert main(["run", scenario, "--db", str(a_file)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"statemachines check: --db {tmp_path / 'missing'}: no such file or folder",
        f"statemachines check: --db {tmp_path / 'empty'}: the folder holds no .db file",
        f"statemachines: error: --db {a_file}: not a folder (run --db takes a folder: "
        "one file per scenario)",
    ]

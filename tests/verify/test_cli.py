"""``python -m statemachines check``: the report, the trace, the bounds, progress, bad bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from statemachines.cli import main
from statemachines.machines.account.table import ACCOUNT
from statemachines.publish.scenarios import load
from tests.verify.conftest import drop_guard


@pytest.mark.rule("ACC-CLOSE-CL-3")
def test_check_command_prints_the_report_and_the_trace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--contracts", "1", "--milestones", "1", "--depth", "1"]) == 0
    assert "no violation found" in capsys.readouterr().out

    drop_guard(monkeypatch, ACCOUNT, "ACC-CLOSE-CL-3")
    trace = tmp_path / "trace.yaml"
    assert main(["check", "--no-team", "--depth", "2", "--trace", str(trace)]) == 1
    assert "VIOLATION" in capsys.readouterr().out
    assert load(trace).steps


def test_check_command_takes_the_new_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["check", "--no-team", "--contracts", "1", "--agency-contracts", "1", "--jobs", "1"]
    assert main([*argv, "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "holds 1 contract(s)" in out
    assert "1 job post(s)" in out
    assert "job " in out.split("fired/tried by kind:")[1]
    assert "agency_member" in out
    assert "no violation found" in out
    assert "explored to depth 1: states further from the start, if any, were not explored" in out


def test_check_command_refuses_bounds_that_make_no_sense(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--contracts", "1", "--agency-contracts", "2"]) == 2
    assert "--agency-contracts 2 is more than --contracts 1" in capsys.readouterr().err
    assert main(["check", "--focus", "jobs"]) == 2
    assert "unknown kind 'jobs'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["check", "--jobs", "-1"])


def test_check_command_reports_progress_on_standard_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["check", "--no-team", "--contracts", "0", "--depth", "0", "--progress", "0.000001"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("check: ")]
    assert lines, captured.err
    states = [int(line.split()[1].replace(",", "")) for line in lines]
    assert states == sorted(states)  # the count only grows
    assert " queued, depth " in lines[-1]
    assert "states/s" in lines[-1]
    assert "check: " not in captured.out  # the report itself stays on standard output
    final = int(captured.out.split("states: ")[1].split()[0].replace(",", ""))
    assert states[-1] <= final
    assert "explored to the end: every reachable state of this bound" in captured.out

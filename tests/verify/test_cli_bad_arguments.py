"""``check`` on the command line: bad bounds exit 2 before anything runs; a search cut short
says so and does not pass (issue 13, bad input)."""

from __future__ import annotations

import pytest

from statemachines.cli import main


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--amounts", "abc"], "'abc' is not a decimal amount"),
        (["--amounts", "nan"], "'nan' is not a finite amount"),
        (["--amounts", "5.001"], "has more than two decimal places"),
        (["--amounts", "1e30"], "is above the largest amount"),
        (["--depth", "-1"], "argument --depth: -1 is negative"),
        (["--payments", "-2"], "argument --payments: -2 is negative"),
        (["--max-states", "ten"], "argument --max-states: 'ten' is not a whole number"),
    ],
)
def test_bad_bounds_are_refused_with_exit_status_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check", "--contracts", "0", "--no-team", *arguments])

    captured = capsys.readouterr()
    assert exited.value.code == 2
    assert message in captured.err
    assert captured.out == ""


def test_amounts_are_read_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--contracts", "0", "--no-team", "--depth", "1", "--amounts", "0.10"])

    assert code == 0
    assert "amounts US$0.10" in capsys.readouterr().out


def test_a_search_cut_short_says_so_and_does_not_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--contracts", "1", "--no-team", "--depth", "0", "--max-states", "5"])

    out = capsys.readouterr().out
    assert code == 1
    assert "no violation found" not in out
    assert "no violation in the 5 states explored, but --max-states stopped the search" in out

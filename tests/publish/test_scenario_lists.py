"""A scenario's expected field given as a YAML list matches a tuple field item by item."""

from __future__ import annotations

from pathlib import Path

import pytest

from statemachines.publish.scenarios import StepResult, load, run

SCENARIO = """\
scenario: who may answer an agency's dispute
start: 2026-03-09T13:00:00Z
actors:
  ana: client_owner:ana:co-1
world:
  HD-1:
    machine: hourly_dispute
    contract: C-1
    client: co-1
    freelancer: ag-1
    agency: true
    member: am
    week: 2026-03-02T00:00:00Z
    billed: 600
    rate: "30.00"
steps:
  - actor: ana
    do: file
    on: HD-1
    with: {{minutes: 60}}
    expect: {{state: awaiting_freelancer, fields: {{notified: {notified}}}}}
"""


def _run(tmp_path: Path, notified: str) -> list[StepResult]:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(notified=notified))
    return run(load(path))


@pytest.mark.rule("HDSP-8")
def test_hdsp_8_a_list_in_the_file_matches_the_tuple_of_who_was_notified(
    tmp_path: Path,
) -> None:
    (result,) = _run(tmp_path, "[am, ag-1]")

    assert result.passed, result.problems


@pytest.mark.rule("HDSP-8")
@pytest.mark.parametrize("notified", ["[ag-1, am]", "[am]", "[am, ag-1, ag-2]", "am"])
def test_hdsp_8_a_list_in_another_order_or_of_another_length_does_not_match(
    tmp_path: Path, notified: str
) -> None:
    (result,) = _run(tmp_path, notified)

    assert not result.passed
    assert result.problems == (f"expected HD-1.notified = {notified}, but it is [am, ag-1]",)

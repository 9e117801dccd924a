"""Snapshots written by v0.1 still load, and dump back to the same bytes.

The files in ``tests/core/fixtures/`` were written once, by the code before the snapshot
converter (see their README); they pin the stored format.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statemachines import from_dict, to_dict

FIXTURES = Path(__file__).parent / "fixtures"
FILES = sorted(FIXTURES.glob("*.json"))


def _dumps(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def test_every_aggregate_kind_has_a_fixture() -> None:
    kinds = {json.loads(path.read_text())["schema"] for path in FILES}

    assert kinds == {
        "statemachines/account",
        "statemachines/contract",
        "statemachines/job",
        "statemachines/membership",
        "statemachines/milestone",
        "statemachines/proposal",
    }


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_stored_snapshot_loads_and_dumps_to_the_same_bytes(path: Path) -> None:
    text = path.read_text()

    aggregate = from_dict(json.loads(text))

    assert _dumps(to_dict(aggregate)) == text
    assert aggregate.history, "a fixture with no history would not pin the decision format"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_loaded_snapshot_equals_a_second_load(path: Path) -> None:
    data = json.loads(path.read_text())

    first, second = from_dict(data), from_dict(data)

    assert first == second
    assert first.history == second.history

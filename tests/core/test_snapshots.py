"""Snapshots through the converter: copies, strict types, field paths, and the door checks.

A snapshot is read only if the aggregate it describes could exist: besides its types, the
history must lead to its state along the machine's table, every deadline must be one of
the machine's timers, every amount must be in the aggregate's currency, counts are never
negative, and the invariants the machine registered must hold.
"""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from statemachines import Milestone, Money, SnapshotError, from_dict, to_dict

FIXTURES = Path(__file__).parent / "fixtures"
FILES = sorted(FIXTURES.glob("*.json"))


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def refused(data: Any) -> str:
    with pytest.raises(SnapshotError) as caught:
        from_dict(data)
    return str(caught.value)


# --------------------------------------------------------------------------- copies


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_aggregate_survives_a_deep_copy_and_equals_the_original(path: Path) -> None:
    aggregate = from_dict(json.loads(path.read_text()))

    copied = copy.deepcopy(aggregate)

    assert copied == aggregate
    assert copied is not aggregate
    assert copied.history == aggregate.history
    assert to_dict(copied) == to_dict(aggregate)
    copied.history.clear()
    assert aggregate.history, "the copy shares no list with the original"


def test_money_is_copied_as_itself_and_pickles() -> None:
    amount = Money(1_250, "EUR")

    assert copy.copy(amount) is amount
    assert copy.deepcopy(amount) is amount
    assert pickle.loads(pickle.dumps(amount)) == amount


# --------------------------------------------------------------------------- types and paths


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(title=5), "field 'title': expected str, got int 5"),
        (lambda d: d.update(agency=0), "field 'agency': expected bool, got int 0"),
        (lambda d: d.update(submissions=True), "field 'submissions': expected int, got bool"),
        (lambda d: d.update(submissions=-1), "field 'submissions': expected a count"),
        (lambda d: d.update(deadlines="review"), "field 'deadlines': expected a list"),
        (
            lambda d: d["deadlines"][0].update(due="2026-03-20T09:00:00"),
            "field 'deadlines[0].due': timestamp '2026-03-20T09:00:00' has no UTC offset",
        ),
        (
            lambda d: d["history"][2]["actor"].update(role="boss"),
            "field 'history[2].actor.role': 'boss' is not one of",
        ),
        (
            lambda d: d["history"][1].update(target="paid"),
            "field 'history[1].target': 'paid' is not a state of milestone",
        ),
    ],
    ids=["str", "bool", "int-not-bool", "count", "list", "naive-due", "role", "state"],
)
def test_a_wrong_type_is_refused_naming_the_field_path(change: Any, message: str) -> None:
    data = fixture("milestone-resubmitted")
    change(data)

    assert message in refused(data)


def test_errors_in_nested_values_name_the_whole_path() -> None:
    data = fixture("contract-fixed-active")
    data["milestones"][1]["amount"]["cents"] = "100"
    data["payments"][0]["kind"] = "gift"

    text = refused(data)

    assert "field 'milestones[1].amount': an amount is a whole number" in text
    assert "field 'payments[0].kind': 'gift' is not one of" in text


def test_a_value_with_a_missing_or_extra_field_is_refused() -> None:
    data = fixture("contract-hourly-ending")
    del data["weeks"][1]["limit"]
    data["weeks"][1]["colour"] = "red"

    text = refused(data)

    assert "field 'weeks[1]': a BillingWeek has the fields" in text
    assert "missing field(s) 'limit'; unexpected field(s) 'colour'" in text


# --------------------------------------------------------------------------- the door checks


def test_a_released_amount_in_another_currency_is_refused() -> None:
    data = fixture("contract-fixed-active")
    data["milestones"][0]["released"] = {"cents": 15_000, "currency": "EUR"}

    # the loader checks every amount's currency (the milestone's own check is not repeated)
    assert refused(data) == (
        "contract snapshot, field 'milestones[0].released': EUR 150.00 is in EUR, "
        "but C-2-M1 counts in USD"
    )


def test_a_standalone_milestone_counts_in_its_amounts_currency() -> None:
    data = fixture("milestone-resubmitted")
    data["funded"] = {"cents": 25_000, "currency": "EUR"}

    assert "field 'funded': EUR 250.00 is in EUR, but M-1 counts in USD" in refused(data)


def test_a_payment_in_another_currency_than_the_contract_is_refused() -> None:
    data = fixture("contract-fixed-active")
    data["payments"][1]["amount"]["currency"] = "GBP"

    assert "field 'payments[1].amount': GBP 25.00 is in GBP" in refused(data)


def test_an_approved_milestone_that_released_nothing_is_refused() -> None:
    data = fixture("contract-fixed-active")
    data["milestones"][0]["released"] = {"cents": 0, "currency": "USD"}

    text = refused(data)

    assert text.startswith("contract snapshot 'C-2' breaks its invariants:")
    assert "C-2-M1 is approved but released nothing" in text


def test_a_history_that_does_not_lead_to_the_state_is_refused() -> None:
    data = fixture("milestone-resubmitted")
    data["state"] = "approved"

    assert refused(data) == (
        "milestone snapshot, field 'state': approved, but the history ends in resubmitted"
    )


def test_a_decision_that_is_no_row_of_the_table_is_refused() -> None:
    data = fixture("milestone-resubmitted")
    data["history"][1]["event"] = "approve"  # from funded: not a row of the table

    assert refused(data) == (
        "milestone snapshot, field 'history[1]': milestone cannot go from funded to submitted "
        "by 'approve'"
    )


def test_a_decision_whose_source_is_not_the_previous_target_is_refused() -> None:
    data = fixture("milestone-resubmitted")
    data["history"][2]["source"] = "resubmitted"

    assert (
        "field 'history[2].source': starts from resubmitted, but the decision before it ended in "
        "submitted" in refused(data)
    )


def test_a_deadline_naming_an_unknown_event_is_refused() -> None:
    data = fixture("contract-hourly-ending")
    data["deadlines"][0]["event"] = "explode"

    assert "field 'deadlines[0].event': contract has no timer event 'explode'" in refused(data)


def test_a_deadline_naming_an_event_people_fire_is_refused() -> None:
    data = fixture("milestone-resubmitted")
    data["deadlines"][0]["event"] = "approve"

    assert "milestone has no timer event 'approve' (its timers: review_lapse)" in refused(data)


def test_two_deadlines_with_one_key_are_refused() -> None:
    data = fixture("contract-hourly-ending")
    data["deadlines"][1]["key"] = data["deadlines"][0]["key"]

    assert "field 'deadlines[1].key': a second deadline keyed" in refused(data)


@pytest.mark.parametrize(
    ("name", "field"),
    [("contract-hourly-ending", "weekly_limit"), ("milestone-resubmitted", "submissions")],
)
def test_a_negative_counter_of_the_aggregate_is_refused(name: str, field: str) -> None:
    data = fixture(name)
    data[field] = -1

    assert f"field '{field}': expected a count (0 or more), got -1" in refused(data)


def test_a_negative_count_in_a_nested_value_is_refused() -> None:
    data = fixture("contract-hourly-ending")
    data["weeks"][0]["billable"] = -60

    assert "field 'weeks[0].billable': expected a count (0 or more), got -60" in refused(data)


def test_the_snapshot_of_a_nested_milestone_must_say_what_it_is() -> None:
    data = fixture("contract-fixed-active")
    data["milestones"][2]["schema"] = "statemachines/job"

    assert "field 'milestones[2].schema': expected 'statemachines/milestone'" in refused(data)


def test_invariants_are_registered_by_loading_any_machine() -> None:
    # In a fresh interpreter that imports only the milestone's module and the loader.
    data = fixture("milestone-resubmitted")
    data["state"] = data["history"][-1]["target"]
    data["released"] = {"cents": 30_000, "currency": "USD"}
    code = (
        "import json, sys\n"
        "from statemachines.machines.milestone import Milestone\n"
        "from statemachines.core.snapshots import from_dict\n"
        "from statemachines.errors import SnapshotError\n"
        "try:\n"
        "    from_dict(json.loads(sys.stdin.read()))\n"
        "except SnapshotError as err:\n"
        "    print(err)\n"
    )

    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        check=True,
    )

    assert "M-1 released US$300.00 but only US$250.00 + US$0.00 was charged" in out.stdout


def test_a_class_of_no_machine_has_no_snapshot() -> None:
    with pytest.raises(SnapshotError, match="Money is not the aggregate of any machine"):
        to_dict(Money(5))


def test_a_milestone_built_in_code_round_trips() -> None:
    ms = Milestone(id="M-9", contract="C-9", client="co-1", freelancer="fl-1", amount=Money(900))

    assert from_dict(json.loads(json.dumps(to_dict(ms)))) == ms

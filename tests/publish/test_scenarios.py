"""The scenario format: times, amounts, actors, worlds, and what a step checks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from statemachines import UTC, Actor, Milestone, Money, Role
from statemachines.publish.scenarios import (
    ScenarioError,
    files,
    load,
    parse_actor,
    parse_money,
    parse_role,
    parse_span,
    parse_time,
    play,
    run,
    step_line,
)

WORLD = (
    "world: {M-1: {machine: milestone, contract: C-1, client: co-1, freelancer: fl-1, "
    'amount: "9.00"}}'
)
MS = Milestone(id="M-1", contract="C-1", client="co-1", freelancer="fl-1", amount=Money(20_000))


def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_spans_of_time() -> None:
    assert parse_span("14 days") == timedelta(days=14)
    assert parse_span("2d 3h") == timedelta(days=2, hours=3)
    assert parse_span("1 week and 30 minutes") == timedelta(weeks=1, minutes=30)
    with pytest.raises(ScenarioError, match="not a span of time"):
        parse_span("a fortnight")


def test_times_need_a_utc_offset() -> None:
    assert parse_time("2026-03-02T11:00:00+02:00") == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert parse_time("2026-03-02T09:00Z") == datetime(2026, 3, 2, 9, tzinfo=UTC)
    with pytest.raises(ScenarioError, match="has no UTC offset"):
        parse_time("2026-03-02T09:00")
    with pytest.raises(ScenarioError, match="is a date"):
        parse_time(date(2026, 3, 2))


def test_amounts_are_text_never_floats() -> None:
    assert parse_money("200.00") == Money(20_000)
    assert parse_money("US$1,250.50") == Money(125_050)
    assert parse_money("150.00 EUR") == Money(15_000, "EUR")
    assert parse_money({"cents": 5, "currency": "USD"}) == Money(5)
    with pytest.raises(ScenarioError, match="an amount is text"):
        parse_money(12.5)
    with pytest.raises(ScenarioError, match="more than two decimal places"):
        parse_money("1.005")


def test_roles_by_value_label_or_code() -> None:
    assert parse_role("client_owner") is Role.CLIENT_OWNER
    assert parse_role("hiring manager") is Role.HIRING_MANAGER
    assert parse_role("ABM") is Role.BUSINESS_MANAGER
    with pytest.raises(ScenarioError, match="unknown role 'boss'"):
        parse_role("boss")


def test_actors_are_guessed_from_the_aggregate_when_left_out() -> None:
    assert parse_actor("client_owner:ana:co-9") == Actor("ana", Role.CLIENT_OWNER, party="co-9")
    assert parse_actor("CO", MS) == Actor("client_owner", Role.CLIENT_OWNER, party="co-1")
    assert parse_actor("freelancer", MS).id == "fl-1"
    assert parse_actor("system").role is Role.SYSTEM
    assert parse_actor("support:sue") == Actor("sue", Role.SUPPORT)


def test_on_and_off_stay_words(tmp_path: Path) -> None:
    path = _scenario(
        tmp_path,
        "scenario: yaml 1.1 would read 'on' as true\n"
        "start: 2026-03-02T09:00:00Z\n"
        f"{WORLD}\n"
        "steps: [{actor: CO, do: fund, on: M-1, expect: funded, note: off}]\n",
    )

    (step,) = load(path).steps

    assert step.on == "M-1"
    assert step.note == "off"


@pytest.mark.rule("MS-REVIEW-1")
def test_a_held_back_scheduler_lets_a_late_refusal_show(tmp_path: Path) -> None:
    path = _scenario(
        tmp_path,
        """\
scenario: late approval
start: 2026-03-02T09:00:00Z
world: {M-1: {machine: milestone, contract: C-1, client: co-1, freelancer: fl-1, amount: "9.00"}}
steps:
  - {actor: CO, do: fund}
  - {actor: freelancer, do: submit}
  - {after: 14 days, fire_due: false, actor: CO, do: approve, expect: {illegal: true}}
  - {expect: {state: approved, fired: [review_lapse]}}
""",
    )

    results = run(load(path))

    # The engine fires the due lapse before the approval (ADR 0015), then undoes it with the
    # refused approval: the held-back scheduler fires it next.
    assert [r.passed for r in results] == [True, True, True, True]
    assert results[2].fired == ()
    assert results[3].fired == ("review_lapse@M-1",)
    assert results[2].detail == "(nothing to approve in approved)"


def test_a_world_of_marketplace_machines_runs_through_the_marketplace(tmp_path: Path) -> None:
    path = _scenario(
        tmp_path,
        """\
scenario: closing
start: 2026-03-02T09:00:00Z
world: {fl-1: {machine: account, type: freelancer, owner: fl-1}}
steps:
  - {actor: "freelancer:fl-1:fl-1", do: request_close, with: {confirm: true}, expect: deactivated}
""",
    )

    (result,) = run(load(path))

    assert result.passed
    assert result.detail == "-> closing; then settle@fl-1"


def test_the_engine_can_be_chosen_but_must_fit_the_world(tmp_path: Path) -> None:
    path = _scenario(
        tmp_path,
        """\
scenario: wrong engine
engine: marketplace
start: 2026-03-02T09:00:00Z
world: {M-1: {machine: milestone, contract: C-1, client: co-1, freelancer: fl-1, amount: "9.00"}}
steps: [{actor: CO, do: fund}]
""",
    )

    with pytest.raises(ScenarioError, match="not milestone"):
        run(load(path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "a scenario is a mapping"),
        ("scenario: x\nstart: 2026-03-02T09:00:00Z\n", "missing world, steps"),
        ("scenario: x\nstart: 2026-03-02T09:00:00Z\nworld: {}\nsteps: []\n", "world must map"),
    ],
)
def test_malformed_files_say_what_is_missing(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        load(_scenario(tmp_path, text))


def test_folders_give_their_yaml_files_in_order(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.yaml", "notes.txt"):
        (tmp_path / name).write_text("")

    assert [p.name for p in files([tmp_path])] == ["a.yaml", "b.yaml"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScenarioError, match=r"no \*\.yaml scenarios"):
        files([tmp_path / "empty"])


# --------------------------------------------------------------------------- the whole file first


def test_a_key_given_twice_names_the_key_and_both_lines(tmp_path: Path) -> None:
    path = _scenario(
        tmp_path,
        "scenario: twice\n"
        "start: 2026-03-02T09:00:00Z\n"
        f"{WORLD}\n"
        "steps:\n"
        "  - actor: CO\n"
        "    do: fund\n"
        "    do: submit\n",
    )

    with pytest.raises(ScenarioError) as err:
        load(path)

    assert str(err.value) == (
        f"{path.as_posix()}:7: malformed YAML: duplicate key 'do' (first on line 6); "
        "give each key once"
    )


def test_a_naive_time_in_a_later_step_stops_the_file_before_any_step_runs(
    tmp_path: Path,
) -> None:
    path = _scenario(
        tmp_path,
        "scenario: naive\n"
        "start: 2026-03-02T09:00:00Z\n"
        f"{WORLD}\n"
        "steps:\n"
        "  - {actor: CO, do: fund}\n"
        "  - {at: 2026-03-03 09:00, actor: freelancer, do: submit}\n",
    )

    with pytest.raises(ScenarioError) as err:
        load(path)

    assert err.value.where == f"{path.as_posix()}:6"
    assert err.value.text.startswith("step 2, field 'at': ")
    assert "has no UTC offset" in err.value.text


def test_a_bad_argument_in_a_later_step_is_reported_before_the_first_runs(
    tmp_path: Path,
) -> None:
    path = _scenario(
        tmp_path,
        "scenario: bad argument\n"
        "start: 2026-03-02T09:00:00Z\n"
        f"{WORLD}\n"
        "steps:\n"
        "  - {actor: CO, do: fund}\n"
        "  - {actor: freelancer, do: submit}\n"
        "  - {actor: CO, do: approve, with: {amount: lots}}\n",
    )
    ran: list[int] = []
    scenario = load(path)

    with pytest.raises(ScenarioError) as err:
        run(scenario, lambda step: ran.append(step.number))

    assert ran == []
    assert err.value.where == f"{path.as_posix()}:7"
    assert err.value.text == (
        'step 3: field \'with.amount\': an amount is text such as "200.00" or "150.00 EUR", '
        "got 'lots'"
    )


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("{actor: CO, do: fund, fire_due: maybe}", "step 1, field 'fire_due': expected bool"),
        ("{after: a fortnight}", "step 1, field 'after': 'a fortnight' is not a span of time"),
        ("{actor: CO, do: fund, expect: {state: funded, fired: review}}", "field 'expect.fired'"),
        ("{actor: CO, do: fund, expect: [funded]}", "expect is a state name or a mapping"),
        ("{actor: CO, do: fund, expect: {refused: 7}}", "expected rule IDs"),
        ("{actor: CO, do: fund, expect: {colour: red}}", "unknown expectation(s) colour; use"),
        ("{do: fund}", "step 1: who does 'fund'? add 'actor'"),
        ("{at: 2026-03-03T09:00:00Z, after: 1 day}", "give either 'at' or 'after', not both"),
        ("{with: {amount: '1.00'}}", "'with' gives the arguments of an event: add 'do'"),
    ],
)
def test_each_step_is_structured_with_its_number_and_field(
    tmp_path: Path, step: str, message: str
) -> None:
    path = _scenario(
        tmp_path, f"scenario: x\nstart: 2026-03-02T09:00:00Z\n{WORLD}\nsteps:\n  - {step}\n"
    )

    with pytest.raises(ScenarioError) as err:
        load(path)

    assert message in str(err.value)
    assert err.value.where == f"{path.as_posix()}:5"


def test_a_world_aggregate_with_a_wrong_field_names_it_and_its_line(tmp_path: Path) -> None:
    path = _scenario(
        tmp_path,
        "scenario: x\n"
        "start: 2026-03-02T09:00:00Z\n"
        "world:\n"
        "  M-1: {machine: milestone, contract: C-1, client: co-1, freelancer: fl-1,\n"
        "        amount: '9.00', submissions: many}\n"
        "steps: [{actor: CO, do: fund}]\n",
    )

    with pytest.raises(ScenarioError) as err:
        load(path)

    assert str(err.value) == (
        f"{path.as_posix()}:4: world M-1.submissions: expected int, got str 'many'"
    )


def test_a_clock_step_says_which_deadlines_fired(tmp_path: Path) -> None:
    path = _scenario(
        tmp_path,
        "scenario: lapse\n"
        "start: 2026-03-02T09:00:00Z\n"
        f"{WORLD}\n"
        "steps:\n"
        "  - {actor: CO, do: fund}\n"
        "  - {actor: freelancer, do: submit}\n"
        "  - {after: 1 day}\n"
        "  - {after: 14 days, expect: approved}\n",
    )

    results = run(load(path))

    assert [r.outcome for r in results] == ["accepted", "accepted", "clock", "clock"]
    assert step_line(results[2]).endswith("(clock moves)                nothing falls due")
    assert step_line(results[3]).endswith("(clock moves)                review_lapse@M-1 fired")
    assert "deadlines deadlines" not in step_line(results[3])


def test_play_hands_back_the_aggregates_the_scenario_left(tmp_path: Path) -> None:
    path = _scenario(tmp_path, f"scenario: fund\nstart: 2026-03-02T09:00:00Z\n{WORLD}\n")
    path.write_text(path.read_text() + "steps:\n  - {actor: CO, do: fund, expect: funded}\n")

    played = play(load(path))

    assert [r.passed for r in played.results] == [True]
    milestone = played.aggregates["M-1"]
    assert (milestone.state.value, [d.event for d in milestone.history]) == ("funded", ["fund"])

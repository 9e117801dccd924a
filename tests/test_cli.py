"""The command line: render and its check, explain, run, and one clear line for bad input."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from statemachines import (
    Actor,
    ManualClock,
    Milestone,
    MilestoneReview,
    Money,
    Role,
    to_dict,
)
from statemachines.__main__ import main as console_main
from statemachines.cli import Out, main, summary
from statemachines.publish import diagrams
from statemachines.publish.render import check, render
from statemachines.testing.cast import ANA as OWNER

ROOT = Path(__file__).resolve().parents[1]
FREELANCER = Actor("fl-1", Role.FREELANCER)


@pytest.fixture
def snapshot(tmp_path: Path, clock: ManualClock) -> Path:
    """A milestone under review since 2026-03-03 09:00 UTC, saved as JSON."""
    review = MilestoneReview(clock=clock)
    ms = Milestone(id="M-1", contract="C-1", client="co-1", freelancer="fl-1", amount=Money(20_000))
    review.fire(ms, "fund", OWNER)
    clock.advance(days=1)
    review.fire(ms, "submit", FREELANCER)
    path = tmp_path / "m-1.json"
    path.write_text(json.dumps(to_dict(ms)))
    return path


def _one_line_error(capsys: pytest.CaptureFixture[str], code: int) -> str:
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in out
    assert err.count("\n") == 1
    assert err.startswith("statemachines: error: ")
    assert "Traceback" not in err
    return err


# --------------------------------------------------------------------------- summary and render


def test_summary_is_the_default_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0

    out = capsys.readouterr().out
    assert out.strip() == summary()
    assert "milestone: Fixed-price milestone review" in out


def test_the_console_script_runs_the_same_main() -> None:
    assert console_main is main


def test_render_writes_every_file_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "--out", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    assert "milestone: Fixed-price milestone review" in out
    assert "rendered" in out
    assert "docs/rules.md" in out
    for suffix in (".dot", ".mmd", ".svg", ".png"):
        assert (tmp_path / "diagrams" / f"milestone{suffix}").stat().st_size > 100
    assert (tmp_path / "diagrams" / "index.md").exists()
    assert (tmp_path / "docs" / "rules.md").read_text().startswith("# Rule catalogue")
    assert (tmp_path / "diagrams" / "milestone.png").read_bytes().startswith(b"\x89PNG")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder rendered once for the tests that change it (each gets a copy)."""
    root = tmp_path_factory.mktemp("rendered")
    (root / "pyproject.toml").write_text('[project]\nname = "statemachines"\n')  # a checkout
    with pytest.MonkeyPatch.context() as patch:  # Graphviz's images are not what these check
        patch.setattr(diagrams, "render_svg", lambda dot: b"<svg/>")
        patch.setattr(diagrams, "render_png", lambda dot: b"\x89PNG")
        render(root)
    return root


@pytest.fixture
def project(rendered: Path, tmp_path: Path) -> Path:
    """A fresh copy of the rendered folder."""
    shutil.copytree(rendered, tmp_path / "project")
    return tmp_path / "project"


def test_check_names_stale_missing_and_leftover_files_but_ignores_images(project: Path) -> None:
    tmp_path = project
    assert check(tmp_path).stale == []
    (tmp_path / "diagrams" / "milestone.svg").write_text("<svg>drawn by another Graphviz</svg>")
    (tmp_path / "diagrams" / "milestone.png").write_bytes(b"not the same bytes")
    assert check(tmp_path).stale == []

    (tmp_path / "diagrams" / "milestone.dot").write_text("digraph old {}")
    (tmp_path / "diagrams" / "milestone.mmd").unlink()
    (tmp_path / "diagrams" / "retired.dot").write_text("digraph retired {}")
    result = check(tmp_path)

    assert result.stale == [Path("diagrams/milestone.dot")]
    assert result.missing == [Path("diagrams/milestone.mmd")]
    assert result.unexpected == [Path("diagrams/retired.dot")]
    assert not result.ok
    assert "stale: diagrams/milestone.dot (run: python -m statemachines render)" in result.lines()


def test_render_check_exits_non_zero_naming_the_stale_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "docs" / "rules.md").write_text("# edited by hand\n")

    assert main(["render", "--check", "--root", str(project)]) == 1

    assert "stale: docs/rules.md" in capsys.readouterr().out


def test_render_removes_diagrams_nothing_draws_any_more(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(diagrams, "render_svg", lambda dot: b"<svg/>")
    monkeypatch.setattr(diagrams, "render_png", lambda dot: b"\x89PNG")
    (project / "diagrams" / "retired.png").write_bytes(b"old")

    changed, _ = render(project)

    assert Path("diagrams/retired.png") in changed
    assert not (project / "diagrams" / "retired.png").exists()


# --------------------------------------------------------------------------- explain


@pytest.mark.rule("MS-REVIEW-1")
def test_explain_lists_every_event_for_one_actor(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["explain", str(snapshot), "--actor", "CO", "--at", "2026-03-20T09:00:00Z"])

    out = capsys.readouterr().out
    assert code == 0
    assert "milestone 'M-1' is submitted" in out
    assert "checked at 2026-03-20 09:00:00 UTC" in out
    approve = next(line for line in out.splitlines() if line.startswith("approve "))
    # judged after the lapse that fell due on 2026-03-17 (ADR 0015): approved by then
    assert "not possible from approved" in approve
    assert "deadline review: review_lapse falls due at 2026-03-17 09:00:00 UTC" in out


@pytest.mark.rule("MS-3")
def test_explain_without_an_actor_says_who_may_fire_each_event(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", str(snapshot), "--at", "2026-03-10T09:00:00Z"]) == 0

    out = capsys.readouterr().out
    header = out.splitlines()[2]
    assert header.split() == ["EVENT", "NOW", "TARGET", "WHO", "RULE", "IDS", "WHY", "NOT"]
    approve = next(line for line in out.splitlines() if line.startswith("approve "))
    assert "yes" in approve
    assert "CO, CA, HM" in approve
    edit = next(line for line in out.splitlines() if line.startswith("edit "))
    assert "MS-3" in edit
    legend = next(line for line in out.splitlines() if line.startswith("WHO: "))
    assert "CO = client owner" in legend
    assert "HM = hiring manager" in legend


@pytest.mark.rule("MS-3")
def test_explain_json_gives_the_same_facts(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["explain", str(snapshot), "--actor", "client_owner", "--at", "2026-03-10T11:00+02:00"]

    assert main([*args, "--json"]) == 0

    doc = json.loads(capsys.readouterr().out)
    assert doc["state"] == "submitted"
    assert doc["at"] == "2026-03-10T09:00:00+00:00"
    assert doc["actor"]["party"] == "co-1"
    events = {e["event"]: e for e in doc["events"]}
    assert events["approve"]["allowed"] is True
    assert events["approve"]["target"] == "approved"
    assert events["edit"]["rule_ids"] == ["MS-3"]
    assert events["edit"]["error"] == "TransitionRefused"
    assert events["review_lapse"]["error"] == "NotPermitted"
    assert doc["deadlines"] == [
        {"key": "review", "event": "review_lapse", "due": "2026-03-17T09:00:00+00:00"}
    ]


def test_explain_guesses_the_freelancer_from_the_snapshot(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["explain", str(snapshot), "--actor", "freelancer", "--json", "--at", "2026-03-10T09:00Z"])

    doc = json.loads(capsys.readouterr().out)
    assert doc["actor"]["id"] == "fl-1"


@pytest.mark.rule("MS-REVIEW-5")
def test_explain_with_arguments_checks_the_guards_that_read_them(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["explain", str(snapshot), "--actor", "CO", "--at", "2026-03-10T09:00Z"]

    assert main([*args, "--with", "amount=0.00", "--json"]) == 0

    events = {e["event"]: e for e in json.loads(capsys.readouterr().out)["events"]}
    assert events["approve"]["rule_ids"] == ["MS-REVIEW-5"]
    assert "positive amount" in events["approve"]["reasons"][0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["explain", "{snap}", "--with", "colour=red"], "has no event argument 'colour'"),
        (["explain", "{snap}", "--with", "amount"], "write NAME=VALUE"),
        (["explain", "{snap}", "--with", "amount=lots"], "--with amount: an amount is text"),
        (["explain", "{dir}/missing.json"], "missing.json: no such file"),
        (["explain", "{dir}/bad.json"], "bad.json:1: malformed JSON"),
        (["explain", "{dir}/lost.json"], "unknown snapshot schema"),
        (["explain", "{snap}", "--at", "2026-03-10T09:00"], "has no UTC offset"),
        (["explain", "{snap}", "--at", "next tuesday"], "is not an ISO-8601 time"),
        (["explain", "{snap}", "--actor", "wizard"], "unknown role 'wizard'"),
    ],
)
def test_explain_reports_bad_input_in_one_line(
    args: list[str],
    message: str,
    snapshot: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "lost.json").write_text(json.dumps({"schema": "statemachines/nothing"}))
    argv = [a.format(dir=tmp_path, snap=snapshot) for a in args]

    err = _one_line_error(capsys, main(argv))

    assert message in err


# --------------------------------------------------------------------------- run


def test_the_shipped_scenarios_all_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(ROOT / "docs" / "scenarios")]) == 0

    out = capsys.readouterr().out
    assert "FAIL" not in out
    assert "scenario(s) passed" in out.splitlines()[-1]


SCENARIO = """\
scenario: a refusal that does not happen
start: 2026-03-02T09:00:00Z
actors:
  ana: client_owner:ana:co-1
world:
  M-1: {machine: milestone, contract: C-1, client: co-1, freelancer: fl-1, amount: "200.00"}
steps:
  - {actor: ana, do: fund, expect: {refused: [MS-1]}}
  - {actor: ana, do: edit, expect: draft}
"""


def test_run_stops_at_the_first_unmet_expectation_and_points_at_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(SCENARIO)

    assert main(["run", str(path)]) == 1

    out = capsys.readouterr().out
    assert f"{path.as_posix()}:8: step 1: expected refused, but it was accepted" in out
    assert " 2  " not in out
    assert out.splitlines()[-1] == "0 of 1 scenario(s) passed"


def test_run_json_reports_each_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(SCENARIO)

    assert main(["run", "--json", str(path)]) == 1

    doc = json.loads(capsys.readouterr().out)
    assert doc["passed"] is False
    (step,) = doc["scenarios"][0]["steps"]
    assert step["line"] == 8
    assert step["outcome"] == "accepted"
    assert step["problems"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("scenario: [unclosed\n", "malformed YAML"),
        (SCENARIO.replace("do: fund", "do: fnd"), "milestone has no event 'fnd'"),
        (SCENARIO.replace("client_owner:ana", "wizard:ana"), "unknown role 'wizard'"),
        (SCENARIO.replace("expect: draft", "expect: drafty"), "milestone has no state 'drafty'"),
        (SCENARIO.replace("2026-03-02T09:00:00Z", "2026-03-02 09:00"), "has no UTC offset"),
        (SCENARIO.replace("machine: milestone", "machine: rocket"), "machine 'rocket' is not"),
        (SCENARIO.replace('amount: "200.00"', "amount: 200.5"), "an amount is text"),
        (SCENARIO.replace("expect: draft", "expect: draft, oops: 1"), "unknown key(s) oops"),
    ],
)
def test_run_reports_bad_scenarios_in_one_line(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)

    err = _one_line_error(capsys, main(["run", str(path)]))

    assert message in err
    assert "bad.yaml" in err


def test_run_reports_a_missing_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _one_line_error(capsys, main(["run", str(tmp_path / "nope.yaml")]))

    assert "nope.yaml: no such file" in err


# --------------------------------------------------------------------------- output


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)

    assert Out(_Terminal()).paint("ok", "green") == "\033[32mok\033[0m"
    assert Out(io.StringIO()).paint("ok", "green") == "ok"
    monkeypatch.setenv("NO_COLOR", "1")
    assert Out(_Terminal()).paint("ok", "green") == "ok"


def test_tables_are_aligned() -> None:
    stream = io.StringIO()

    Out(stream).table(["A", "LONGER"], [["x", "1"], ["wider cell", "2"]])

    assert stream.getvalue().splitlines() == [
        "A           LONGER",
        "x           1",
        "wider cell  2",
    ]


def test_render_outside_a_checkout_refuses_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["render"]) == 2

    assert "not a checkout" not in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_render_outside_a_checkout_says_why_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    main(["render", "--check"])

    err = capsys.readouterr().err
    assert "the current folder is not one" in err
    assert "--out FOLDER" in err


def test_render_out_writes_the_diagrams_into_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["render", "--out", "docs-out"]) == 0

    assert (tmp_path / "docs-out" / "diagrams" / "milestone.svg").is_file()
    assert (tmp_path / "docs-out" / "docs" / "rules.md").is_file()


def test_run_says_once_what_a_moving_clock_fired(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "docs/scenarios/milestone-review-resubmission.yaml"]) == 0

    out = capsys.readouterr().out
    assert "review_lapse@M-1" in out
    assert "deadlines deadlines" not in " ".join(out.split())

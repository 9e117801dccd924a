"""The rule catalogue: where each rule is enforced, which tests cite it, and the v0.1 gaps."""

# rule-catalogue: not rule tests (rule IDs appear here as data about the docs)

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from statemachines import RULES
from statemachines.publish.catalogue import (
    SCOPE_V01,
    Catalogue,
    Use,
    build,
    natural_key,
    scan_scenarios,
    scan_tests,
    scope,
    uses,
)
from statemachines.publish.diagrams import discover

SHARED_SCOPE = Path(__file__).resolve().parents[3] / "shared" / "checks" / "v01_rules.txt"


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text))


def test_guards_deadlines_effects_and_permissions_are_found_in_the_tables() -> None:
    found = uses(discover().values())

    assert Use("milestone", "fund", "guard", ("draft",), "funded") in found["MS-1"]
    assert (
        Use("milestone", "review_lapse", "deadline", ("submitted", "resubmitted"), "approved")
        in (found["MS-REVIEW-2"])
    )
    assert Use("milestone", "submit", "effect", ("funded",), "submitted") in found["MS-REVIEW-1"]
    assert Use("milestone", "fund", "permission", ("draft",), "funded") in found["TEAM-5"]
    refusal = next(u for u in found["MS-3"] if u.target is None)
    assert str(refusal).startswith("milestone `edit` refused in funded, submitted")


def test_tests_are_found_by_rule_id_in_strings_and_in_test_names(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    _write(
        tests,
        "test_a.py",
        """
        import pytest

        CITED = "MS-4"  # at module level the file is named

        def test_ms_review_2_fires_after_14_days():
            pass

        @pytest.mark.parametrize("rule", ["MS-1"])
        def test_refusals(rule):
            assert "MS-10" != "INV-MS-3"

        def test_inv_ms_3_holds():
            pass

        def test_ms_pay_1_hold():
            pass

        class TestReview:
            def test_resubmission(self):
                assert "[MS-REVIEW-4]"
        """,
    )
    ids = ["MS-1", "MS-3", "MS-4", "MS-10", "MS-REVIEW-2", "MS-REVIEW-4", "MS-PAY-1", "PAY-1"]

    found = scan_tests(tests, ids)

    assert found == {
        "MS-1": ["tests/test_a.py::test_refusals"],
        "MS-4": ["tests/test_a.py"],
        "MS-10": ["tests/test_a.py::test_refusals"],
        "MS-PAY-1": ["tests/test_a.py::test_ms_pay_1_hold"],
        "MS-REVIEW-2": ["tests/test_a.py::test_ms_review_2_fires_after_14_days"],
        "MS-REVIEW-4": ["tests/test_a.py::TestReview"],
    }


def test_a_folder_without_tests_cites_nothing(tmp_path: Path) -> None:
    assert scan_tests(tmp_path / "missing", ["MS-1"]) == {}
    assert scan_scenarios(tmp_path / "missing", ["MS-1"]) == {}


def test_scenarios_that_cite_a_rule_are_listed(tmp_path: Path) -> None:
    _write(tmp_path, "review.yaml", "steps:\n  - {expect: {refused: [MS-REVIEW-1]}}\n")

    assert scan_scenarios(tmp_path, ["MS-REVIEW-1", "MS-1"]) == {"MS-REVIEW-1": ["review.yaml"]}


def test_the_scope_is_the_rulebooks_v01_list() -> None:
    if not SHARED_SCOPE.exists():
        pytest.skip("../shared/checks/v01_rules.txt is not beside this clone")
    rows = [line.split() for line in SHARED_SCOPE.read_text().splitlines() if line.strip()]

    listed = {machine: tuple(r for m, r in rows if m == machine) for machine, _ in rows}

    assert listed == dict(SCOPE_V01)


def test_rules_defined_for_v01_join_the_scope_of_their_machine() -> None:
    in_scope = scope()

    assert all(set(ids) <= set(in_scope[m]) for m, ids in SCOPE_V01.items())
    extra = [r for r in RULES.values() if r.release == "v0.1" and r.id not in str(SCOPE_V01)]
    for rule in extra:
        assert rule.id in in_scope[rule.machine]


def _catalogue(landed: frozenset[str], tested: dict[str, list[str]]) -> Catalogue:
    return Catalogue(
        rules={r: RULES[r] for r in ("MS-1", "MS-2")},
        uses={"MS-1": [Use("milestone", "fund", "guard", ("draft",), "funded")]},
        tests=tested,
        scenarios={},
        scope={"milestone": ["MS-1", "MS-2", "MS-99"]},
        landed=landed,
    )


def test_gaps_name_what_is_missing_and_fail_only_for_landed_machines() -> None:
    early = _catalogue(frozenset(), {"MS-1": ["tests/test_m.py::test_minimum"]})
    landed = _catalogue(frozenset({"milestone"}), {"MS-1": ["tests/test_m.py::test_minimum"]})

    assert [str(g) for g in early.gaps] == [
        "milestone MS-2: not enforced, not tested",
        "milestone MS-99: not defined, not enforced, not tested",
    ]
    assert early.failing == []
    assert [g.rule_id for g in landed.failing] == ["MS-2", "MS-99"]


def test_the_markdown_lists_gaps_first_then_every_rule() -> None:
    text = _catalogue(frozenset({"milestone"}), {}).markdown()

    gaps = text.index("## Gaps in the v0.1 scope")
    assert gaps < text.index("## Index") < text.index("### MS-1")
    assert "  - MS-2: not enforced, not tested" in text
    assert "- **Kind:** guard" in text
    assert "  - milestone `fund` (draft → funded): guard" in text
    assert "- **Sources:** P11, P14, P50" in text
    assert "- **Tests:** none yet" in text


def test_seed_sources_are_named_by_file() -> None:
    text = build(Path()).markdown()

    assert "seed `001_23b8128dddb6d3ea.txt` line 77" in text
    for rule_id in RULES:
        assert f"### {rule_id}\n" in text


def test_rule_ids_sort_naturally() -> None:
    ids = ["MS-REVIEW-10", "MS-2", "MS-REVIEW-2", "MS-10", "MS-1"]

    assert sorted(ids, key=natural_key) == ["MS-1", "MS-2", "MS-10", "MS-REVIEW-2", "MS-REVIEW-10"]


def test_modules_marked_as_not_rule_tests_are_skipped(tmp_path: Path) -> None:
    marker = "# rule-catalogue: " + "not rule tests"
    _write(tmp_path / "tests", "test_docs.py", f'{marker}\nIDS = ["MS-1"]\n')

    assert scan_tests(tmp_path / "tests", ["MS-1"]) == {}

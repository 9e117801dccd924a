"""The rule catalogue: where each rule is enforced, which tests cite it, and the v0.1 gaps."""

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
    by_topic,
    natural_key,
    scan_scenarios,
    scan_tests,
    scope,
    topic_of,
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


def test_tests_count_only_when_marked_never_by_comment_string_or_name(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    _write(
        tests,
        "test_a.py",
        """
        import pytest
        from pytest import mark

        CITED = "MS-4"  # a string at module level is not a mark

        def test_ms_review_2_fires_after_14_days():
            assert "MS-REVIEW-2"  # MS-REVIEW-2 in a comment, a string and the name: not marked

        @pytest.mark.rule("MS-1", "MS-10")
        @pytest.mark.parametrize("rule", ["MS-3"])
        def test_refusals(rule):
            pass

        @mark.rule("MS-PAY-1")
        def test_hold():
            pass

        @pytest.mark.rule("MS-REVIEW-4")
        class TestReview:
            @pytest.mark.rule("MS-REVIEW-3")
            def test_resubmission(self):
                pass

            def helper(self):
                pass

        @pytest.mark.rule("MS-2")
        def helper_not_a_test():
            pass
        """,
    )
    _write(
        tests,
        "test_b.py",
        'import pytest\npytestmark = [pytest.mark.rule("PAY-1")]\ndef test_bonus():\n    pass\n',
    )

    found = scan_tests(tests)

    assert found == {
        "MS-1": ["tests/test_a.py::test_refusals"],
        "MS-10": ["tests/test_a.py::test_refusals"],
        "MS-PAY-1": ["tests/test_a.py::test_hold"],
        "MS-REVIEW-3": ["tests/test_a.py::TestReview::test_resubmission"],
        "MS-REVIEW-4": ["tests/test_a.py::TestReview::test_resubmission"],
        "PAY-1": ["tests/test_b.py::test_bonus"],
    }
    assert scan_tests(tests, ["MS-1", "PAY-1"]) == {
        "MS-1": ["tests/test_a.py::test_refusals"],
        "PAY-1": ["tests/test_b.py::test_bonus"],
    }


def test_every_marked_rule_of_the_suite_is_found_and_each_rule_has_a_marked_test() -> None:
    found = scan_tests(Path("tests"))

    assert set(found) <= set(RULES)
    assert {r for r in RULES if RULES[r].release == "v0.1"} <= set(found)
    assert "tests/publish/test_catalogue.py" not in str(found)


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


def test_the_markdown_lists_gaps_first_then_every_rule_by_topic() -> None:
    text = _catalogue(frozenset({"milestone"}), {}).markdown()

    gaps = text.index("## Gaps in the v0.1 scope")
    assert gaps < text.index("## Topics") < text.index("## Milestones and review")
    assert text.index("## Milestones and review") < text.index("### MS-1")
    assert "  - MS-2: not enforced, not tested" in text
    assert "- **Carried by:** milestone `fund` (draft → funded): guard" in text
    assert "- **Tests:** none yet" in text


def test_sources_are_named_in_words_and_tests_by_name() -> None:
    text = build(Path()).markdown()

    assert "001_23b8128dddb6d3ea.txt" not in text
    assert "tests/" not in text
    assert 'help centre: "Milestones for fixed-price jobs"' in text
    assert "quoting help-centre snippets on closing and ending (line 77)" in text
    for rule_id in RULES:
        assert f"### {rule_id}\n" in text


def test_every_rule_sits_under_one_topic_in_reading_order() -> None:
    groups = by_topic(RULES.values())
    listed = [r.id for _, rules in groups for r in rules]

    assert sorted(listed) == sorted(RULES)
    titles = [t.title for t, _ in groups]
    assert titles[:2] == ["Closing an account", "Deactivation, deletion and reactivation"]
    assert "Other rules" not in titles
    assert topic_of("MS-REVIEW-2").title == "Milestones and review"
    assert topic_of("NEW-FAMILY-1").title == "Other rules"


def test_places_link_where_the_site_asks() -> None:
    text = _catalogue(frozenset({"milestone"}), {}).markdown(lambda u: f"m/{u.machine}.md")

    assert "[milestone `fund` (draft → funded)](m/milestone.md): guard" in text


def test_rule_ids_sort_naturally() -> None:
    ids = ["MS-REVIEW-10", "MS-2", "MS-REVIEW-2", "MS-10", "MS-1"]

    assert sorted(ids, key=natural_key) == ["MS-1", "MS-2", "MS-10", "MS-REVIEW-2", "MS-REVIEW-10"]

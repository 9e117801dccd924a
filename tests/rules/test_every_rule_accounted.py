"""Every rule of the rulebook is enforced by a table or catalogued as not a transition, with why.

The rules that are not transitions (menu paths, advice, Payroll) are CTR-END-1, CTR-GEN-2,
CTR-HR-4, ACC-CLOSE-CL-7, ACC-CLOSE-AG-9 and ACC-ALT-1 (``statemachines/rules/outside.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from statemachines import RULES
from statemachines.publish.catalogue import build, uses
from statemachines.publish.diagrams import discover

ROOT = Path(__file__).resolve().parents[2]
ALL_RULES = ROOT.parent / "shared" / "checks" / "all_rules.txt"
APART = ("CTR-END-1", "CTR-GEN-2", "CTR-HR-4", "ACC-CLOSE-CL-7", "ACC-CLOSE-AG-9", "ACC-ALT-1")


def _rulebook_ids() -> list[str]:
    if not ALL_RULES.is_file():
        pytest.skip("../shared/checks/all_rules.txt is not beside this checkout")
    return [line.split()[1] for line in ALL_RULES.read_text(encoding="utf-8").splitlines() if line]


def test_every_rule_of_the_rulebook_is_defined() -> None:
    missing = [r for r in _rulebook_ids() if r not in RULES]

    assert missing == []


def test_every_defined_rule_is_enforced_or_catalogued_apart() -> None:
    discover()
    cited = uses()

    neither = [r.id for r in RULES.values() if not cited.get(r.id) and not r.not_a_transition]
    both = [r.id for r in RULES.values() if cited.get(r.id) and r.not_a_transition]

    assert neither == []
    assert both == []


@pytest.mark.rule(*APART)
def test_the_rules_that_are_not_transitions_say_why() -> None:
    apart = sorted(r.id for r in RULES.values() if r.not_a_transition)

    assert apart == sorted(APART)
    for rule_id in APART:
        reason = RULES[rule_id].not_a_transition
        assert reason is not None
        assert len(reason) > 30, rule_id


@pytest.mark.rule("CTR-END-1", "ACC-ALT-1")
def test_the_catalogue_shows_them_apart() -> None:
    text = build(ROOT).markdown()
    section = text.split("## Rules that are not transitions", 1)[1].split("## Topics", 1)[0]

    for rule_id in APART:
        assert f"[{rule_id}](#{rule_id.lower()}): " in section
    assert "- **Carried by:** nothing; not a transition: " in text
    assert str(RULES["CTR-GEN-2"].not_a_transition) in text

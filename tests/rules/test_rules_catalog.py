"""The rule catalogue: IDs defined once, cited only if defined, v0.1 rules enforced."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import statemachines
from statemachines import RULES
from statemachines.core.engine import SPECS
from statemachines.rules import SEEDS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "statemachines"
# A rule ID in quotes, with a prefix of two or more letters (so ids like "M-1" don't count).
CITED = re.compile(r"[\"']([A-Z]{2,}(?:-[A-Z0-9]+)+)[\"']")
SHARED = ROOT.parent / "shared"


def _cited_in_package() -> dict[str, list[str]]:
    cited: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for rule_id in CITED.findall(path.read_text(encoding="utf-8")):
            if re.fullmatch(r"(INV|DEF)-.*", rule_id):
                continue  # invariant names are not rules
            cited.setdefault(rule_id, []).append(path.name)
    return cited


def test_code_cites_only_defined_rule_ids() -> None:
    unknown = {k: v for k, v in _cited_in_package().items() if k not in RULES}

    assert unknown == {}


def test_every_defined_rule_has_a_known_source() -> None:
    for rule in RULES.values():
        for source in rule.sources:
            assert source[:2] in SEEDS or source.startswith(("P", "rulebook")), rule.id


def test_seed_keys_name_real_seed_files() -> None:
    if not (SHARED / "seeds").is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    for name in SEEDS.values():
        assert (SHARED / "seeds" / name).is_file(), name


def _v01_rules(machine: str) -> list[str]:
    path = ROOT / "tests" / "v01_rules.txt"
    return [
        line.split()[1]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.split() and line.split()[0] == machine
    ]


# the machines v0.1 scoped rules to (the later machines' rules are counted by
# test_every_rule_accounted.py)
V01_MACHINES = [s for s in SPECS.values() if _v01_rules(s.name)]


def test_the_v01_scope_names_the_v01_machines() -> None:
    assert {s.name for s in V01_MACHINES} == {"account", "contract", "milestone"}


@pytest.mark.parametrize("spec", V01_MACHINES, ids=lambda s: s.name)
def test_every_v01_rule_of_a_landed_machine_is_enforced_by_it(spec: object) -> None:
    name = spec.name  # type: ignore[attr-defined]
    enforced = {r for s in SPECS.values() for r in s.rule_ids} | {
        row.rule_id for s in SPECS.values() for row in s.forbidden
    }
    scope = _v01_rules(name)

    missing = [r for r in scope if r not in enforced]

    assert missing == [], f"v0.1 {name} rules not enforced by any table"


def test_the_package_exposes_the_rules() -> None:
    assert statemachines.RULES is RULES

"""The documentation site's pages are generated from the machines, with nothing left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from statemachines import Role
from statemachines.core.engine import MachineSpec
from statemachines.publish import site
from statemachines.publish.views import ROLE_CODES, discover


def _specs() -> list[MachineSpec[Any, Any]]:
    return sorted(discover().values(), key=lambda s: s.name)


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_every_state_has_a_sentence(spec: MachineSpec[Any, Any]) -> None:
    sentences = site.state_sentences(spec)

    assert set(sentences) == {s.value for s in spec.states}
    assert all(text.endswith(".") and "no description" not in text for text in sentences.values())


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_a_machine_page_lists_every_state_and_event_with_its_rules(
    spec: MachineSpec[Any, Any],
) -> None:
    page = site.machine_page(spec)

    for state in spec.states:
        assert f"| **{state.value.replace('_', ' ')}**" in page
    for event in spec.events:
        assert f"### `{event}`" in page
    for edge in spec.edges:
        for guard in edge.guards:
            assert f"[{guard.rule_id}](../rules.md#{guard.rule_id.lower()})" in page
    assert page.count('<div class="diagram"') >= 1
    assert 'xlink:href="../../rules/#' in page


def test_the_contract_page_shows_each_part_in_full() -> None:
    page = site.machine_page(discover()["contract"])

    titles = ("Fixed-price contract", "Hourly contract", "Pauses, disputes", "After the end")
    for title in titles:
        assert f"### {title}" in page
    assert page.count('<div class="diagram"') == 6  # the overview and its five parts


def test_the_overview_explains_every_role_code() -> None:
    page = site.overview_page(discover())

    for role in Role:
        assert f"| {ROLE_CODES[role]} | {role.label} | {site.ROLE_GLOSSARY[role]} |" in page
    for name in discover():
        assert f"(machines/{name}.md)" in page


def test_the_guides_and_decisions_are_pages_of_the_site(tmp_path: Path) -> None:
    for name in ("service", "testing"):
        (tmp_path / "docs").mkdir(exist_ok=True)
        (tmp_path / "docs" / f"{name}.md").write_text(f"# The {name} guide\n\nText.\n")
    (tmp_path / "docs" / "decisions").mkdir()
    (tmp_path / "docs" / "decisions" / "0006-layers.md").write_text("# 0006: Layers\n")
    (tmp_path / "docs" / "scenarios").mkdir()

    site.write_sources(tmp_path, notebooks=False)

    config = (tmp_path / site.CONFIG).read_text()
    assert '      - "The service guide": guides/service.md\n' in config
    assert '      - "0006: Layers": decisions/0006-layers.md\n' in config
    assert "deploy.md" not in config  # a guide that does not exist is left out
    assert (tmp_path / site.SOURCES / "guides" / "testing.md").read_text().startswith("# The")


def test_machine_titles_read_as_words() -> None:
    titles = {spec.name: site.title_of(spec) for spec in _specs()}

    assert titles["fixed_dispute"] == "Fixed-price dispute"
    assert titles["hourly_dispute"] == "Hourly dispute"
    assert all("_" not in title for title in titles.values())

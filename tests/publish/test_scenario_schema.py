"""The JSON Schema of scenario files: generated from the types, committed, and it fits the files."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from statemachines.publish import render
from statemachines.publish.scenarios import SCHEMA_PATH, schema, schema_text

ROOT = Path(__file__).parents[2]
SCENARIOS = sorted((ROOT / "docs" / "scenarios").glob("*.yaml"))


class _EditorLoader(yaml.SafeLoader):
    """YAML as an editor's schema check sees it: timestamps stay text, on/off stay words."""


_EditorLoader.yaml_implicit_resolvers = {
    first: [
        (tag, pattern)
        for tag, pattern in rules
        if tag not in {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool"}
    ]
    for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_EditorLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema())
    return jsonschema.Draft202012Validator(schema())


def _errors(document: Any) -> list[str]:
    return [error.message for error in _validator().iter_errors(document)]


def test_the_committed_schema_is_the_generated_one() -> None:
    assert (ROOT / SCHEMA_PATH).read_text(encoding="utf-8") == schema_text()


def test_render_writes_and_checks_the_schema() -> None:
    items, _ = render.artifacts(ROOT)

    (item,) = [i for i in items if i.path == SCHEMA_PATH]

    assert item.checked
    assert item.make() == schema_text()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenario_of_the_docs_fits_the_schema(path: Path) -> None:
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=_EditorLoader)

    assert _errors(document) == []


@pytest.fixture
def document() -> dict[str, Any]:
    path = ROOT / "docs" / "scenarios" / "milestone-release.yaml"
    loaded: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_EditorLoader)
    return copy.deepcopy(loaded)


def test_the_schema_refuses_an_unknown_step_key(document: dict[str, Any]) -> None:
    document["steps"][0]["colour"] = "red"

    assert any("'colour' was unexpected" in e for e in _errors(document))


def test_the_schema_refuses_a_machine_that_does_not_exist(document: dict[str, Any]) -> None:
    document["world"]["M-1"]["machine"] = "rocket"

    assert _errors(document)


def test_the_schema_knows_each_machines_fields(document: dict[str, Any]) -> None:
    good = json.loads(json.dumps(document))
    document["world"]["M-1"]["amount"] = 12.5
    good["world"]["M-1"]["state"] = "funded"

    assert _errors(document)
    assert _errors(good) == []
    assert _errors({**good, "steps": []})

"""YAML to a :class:`~statemachines.publish.scenarios.model.Scenario`, checked whole.

The file is read with a safe loader that refuses a key given twice in one mapping
(naming the key and both lines) and keeps YAML 1.1's ``on``/``off``/``yes``/``no`` as
words. Then the whole file is structured through the scenario converter: every step,
expectation, time, span and world aggregate is checked before anything runs, and a
mistake is one :class:`ScenarioError` naming the file, line, step number and field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml
from cattrs import BaseValidationError

from statemachines.core.convert import Invalid
from statemachines.core.engine import SPECS
from statemachines.publish.scenarios.model import Expect, Scenario, Step
from statemachines.publish.scenarios.parse import (
    CONVERTER,
    ScenarioError,
    build,
    describe,
    parse_role,
    structure_hook,
)

__all__ = ["files", "load"]

_LINE = "__line__"


class _Loader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping and refuses duplicate keys."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[str, Any]:
    loader.flatten_mapping(node)
    value: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        line = key_node.start_mark.line + 1
        if key in lines:
            msg = f"duplicate key {key!r} (first on line {lines[key]}); give each key once"
            raise yaml.constructor.ConstructorError(None, None, msg, key_node.start_mark)
        lines[key] = line
        value[key] = loader.construct_object(value_node, deep=True)
    value[_LINE] = node.start_mark.line + 1
    return value


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
# YAML 1.1 reads on/off/yes/no as booleans, which would turn the step key "on"
# into True; only true and false are booleans in a scenario.
_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in rules if tag != _BOOL]
    for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != _LINE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _read(path: Path) -> Any:
    where = path.as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = "no such file"
        raise ScenarioError(msg, where) from None
    except OSError as err:
        msg = err.strerror or str(err)
        raise ScenarioError(msg, where) from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        msg = f"malformed YAML: {problem}"
        raise ScenarioError(msg, f"{where}{line}") from None


# --------------------------------------------------------------------------- structuring


def _rule_ids(value: Any, _: Any) -> tuple[str, ...] | None:
    if value is True:
        return ()
    if value is False or value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    msg = f"expected rule IDs ([MS-1]) or true, got {value!r}"
    raise Invalid(msg)


_expect_fields = structure_hook(Expect, CONVERTER, refused=_rule_ids)


def _expect(value: Any, _: Any) -> Expect:
    if value is None:
        return Expect()
    if isinstance(value, str):
        return Expect(state=value)
    if not isinstance(value, Mapping):
        msg = f"expect is a state name or a mapping, got {value!r}"
        raise Invalid(msg)
    expect: Expect = _expect_fields(value, Expect)
    return expect


CONVERTER.register_structure_hook(Expect, _expect)
_step_fields = structure_hook(Step, CONVERTER)
_scenario_fields = structure_hook(Scenario, CONVERTER)


def _step(value: Any, number: int, where: str) -> Step:
    if not isinstance(value, dict):
        msg = f"step {number} must be a mapping, got {value!r}"
        raise ScenarioError(msg, where)
    line = value[_LINE]
    try:
        step: Step = _step_fields(_strip(value), Step)
    except (BaseValidationError, Invalid, TypeError, ValueError) as err:
        path, text = describe(err)
        if text.startswith("unexpected field(s)"):
            text = _unknown_keys(path, text)
        field = f", field {_key(path)!r}" if path else ""
        msg = f"step {number}{field}: {text}"
        raise ScenarioError(msg, f"{where}:{line}") from None
    problem = _step_problem(step)
    if problem:
        msg = f"step {number}: {problem}"
        raise ScenarioError(msg, f"{where}:{line}")
    return attrs.evolve(step, number=number, line=line)


def _unknown_keys(path: str, text: str) -> str:
    names = text.removeprefix("unexpected field(s) ").replace("'", "")
    if path == "expect":
        return f"unknown expectation(s) {names}; use {', '.join(_keys(Expect))}"
    return f"unknown key(s) {names}; a step has {', '.join(_keys(Step))}"


def _keys(cls: type) -> list[str]:
    fields = attrs.fields(cls)
    return sorted(f.metadata.get("key", f.name) for f in fields if not f.metadata.get("internal"))


def _key(path: str) -> str:
    # The path names fields by their YAML keys ("with"), not their Python names.
    return "with" + path.removeprefix("arguments") if path.startswith("arguments") else path


def _step_problem(step: Step) -> str | None:
    if step.at is not None and step.after is not None:
        return "give either 'at' or 'after', not both"
    if step.do is not None and step.actor is None:
        return f"who does {step.do!r}? add 'actor'"
    if step.do is None and step.arguments:
        return "'with' gives the arguments of an event: add 'do'"
    if step.after is not None and step.after.total_seconds() < 0:
        return "time never runs backwards"
    return None


def load(path: Path) -> Scenario:
    """Read and check a whole scenario file, or raise :class:`ScenarioError` with one line."""
    where = path.as_posix()
    data = _read(path)
    if not isinstance(data, dict):
        msg = "a scenario is a mapping with scenario, start, world and steps"
        raise ScenarioError(msg, where)
    missing = [k for k in ("scenario", "start", "world", "steps") if k not in data]
    if missing:
        msg = f"missing {', '.join(missing)}"
        raise ScenarioError(msg, where)
    world, raw_steps = data["world"], data["steps"]
    if not isinstance(world, dict) or not set(world) - {_LINE}:
        msg = "world must map aggregate ids to their fields"
        raise ScenarioError(msg, f"{where}:{data[_LINE]}")
    if not isinstance(raw_steps, list) or not raw_steps:
        msg = "steps must be a non-empty list"
        raise ScenarioError(msg, where)
    steps = tuple(_step(raw, n, where) for n, raw in enumerate(raw_steps, start=1))
    top = _strip({k: v for k, v in data.items() if k != "steps"})
    try:
        scenario: Scenario = _scenario_fields({**top, "steps": []}, Scenario)
    except (BaseValidationError, Invalid, TypeError, ValueError) as err:
        field, text = describe(err)
        raise ScenarioError(f"{field}: {text}" if field else text, where) from None
    _check_world(world, where)
    _check_actors(scenario.actors, where)
    return attrs.evolve(scenario, steps=steps, path=path)


def _check_world(world: dict[str, Any], where: str) -> None:
    for agg_id, raw in world.items():
        if agg_id == _LINE:
            continue
        line = raw.get(_LINE) if isinstance(raw, dict) else None
        at = f"{where}:{line}" if line else where
        if not isinstance(raw, dict):
            msg = f"world {agg_id!r}: give the machine and the fields of the aggregate"
            raise ScenarioError(msg, at)
        fields = _strip(raw)
        name = fields.pop("machine", None)
        if name not in SPECS:
            known = ", ".join(sorted(SPECS))
            msg = f"world {agg_id!r}: machine {name!r} is not built; machines are {known}"
            raise ScenarioError(msg, at)
        model = SPECS[name].model
        if "id" in {f.name for f in attrs.fields(model)}:
            fields.setdefault("id", agg_id)
        try:
            build(model, fields, f"world {agg_id}")
        except ScenarioError as err:
            raise ScenarioError(err.text, at) from None


def _check_actors(actors: Mapping[str, str], where: str) -> None:
    for name, text in actors.items():
        try:
            parse_role(text.partition(":")[0])
        except ScenarioError as err:
            msg = f"actor {name!r}: {err.text}"
            raise ScenarioError(msg, where) from None


def world_fields(scenario: Scenario, agg_id: str) -> tuple[str, dict[str, Any]]:
    """The machine and the fields of the world's aggregate *agg_id*, ready to build."""
    fields = dict(scenario.world[agg_id])
    name = str(fields.pop("machine"))
    if "id" in {f.name for f in attrs.fields(SPECS[name].model)}:
        fields.setdefault("id", agg_id)
    return name, fields


def files(paths: Sequence[Path]) -> list[Path]:
    """The scenario files named by *paths* (folders give their ``*.yaml``, sorted)."""
    out = []
    for path in paths:
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                msg = "no *.yaml scenarios in this folder"
                raise ScenarioError(msg, path.as_posix())
            out.extend(found)
        else:
            out.append(path)
    return out

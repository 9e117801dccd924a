"""The layering of ``docs/decisions/0006-layers.md``: every import goes down, never up.

Each module of the package belongs to one layer; an import of a module in a higher
layer (or between the two sibling tool packages) fails here with the file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import statemachines

PACKAGE = Path(statemachines.__file__).parent

LAYERS: tuple[tuple[str, int, str], ...] = (
    # (module or package prefix, layer, its name); the longest matching prefix decides
    ("statemachines.errors", 0, "values"),
    ("statemachines.core", 0, "values"),  # clock, money, actors (and the package's docstring)
    ("statemachines.rules", 0, "values"),
    ("statemachines.core.engine", 1, "engine"),
    ("statemachines.core.snapshots", 1, "engine"),
    ("statemachines.core.convert", 1, "engine"),
    ("statemachines.machines", 2, "machines"),
    ("statemachines.marketplace", 3, "marketplace"),
    ("statemachines", 4, "the public face"),  # re-exports everything up to the marketplace
    ("statemachines.verify", 5, "tools"),
    ("statemachines.publish", 5, "tools"),
    ("statemachines.testing", 5, "tools"),
    ("statemachines.cli", 5, "tools"),
    ("statemachines.__main__", 5, "tools"),
)
SIBLINGS = frozenset({"statemachines.verify", "statemachines.publish"})
"""Tool packages that stand side by side and never import each other."""


def layer_of(module: str) -> tuple[int, str, str]:
    """The layer of *module*: its number, its name and the prefix that placed it."""
    best = max(
        (
            i
            for i, (prefix, _, _) in enumerate(LAYERS)
            if module == prefix or module.startswith(f"{prefix}.")
        ),
        key=lambda i: len(LAYERS[i][0]),
    )
    prefix, number, name = LAYERS[best]
    return number, name, prefix


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(tree: ast.AST, here: str) -> Iterator[tuple[str, int]]:
    """Every internal module *tree* imports, with its line (functions and importlib too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # the package imports absolutely, so that this scan can place it
                yield f"relative import in {here}", node.lineno
                continue
            name = node.module or ""
            for alias in node.names:
                sub = f"{name}.{alias.name}"
                yield (sub if _is_module(sub) else name), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value, node.lineno


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def violations() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = module_name(path)
        mine, my_name, my_prefix = layer_of(here)
        for target, line in imports(ast.parse(path.read_text(encoding="utf-8")), here):
            if target.startswith("relative import"):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {target}")
                continue
            if target != "statemachines" and not target.startswith("statemachines."):
                continue
            theirs, their_name, their_prefix = layer_of(target)
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            if theirs > mine:
                found.append(f"{where}: {here} ({my_name}) imports {target} ({their_name})")
            elif {my_prefix, their_prefix} == SIBLINGS:
                found.append(f"{where}: {here} imports its sibling tool {target}")
    return found


def test_every_import_goes_down_a_layer_or_stays_in_its_own() -> None:
    assert violations() == []


def test_every_module_has_a_layer_below_the_public_face_or_is_a_tool() -> None:
    placed = {module_name(p): layer_of(module_name(p)) for p in PACKAGE.rglob("*.py")}
    face = [name for name, (layer, _, prefix) in placed.items() if prefix == "statemachines"]
    assert face == ["statemachines"], "a module that no layer names falls to the public face"


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        (
            "from statemachines.marketplace.market import Marketplace\n",
            "statemachines.machines.job",
            True,
        ),
        ("import statemachines\n", "statemachines.core.engine", True),
        ("from statemachines.publish import diagrams\n", "statemachines.verify.checker", True),
        (
            "importlib.import_module('statemachines.verify.checker')\n",
            "statemachines.marketplace.market",
            True,
        ),
        (
            "def f():\n    from statemachines.cli import main\n",
            "statemachines.rules.contract",
            True,
        ),
        ("from statemachines.core.money import Money\n", "statemachines.machines.job", False),
        (
            "from statemachines.machines.milestone import REVIEW\n",
            "statemachines.verify.checker",
            False,
        ),
    ],
)
def test_an_import_up_the_layers_is_caught(source: str, module: str, expected: bool) -> None:
    mine = layer_of(module)
    caught = False
    for target, _ in imports(ast.parse(source), module):
        theirs = layer_of(target)
        caught |= theirs[0] > mine[0] or {mine[2], theirs[2]} == SIBLINGS
    assert caught is expected

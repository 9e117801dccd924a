"""Reproducible installs: the lock covers pyproject.toml and was installed; a version; a licence."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import statemachines
from statemachines.cli import main

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$", re.M)


def _pins() -> list[tuple[str, str, str | None]]:
    """Every pin of the lock: (name, version, marker); a package may be pinned once per marker."""
    return [(canonicalize_name(m[1]), m[2], m[3]) for m in _PIN.finditer(LOCK)]


def _locked() -> dict[str, tuple[str, str | None]]:
    """The pin of each package that applies to this interpreter (or its only pin)."""
    out: dict[str, tuple[str, str | None]] = {}
    for name, pinned, marker in _pins():
        if name not in out or marker is None or Marker(marker).evaluate():
            out[name] = (pinned, marker)
    return out


def _required() -> list[Requirement]:
    project = PYPROJECT["project"]
    texts = [*project["dependencies"], *PYPROJECT["build-system"]["requires"]]
    for extra in project["optional-dependencies"].values():
        texts += extra
    return [Requirement(t) for t in texts]


def test_the_lock_pins_every_dependency_of_pyproject_to_a_version_it_allows() -> None:
    locked = _locked()

    for requirement in _required():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements/lock.txt: run bash scripts/lock"
        pinned, _ = locked[name]
        assert requirement.specifier.contains(pinned, prereleases=True), (
            f"the lock pins {name}=={pinned}, outside {requirement.specifier}: "
            "run bash scripts/lock"
        )


def test_every_pin_carries_its_hashes() -> None:
    entries = re.split(r"\n(?=[A-Za-z0-9])", LOCK.split("\n", 2)[2])

    assert len(entries) == len(_pins()) > 50
    assert all("--hash=sha256:" in entry for entry in entries)


def test_setup_installed_the_locked_versions() -> None:
    for name, (pinned, marker) in _locked().items():
        if marker is not None and not Marker(marker).evaluate():
            continue
        assert version(name) == pinned, f"{name}: run bash scripts/setup"


def test_the_version_has_one_source() -> None:
    assert statemachines.__version__ == version("statemachines") == PYPROJECT["project"]["version"]


def test_the_command_line_says_its_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])

    assert done.value.code == 0
    assert capsys.readouterr().out == f"statemachines {statemachines.__version__}\n"
    module = subprocess.run(
        [sys.executable, "-m", "statemachines", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert module.stdout == f"statemachines {statemachines.__version__}\n"


def test_the_licence_file_is_the_one_pyproject_names() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")

    assert PYPROJECT["project"]["license"] == "MIT"
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text

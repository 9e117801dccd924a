"""The rule catalogue in code: every rule ID a guard, deadline or effect cites.

Each :class:`Rule` is defined once, in the module for its machine, with a
one-line summary written for this project and the sources it was drawn from
(seed file names, or page keys from ``../shared/rulebook.md`` §1.2). The rulebook
is the spec of record; this package only restates it.

>>> RULES["MS-REVIEW-2"].sources
('P10', 'P11', 'P15', 'P17', 'P50')
>>> rule("ms-review-2")
Traceback (most recent call last):
...
statemachines.errors.DefinitionError: unknown rule ID 'ms-review-2': define it ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

from statemachines.errors import DefinitionError

__all__ = ["RULES", "SEEDS", "Rule", "register", "rule"]

RULE_ID = re.compile(r"[A-Z]+(?:-[A-Z0-9]+)+")
"""The shape of a rule ID: ``MS-REVIEW-2``, ``ACC-CLOSE-CL-4``, ``SINGLE-ACTIVE-D``."""

SEEDS = {
    "S0": "000_83dadd70a406c894.txt",
    "S1": "001_23b8128dddb6d3ea.txt",
    "S2": "002_41c3453167e89c82.txt",
    "S3": "003_ea89150c5655883c.txt",
    "S4": "004_b7f4952092422b7d.txt",
}
"""Seed keys used in ``sources`` and the files they name (in ``../shared/seeds/``)."""

_SOURCE = re.compile(
    r"(S[0-4](?: l\.\d+(?:-\d+)?)?|P\d\d(?: \(old(?:est)?\))?|rulebook [§C][\w.-]+)\Z"
)


def _check_sources(_: object, __: object, value: tuple[str, ...]) -> None:
    if not value:
        msg = "a rule needs at least one source"
        raise DefinitionError(msg)
    for source in value:
        if not _SOURCE.match(source):
            msg = (
                f"source {source!r} is not a seed key (S0..S4), a page key (P01..P57) "
                "or a rulebook anchor"
            )
            raise DefinitionError(msg)


@attrs.frozen
class Rule:
    """One business rule from the rulebook, restated in a sentence."""

    id: str = attrs.field()
    """Stable identifier from the rulebook (never renumbered or reused)."""

    machine: str
    """The machine whose table enforces it: ``milestone``, ``contract`` or ``account``."""

    summary: str = attrs.field(validator=attrs.validators.min_len(10))
    """What the rule says, in this project's own words."""

    sources: tuple[str, ...] = attrs.field(validator=_check_sources)
    """Where it comes from: seed keys (``S1 l.77``), page keys (``P10``) or rulebook anchors."""

    release: str = "v0.1"
    """The release whose scope includes it (rulebook, "Scope by release")."""

    not_a_transition: str | None = attrs.field(default=None, kw_only=True)
    """Why no machine table enforces it (a menu path, advice, something out of scope), for
    the rules the catalogue shows apart; ``None`` for every rule a table must cite."""

    @id.validator
    def _check_id(self, _: object, value: str) -> None:
        if not RULE_ID.fullmatch(value):
            msg = f"rule ID {value!r} does not look like 'MS-REVIEW-2'"
            raise DefinitionError(msg)

    @property
    def seed_files(self) -> tuple[str, ...]:
        """The seed file names among the sources (for the catalogue)."""
        return tuple(SEEDS[s[:2]] for s in self.sources if s.startswith("S"))


RULES: dict[str, Rule] = {}
"""Every defined rule, by ID."""


def register(rules: Iterable[Rule]) -> None:
    """Add rules to :data:`RULES`; an ID may be defined only once."""
    for r in rules:
        if r.id in RULES:
            msg = f"rule ID {r.id!r} is defined twice"
            raise DefinitionError(msg)
        RULES[r.id] = r


def rule(rule_id: str) -> Rule:
    """Look up a rule by ID, or raise :class:`DefinitionError` for an unknown ID."""
    try:
        return RULES[rule_id]
    except KeyError:
        msg = f"unknown rule ID {rule_id!r}: define it in statemachines/rules/ first"
        raise DefinitionError(msg) from None


def _load() -> None:
    # Each module of this package registers its rules on import; import them all
    # here so that ``RULES`` is complete as soon as the package is imported.
    import importlib  # noqa: PLC0415
    import pkgutil  # noqa: PLC0415

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{info.name}")


_load()

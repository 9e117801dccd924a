"""Assertions for tests of code built on statemachines: refused, not permitted, unchanged.

Each helper raises ``AssertionError`` with a message that says what was expected and what
happened, so it reads well under any test runner:

>>> from statemachines import ManualClock, Money
>>> from statemachines.testing.cast import ANA, START, standard_marketplace
>>> market = standard_marketplace(ManualClock(START))
>>> with assert_unchanged(market), refused("MS-1") as caught:
...     market.fire("contract", "C-f", "add_milestone", ANA, amount=Money(499))
Traceback (most recent call last):
AssertionError: expected a refusal citing ['MS-1'], got NotPermitted: ...
>>> from statemachines.testing.cast import PAT_CO
>>> with assert_unchanged(market), refused("MS-1") as caught:
...     market.fire("contract", "C-f", "add_milestone", PAT_CO, amount=Money(499))
>>> caught.error.reasons
('a milestone must be at least US$5.00, not US$4.99',)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from statemachines.core.snapshots import to_dict
from statemachines.errors import IllegalTransition, NotPermitted, TransitionRefused

__all__ = [
    "assert_illegal",
    "assert_not_permitted",
    "assert_refused",
    "assert_unchanged",
    "illegal",
    "not_permitted",
    "refused",
]

_CODE = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")
"""A snake_case word: an internal name (an event, a role code, a field) in a reason."""


def assert_refused(
    err: BaseException, *rule_ids: str, only: bool = False, readable: bool = True
) -> TransitionRefused:
    """*err* is a :class:`~statemachines.errors.TransitionRefused` citing every one of
    *rule_ids* (with *only*: those and no other), and (with *readable*) every reason is
    written for a person: not empty, no ``snake_case`` internal name. Returns *err*."""
    if not isinstance(err, TransitionRefused):
        msg = f"expected a refusal citing {list(rule_ids)}, got {type(err).__name__}: {err}"
        raise AssertionError(msg)
    cited = err.rule_ids
    missing = [r for r in rule_ids if r not in cited]
    if missing:
        msg = f"the refusal cites {list(cited)}, not {missing}: {err}"
        raise AssertionError(msg)
    extra = [r for r in cited if r not in rule_ids]
    if only and extra:
        msg = f"the refusal cites {extra} besides {list(rule_ids)}: {err}"
        raise AssertionError(msg)
    for violation in err.violations if readable else ():
        code = _CODE.search(violation.reason)
        if code is not None or not violation.reason.strip():
            msg = (
                f"the reason for {violation.rule_id} is not written for a person "
                f"({code.group(0) if code else 'empty'}): {violation.reason!r}"
            )
            raise AssertionError(msg)
    return err


def assert_not_permitted(err: BaseException, *rule_ids: str) -> NotPermitted:
    """*err* is a :class:`~statemachines.errors.NotPermitted` (a wrong role or party), and its
    message names every one of *rule_ids*. Returns *err*."""
    if not isinstance(err, NotPermitted):
        msg = f"expected the actor to be turned away, got {type(err).__name__}: {err}"
        raise AssertionError(msg)
    missing = [r for r in rule_ids if r not in str(err)]
    if missing:
        msg = f"the refusal does not name {missing}: {err}"
        raise AssertionError(msg)
    return err


def assert_illegal(err: BaseException) -> IllegalTransition:
    """*err* is an :class:`~statemachines.errors.IllegalTransition`: no edge for the event in
    the state (and not a refusal by a rule or a wrong actor). Returns *err*."""
    if not isinstance(err, IllegalTransition):
        msg = f"expected an illegal transition, got {type(err).__name__}: {err}"
        raise AssertionError(msg)
    return err


class _Caught:
    """What a ``with refused(...)`` block caught (``caught.error`` after the block)."""

    error: Any = None


@contextmanager
def _expecting(check: Callable[[BaseException], Any], what: str) -> Iterator[_Caught]:
    caught = _Caught()
    try:
        yield caught
    except Exception as err:  # checked: a wrong one fails as an assertion
        caught.error = check(err)
        return
    msg = f"expected {what}, but nothing was raised"
    raise AssertionError(msg)


def refused(*rule_ids: str, only: bool = False) -> Any:
    """A ``with`` block that must raise a refusal citing *rule_ids* (see :func:`assert_refused`)."""
    return _expecting(
        lambda err: assert_refused(err, *rule_ids, only=only), f"a refusal citing {list(rule_ids)}"
    )


def not_permitted(*rule_ids: str) -> Any:
    """A ``with`` block that must turn the actor away (see :func:`assert_not_permitted`)."""
    return _expecting(
        lambda err: assert_not_permitted(err, *rule_ids), "the actor to be turned away"
    )


def illegal() -> Any:
    """A ``with`` block that must raise an illegal transition (see :func:`assert_illegal`)."""
    return _expecting(assert_illegal, "an illegal transition")


def _everything(market: Any) -> dict[str, Any]:
    if hasattr(market, "all"):  # a Marketplace: every aggregate of every kind
        from statemachines.marketplace.market import KINDS  # noqa: PLC0415  (values first)

        return {f"{kind} {agg.id}": to_dict(agg) for kind in KINDS for agg in market.all(kind)}
    return {"aggregate": to_dict(market)}


@contextmanager
def assert_unchanged(target: Any) -> Iterator[None]:
    """A ``with`` block after which *target* (a marketplace: every aggregate in it; or one
    aggregate) is exactly as before, field by field and history included: the block is
    expected to fail (catch its error inside), and a failed command changes nothing."""
    before = _everything(target)
    yield
    after = _everything(target)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        msg = f"a failed command changed {', '.join(changed)}"
        raise AssertionError(msg)

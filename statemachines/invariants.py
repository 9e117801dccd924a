"""Invariants of rulebook §6 as named predicates, shared by property tests and checkers.

Each predicate takes an aggregate (or a group of them) and returns a list of
problems: an empty list means the invariant holds. A problem is a sentence that
names the aggregate and the values that break the rule.

>>> from statemachines import Milestone, Money
>>> ms = Milestone(id="M-1", contract="C-1", client="co-1", freelancer="fl-1", amount=Money(900))
>>> check_milestone(ms)
[]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from statemachines.milestone import Milestone, MilestoneState
from statemachines.rules.milestone import MILESTONE_MIN, REVIEW_WINDOW

__all__ = [
    "MILESTONE_INVARIANTS",
    "check_milestone",
    "inv_ms_1_single_active_milestone",
    "inv_ms_2_review_timer",
    "inv_ms_3_no_early_or_stale_auto_release",
    "inv_ms_4_minimum",
    "inv_ms_money",
]

Invariant = Callable[[Any], list[str]]

_M = MilestoneState
_ACTIVE = frozenset({_M.FUNDED, _M.SUBMITTED, _M.CHANGES_REQUESTED, _M.RESUBMITTED})
_REVIEWING = frozenset({_M.SUBMITTED, _M.RESUBMITTED})


def inv_ms_1_single_active_milestone(milestones: Iterable[Milestone]) -> list[str]:
    """INV-MS-1: at most one milestone of a contract is funded or under review."""
    active = [m.id for m in milestones if m.state in _ACTIVE]
    if len(active) > 1:
        return [f"{len(active)} milestones are active at once: {', '.join(active)}"]
    return []


def inv_ms_2_review_timer(ms: Milestone) -> list[str]:
    """INV-MS-2: in review iff one review deadline, due 14 days after the latest submission."""
    reviews = [d for d in ms.deadlines if d.event == "review_lapse"]
    if ms.state in _REVIEWING:
        if len(reviews) != 1:
            return [f"{ms.id} is {ms.state.value} with {len(reviews)} review deadlines"]
        assert ms.submitted_at is not None
        expected = ms.submitted_at + REVIEW_WINDOW
        if reviews[0].due != expected:
            return [f"{ms.id} review is due {reviews[0].due}, expected {expected}"]
        return []
    if reviews:
        return [f"{ms.id} is {ms.state.value} but a review deadline is still live"]
    return []


def inv_ms_3_no_early_or_stale_auto_release(ms: Milestone) -> list[str]:
    """INV-MS-3: an automatic release happens exactly at the deadline of the latest submission.

    No request for changes or approval may stand between that submission and
    the automatic release.
    """
    problems = []
    last_submit = None
    for decision in ms.history:
        if decision.event in {"submit", "resubmit"}:
            last_submit = decision
        elif decision.event in {"request_changes", "approve"}:
            last_submit = None
        elif decision.event == "review_lapse":
            if last_submit is None:
                problems.append(f"{ms.id} was auto-approved without a live submission")
            elif decision.at != last_submit.at + REVIEW_WINDOW:
                problems.append(
                    f"{ms.id} was auto-approved at {decision.at}, "
                    f"not 14 days after the submission at {last_submit.at}"
                )
    return problems


def inv_ms_4_minimum(ms: Milestone) -> list[str]:
    """INV-MS-4: every funded milestone holds at least US$5.00."""
    if ms.funded and ms.funded < MILESTONE_MIN:
        return [f"{ms.id} was funded with {ms.funded}, below {MILESTONE_MIN}"]
    return []


def inv_ms_money(ms: Milestone) -> list[str]:
    """INV-MONEY-2 for one milestone: released never exceeds funded plus extra charged."""
    if ms.released.cents > ms.funded.cents + ms.extra.cents:
        return [f"{ms.id} released {ms.released} but only {ms.funded} + {ms.extra} was charged"]
    if ms.state is _M.APPROVED and not ms.released:
        return [f"{ms.id} is approved but released nothing"]
    return []


MILESTONE_INVARIANTS: tuple[Invariant, ...] = (
    inv_ms_2_review_timer,
    inv_ms_3_no_early_or_stale_auto_release,
    inv_ms_4_minimum,
    inv_ms_money,
)
"""Invariants of a single milestone (INV-MS-1 is checked over a contract's milestones)."""


def check_milestone(ms: Milestone) -> list[str]:
    """Every problem the single-milestone invariants find in *ms*."""
    return [problem for invariant in MILESTONE_INVARIANTS for problem in invariant(ms)]

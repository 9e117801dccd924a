"""Rules for mid-contract feedback (rulebook §3.18 FB-5). Source: help-centre page P32."""

from __future__ import annotations

from datetime import timedelta

from statemachines.rules import Rule, register

__all__ = ["MID_FEEDBACK_EXPIRY", "MID_FEEDBACK_GAP", "MID_FEEDBACK_RULES"]

MID_FEEDBACK_GAP = timedelta(days=30)
"""FB-5: the contract is at least this old, paid within this long, and the client has not left
feedback within this long."""

MID_FEEDBACK_EXPIRY = timedelta(days=14)
"""FB-5: an unanswered request for mid-contract feedback lapses after this long."""

MID_FEEDBACK_RULES = (
    Rule(
        "FB-5",
        "mid_feedback",
        "During a contract the freelancer side may ask the client for public feedback that does "
        "not count towards the Job Success Score, once the contract is 30 days old, a payment "
        "was made in the last 30 days and the client left no feedback in the last 30 days; a "
        "request lapses after 14 days and only one is open at a time.",
        ("P32",),
        release="v0.2",
    ),
)

register(MID_FEEDBACK_RULES)

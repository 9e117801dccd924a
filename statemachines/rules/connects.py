"""Rules for Connects, the credits a proposal spends (rulebook §3.9 JOB-4, PROP-3; §3.8 TEAM-8).

Source: help-centre page P45 (returned Connects) and P43 (agencies share their Connects).
"""

from __future__ import annotations

from statemachines.rules import Rule, register

__all__ = ["CONNECTS_RULES"]

CONNECTS_RULES = (
    Rule(
        "JOB-4",
        "connects",
        "Connects spent on a proposal come back when the client cancels the project before any "
        "contract is made, or when the platform removes the post for breaking its terms; they "
        "come back once.",
        ("P45",),
        release="v0.2",
    ),
    Rule(
        "PROP-3",
        "connects",
        "Connects do not come back when the freelancer withdraws, the client declines or hires "
        "someone else, or the post expires without a hire.",
        ("P45",),
        release="v0.2",
    ),
    Rule(
        "CONNECTS-D",
        "connects",
        "A proposal spends Connects only from a balance that holds them, once per proposal, so a "
        "balance never goes below zero (decision, ADR 0066).",
        ("rulebook §6.5",),
        release="v0.2",
    ),
)

register(CONNECTS_RULES)

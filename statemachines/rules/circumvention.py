"""Rules on taking a platform relationship off the platform (rulebook §3.7 CIRC-1..3).

Source: help-centre page P39 (circumvention) and seed ``003_ea89150c5655883c.txt`` (S3,
line 24: circumvention can lead to suspension). CIRC-4 is defined with the account rules.
"""

from __future__ import annotations

from statemachines.rules import Rule, register

__all__ = ["CIRCUMVENTION_RULES", "NON_CIRCUMVENTION_MONTHS"]

NON_CIRCUMVENTION_MONTHS = 24
"""CIRC-1, CIRC-2: how long a relationship formed on the platform must stay on it."""

CIRCUMVENTION_RULES = (
    Rule(
        "CIRC-1",
        "relationship",
        "For 24 months from the start of a relationship formed on the platform, the client and "
        "the freelancer must not pay or be paid outside it; asking or agreeing to is already "
        "circumvention.",
        ("P39",),
        release="v0.2",
    ),
    Rule(
        "CIRC-2",
        "relationship",
        "No circumvention where the conversion fee was paid, the relationship started off the "
        "platform (bring your own client), or it has lasted 24 months on the platform.",
        ("P39",),
        release="v0.2",
    ),
    Rule(
        "CIRC-3",
        "relationship",
        "Confirmed circumvention suspends the account that took part, which loses the use of "
        "the platform, and the conversion fee may be charged.",
        ("P39", "S3 l.24"),
        release="v0.2",
    ),
)

register(CIRCUMVENTION_RULES)

"""Rules on an account's standing: Terms of Service notices and dispute-driven suspension.

Rulebook §3.7 (SUSP-3, SUSP-5). Sources: help-centre pages P51 (the Terms of Service
compliance notice) and P08 (old: excessive hourly disputes against an agency's freelancers).
The dispute threshold is not in any source: it is a documented parameter (ADR 0068).
"""

from __future__ import annotations

from datetime import timedelta

from statemachines.rules import Rule, register

__all__ = [
    "DISPUTE_WINDOW",
    "EXCESSIVE_DISPUTES",
    "NOTICE_REVIEW",
    "STANDING_RULES",
]

NOTICE_REVIEW = timedelta(days=30)
"""SUSP-5: a compliance notice is reviewed after 30 days."""

EXCESSIVE_DISPUTES = 5
"""SUSP-3: hourly disputes against an agency's freelancers within :data:`DISPUTE_WINDOW` that
count as excessive (an assumed figure; ADR 0068)."""

DISPUTE_WINDOW = timedelta(days=90)
"""SUSP-3: the period over which disputes are counted (assumed; ADR 0068)."""

STANDING_RULES = (
    Rule(
        "SUSP-3",
        "standing",
        "Too many hourly disputes against an agency's freelancers may get the whole agency "
        "suspended.",
        ("P08 (old)",),
        release="v0.2",
    ),
    Rule(
        "SUSP-5",
        "standing",
        "A Terms of Service compliance notice warns that the account may be closed if client "
        "satisfaction is still low after 30 days; the notice itself restricts nothing.",
        ("P51",),
        release="v0.2",
    ),
)

register(STANDING_RULES)

"""Rules shared by several machines: who on each side may act (rulebook §3.8)."""

from __future__ import annotations

from statemachines.rules import Rule, register

__all__ = ["COMMON_RULES"]

COMMON_RULES = (
    Rule(
        "TEAM-5",
        "account",
        "On the client side only the owner, admins and full hiring managers may hire, approve, "
        "pay, end contracts or leave feedback; source-talent-only members may not.",
        ("P40 (old)",),
    ),
    Rule(
        "TEAM-8",
        "account",
        "In an agency, business managers accept offers and change terms, members and business "
        "managers submit milestones, only the member on the contract logs time, and earnings "
        "go to the agency.",
        ("P43",),
        release="v0.1",
    ),
)

register(COMMON_RULES)

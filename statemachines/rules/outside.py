"""Rules that are not transitions: menu paths, advice and what is out of scope.

Each is catalogued with the reason no machine table enforces it (``not_a_transition``);
the rule catalogue shows them apart. Sources are the seeds and pages the rulebook cites.
"""

from __future__ import annotations

from statemachines.rules import Rule, register

__all__ = ["OUTSIDE_RULES"]

OUTSIDE_RULES = (
    Rule(
        "CTR-END-1",
        "contract",
        "A contract is ended from the contract's page: My Jobs or Deliver work, Your active "
        "contracts, the contract, its options menu, End contract, then a confirmation.",
        ("S1 l.12-17", "S3 l.33-38"),
        release="v0.2",
        not_a_transition="a path through the product's menus; the event it leads to is "
        "end_contract (CTR-GEN-1)",
    ),
    Rule(
        "CTR-GEN-2",
        "contract",
        "Giving two weeks' notice before ending a contract is professional advice, not a rule "
        "of the platform.",
        ("S4 l.7-9",),
        release="v0.2",
        not_a_transition="etiquette from a third-party blog; ending needs no notice "
        "(CTR-GEN-1, C-19), so nothing may refuse an end for it",
    ),
    Rule(
        "CTR-HR-4",
        "contract",
        "Contracts paid through Upwork Payroll always show as paused and are billed separately, "
        "outside the weekly cycle.",
        ("P05", "P34"),
        release="v0.2",
        not_a_transition="Payroll contracts are out of scope: they never enter the weekly "
        "billing cycle these machines model",
    ),
    Rule(
        "ACC-CLOSE-CL-7",
        "account",
        "A client company is closed from Settings, My Info, Close account, at the bottom of the "
        "page.",
        ("S0 l.22-24",),
        release="v0.2",
        not_a_transition="a path through the product's menus; the event it leads to is "
        "request_close (ACC-CLOSE-CL-1)",
    ),
    Rule(
        "ACC-CLOSE-AG-9",
        "account",
        "An agency is closed from Settings, Agency Profile, Close my agency, then confirmed when "
        "the requirements are met; support is contacted while logged in as the agency.",
        ("S0 l.39-42",),
        release="v0.2",
        not_a_transition="a path through the product's menus; the event it leads to is "
        "request_close (ACC-CLOSE-AG-1, ACC-GEN-7)",
    ),
    Rule(
        "ACC-ALT-1",
        "account",
        "Instead of closing, a user may make the profile private, pause availability or turn off "
        "notifications.",
        ("S2 l.81-89",),
        release="v0.2",
        not_a_transition="profile settings, not account states: none of them changes what the "
        "account may do",
    ),
)

register(OUTSIDE_RULES)

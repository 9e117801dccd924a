"""Mediation assistance in the marketplace, on every store: asked for within 30 days of a
release it opens a case support closes without a ruling; after that it is refused and
leaves nothing behind, and only a refund request remains (FPD-9, ADR 0078)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import (
    Actor,
    Contract,
    InvalidInput,
    ManualClock,
    Money,
    NotPermitted,
    Role,
    TransitionRefused,
    to_dict,
)
from statemachines.machines.account.table import Account, AccountType
from statemachines.marketplace.commands import OpenCase, RequestAssistance
from statemachines.marketplace.market import Marketplace
from statemachines.rules.fixed_dispute import MEDIATION_ASSIST_WINDOW
from statemachines.testing.cast import ANA as OWNER
from statemachines.testing.cast import FL as FREELANCER
from statemachines.testing.cast import SUP as SUPPORT
from tests.marketplace.conftest import MakeMarket

STRANGER = Actor("cy", Role.CLIENT_OWNER, party="co-2")
SECOND = timedelta(seconds=1)


def _released(make_market: MakeMarket, clock: ManualClock) -> Marketplace:
    """Contract C-1 whose first milestone the client released now: payment C-1-P1."""
    market = make_market(clock)
    market.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    market.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    market.add_contract(
        Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=clock.now())
    )
    market.fire("contract", "C-1", "add_milestone", OWNER, amount=Money(30_000))
    market.fire("contract", "C-1", "fund_milestone", OWNER)
    market.fire("contract", "C-1", "release_milestone", OWNER)
    assert market.get("contract", "C-1").payments[0].id == "C-1-P1"
    return market


@pytest.mark.rule("FPD-9", "CTR-END-11")
def test_fpd_9_assistance_asked_for_within_30_days_of_a_release_opens_a_case_that_rules_nothing(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _released(make_market, clock)
    clock.set(clock.now() + MEDIATION_ASSIST_WINDOW)  # the last moment it can be asked
    contract = to_dict(market.get("contract", "C-1"))

    outcome = market.handle(
        RequestAssistance("C-1", "C-1-P1", "A-1", OWNER, summary="the logo is not vector")
    )

    assert [(ch.kind, ch.key, ch.decision.event) for ch in outcome.changes] == [
        ("assistance", "A-1", "request")
    ]
    case = market.get("assistance", "A-1")
    assert (case.state.value, case.requested_side, case.summary) == (
        "open",
        "client",
        "the logo is not vector",
    )
    market.fire("assistance", "A-1", "close", SUPPORT, note="both agreed on a revision")
    case = market.get("assistance", "A-1")
    assert (case.state.value, case.note, case.closed_at) == (
        "closed",
        "both agreed on a revision",
        clock.now(),
    )
    assert to_dict(market.get("contract", "C-1")) == contract  # no ruling, no money moved


@pytest.mark.rule("FPD-9", "REF-REQ-1")
def test_fpd_9_after_30_days_assistance_is_refused_and_only_a_refund_request_remains(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _released(make_market, clock)
    clock.set(clock.now() + MEDIATION_ASSIST_WINDOW + SECOND)

    with pytest.raises(TransitionRefused) as err:
        market.handle(RequestAssistance("C-1", "C-1-P1", "A-1", OWNER)).result()

    assert err.value.rule_ids == ("FPD-9",)
    assert err.value.reasons == (
        "payment C-1-P1 was released on 2026-03-02 09:00:00 UTC; mediation assistance can be "
        "asked for until 2026-04-01 09:00:00 UTC, and a refund request after that",
    )
    assert market.all("assistance") == []
    market.handle(OpenCase("refund_request", "C-1", "R-1", payment="C-1-P1")).result()
    market.fire("refund_request", "R-1", "request", OWNER, amount=Money(10_000))
    assert market.get("refund_request", "R-1").state.value == "requested"


@pytest.mark.rule("FPD-9")
def test_fpd_9_either_side_may_ask_and_withdraw_but_nobody_else(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _released(make_market, clock)

    with pytest.raises(NotPermitted):
        market.handle(RequestAssistance("C-1", "C-1-P1", "A-1", STRANGER)).result()
    assert market.all("assistance") == []
    market.handle(RequestAssistance("C-1", "C-1-P1", "A-1", FREELANCER)).result()
    with pytest.raises(TransitionRefused, match="only the freelancer side, which asked"):
        market.fire("assistance", "A-1", "withdraw", OWNER)
    market.fire("assistance", "A-1", "withdraw", FREELANCER)

    assert market.get("assistance", "A-1").state.value == "withdrawn"


@pytest.mark.rule("FPD-9", "MS-DSP-2")
def test_fpd_9_assistance_is_about_released_escrow_only(
    make_market: MakeMarket, clock: ManualClock
) -> None:
    market = _released(make_market, clock)
    market.fire("contract", "C-1", "pay_bonus", OWNER, amount=Money(5_000))

    with pytest.raises(InvalidInput, match=r"\(C-1-P2\) did not release escrow"):
        market.handle(RequestAssistance("C-1", "C-1-P2", "A-1", OWNER)).result()
    with pytest.raises(InvalidInput, match="contract C-1 made no payment 'C-1-P9'"):
        market.handle(RequestAssistance("C-1", "C-1-P9", "A-1", OWNER)).result()
    assert market.all("assistance") == []

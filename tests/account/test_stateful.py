"""A Hypothesis state machine over the marketplace, with every role, checking §6.1 invariants.

Each step fires a random event on a random aggregate for a random actor (owners,
admins, hiring managers, source-talent members, colleagues, agency people,
strangers, support, the account team), or lets time pass so that every
deadline fires. After every step INV-ACC-1..8, INV-TEAM-1..2 and INV-TIME-4
must hold; INV-ACC-9 and the soft part of INV-ACC-3 are checked on the step
that could break them; a refused or illegal event must change nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import event as event_note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from statemachines import (
    Actor,
    Contract,
    InvalidInput,
    ManualClock,
    Money,
    NotPermitted,
    Role,
    TransitionError,
    to_dict,
)
from statemachines.account import (
    Account,
    AccountState,
    AccountType,
    SuspensionReason,
)
from statemachines.invariants_account import (
    check_accounts,
    inv_acc_3_settled_with_nothing_left,
    inv_acc_9_no_activity_while_frozen,
)
from statemachines.marketplace import Marketplace, Terms
from tests.account.conftest import (
    ADA,
    ADA_SELF,
    AM,
    ANA,
    AO,
    BM,
    ENT,
    EVA,
    EVE,
    FL,
    HAL,
    OTHER_FL,
    OZ,
    PAT_CO,
    PAT_FL,
    SAM,
    SUP,
    TOM,
)
from tests.conftest import START

AO_FL = Actor("ao", Role.FREELANCER, party="ao")
AM_FL = Actor("am", Role.FREELANCER, party="am")
PAT_HM = Actor("hal", Role.HIRING_MANAGER, party="co-9")
ACTORS = (
    FL, OTHER_FL, ANA, ADA, ADA_SELF, HAL, SAM, TOM, OZ, PAT_FL, PAT_CO, PAT_HM, AO, AO_FL,
    BM, AM, AM_FL, EVE, EVA, ENT, SUP,
)  # fmt: skip
"""Every role the rulebook names except the platform, which acts through time."""

OWNERS = {"co-1": ANA, "fl-1": FL, "pat": PAT_CO, "ag-1": AO, "ent-1": EVE, "ao": AO_FL}
"""Each account that can be closed by request, and the person who owns or holds it."""
WRITERS = {"fl-1": FL, "pat": PAT_FL, "ao": AO_FL}
"""Freelancer-side holders: they withdraw proposals and money."""
CLIENTS = {"co-1": ANA, "co-9": PAT_CO, "ent-1": EVE}
"""The owner of each client company."""

CONTRACT_EVENTS = (
    "log_time", "end_contract", "pause", "restart", "add_milestone", "fund_milestone",
)  # fmt: skip
HOURS = (1, 3, 5, 24, 24 * 3, 24 * 6, 24 * 30, 24 * 366 * 5)


def _related(agg: Any) -> list[Actor]:
    """Actors who take part in *agg*: its holder, owner, members and parties, and support."""
    names = {
        getattr(agg, field, None)
        for field in ("id", "owner", "company", "team", "person", "freelancer", "client",
                      "author", "member")
    } - {None}  # fmt: skip
    return [a for a in ACTORS if a.id in names or a.party in names] + [SUP]


FIXED: dict[str, dict[str, Any]] = {
    "mark_candidate": {"freelancer": "fl-1", "status": "shortlisted"},
    "log_time": {"minutes": 60},
}


def _payload(event: str, agg: Any, data: st.DataObject) -> dict[str, Any]:
    choices: dict[str, tuple[str, st.SearchStrategy[Any]]] = {
        "request_close": ("confirm", st.booleans()),
        "delete_permanently": ("confirm", st.booleans()),
        "remove": ("whole_company", st.booleans()),
        "withdraw": ("amount", st.sampled_from((Money(700), Money(10_000)))),
        "pay_owed": ("amount", st.sampled_from((Money(700), Money(10_000)))),
        "add_milestone": ("amount", st.sampled_from((Money(700), Money(10_000)))),
        "suspend": ("reason", st.sampled_from(list(SuspensionReason))),
        "confirm_reactivation": (
            "token",
            st.sampled_from((getattr(agg, "link_token", None) or "stale", "stale")),
        ),
    }
    if event in choices:
        name, strategy = choices[event]
        return {name: data.draw(strategy, label=name)}
    return dict(FIXED.get(event, {}))


class MarketplaceMachine(RuleBasedStateMachine):
    """Random people act on a small marketplace while time runs."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        m = self.market = Marketplace(clock=self.clock)
        for acc in (
            Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"),
            Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"),
            Account(id="pat", type=AccountType.COMBINED, owner="pat", company="co-9"),
            Account(id="ao", type=AccountType.FREELANCER, owner="ao", agency="ag-1"),
            Account(id="ag-1", type=AccountType.AGENCY, owner="ao", company="ag-1"),
            Account(id="am", type=AccountType.FREELANCER, owner="am", agency="ag-1"),
            Account(id="ent-1", type=AccountType.ENTERPRISE, owner="eve", company="ent-1"),
        ):
            m.open_account(acc)
        m.invite("co-1", "ada", Role.CLIENT_ADMIN, ANA)
        m.invite("co-1", "hal", Role.HIRING_MANAGER, ANA)
        m.invite("co-1", "sam", Role.SOURCING_MEMBER, ANA)
        m.invite("co-1", "tom", Role.TEAM_MEMBER, ANA)
        m.invite("ag-1", "am", Role.AGENCY_MEMBER, AO)
        m.invite("ag-1", "bm", Role.BUSINESS_MANAGER, AO)
        m.invite("ent-1", "eva", Role.CLIENT_ADMIN, EVE)
        m.draft_job("J-1", "co-1")
        m.draft_job("J-2", "co-9")
        m.draft_job("J-3", "ent-1")
        m.draft_proposal("P-1", "J-1", "fl-1", terms=Terms(hourly=True, rate=Money(3_000)))
        m.draft_proposal("P-2", "J-1", "ag-1", agency=True, author="am")
        m.draft_proposal("P-3", "J-2", "fl-1")
        m.draft_proposal("P-4", "J-3", "ao")
        m.add_contract(
            Contract.hourly("C-h", client="co-1", freelancer="fl-1", rate=Money(5_000),
                            started_at=START),
            contact="hal",
        )  # fmt: skip
        m.add_contract(Contract.fixed("C-f", client="co-9", freelancer="fl-1", started_at=START))
        m.add_contract(
            Contract.hourly("C-a", client="ent-1", freelancer="ag-1", rate=Money(4_000),
                            started_at=START, agency=True, member="am"),
        )  # fmt: skip
        self.targets = [
            (kind, agg.id)
            for kind in ("account", "membership", "job", "proposal", "contract")
            for agg in m.all(kind)
        ]

    def _account_states(self) -> dict[str, AccountState]:
        states: dict[str, AccountState] = {}
        for acc in self.market.all("account"):
            states[acc.id] = acc.state
            if acc.company is not None and not acc.type.team_only:
                states[acc.company] = acc.state
        return states

    def _check_settled(self, before: dict[str, AccountState]) -> None:
        for acc in self.market.all("account"):
            was = before.get(acc.id)
            left = was is AccountState.CLOSING and acc.state is not AccountState.CLOSING
            if left and acc.history[-1].event == "settle":
                assert inv_acc_3_settled_with_nothing_left(self.market, acc) == []

    @rule(data=st.data())
    def someone_acts(self, data: st.DataObject) -> None:
        kind, key = data.draw(st.sampled_from(self.targets), label="target")
        agg = self.market.get(kind, key)
        flow = self.market._flows[kind]
        events = CONTRACT_EVENTS if kind == "contract" else flow.spec.events
        event = data.draw(st.sampled_from(events), label="event")
        near = _related(agg)
        actor = data.draw(
            st.one_of(st.sampled_from(near), st.sampled_from(ACTORS))
            if near
            else st.sampled_from(ACTORS),
            label="actor",
        )
        self._attempt(kind, key, event, actor, _payload(event, agg, data))

    def _attempt(
        self, kind: str, key: str, event: str, actor: Actor, payload: dict[str, Any]
    ) -> None:
        agg = self.market.get(kind, key)
        before_states = self._account_states()
        before = to_dict(agg)
        try:
            decision = self.market.fire(kind, key, event, actor, **payload)
        except (TransitionError, InvalidInput) as err:
            assert to_dict(agg) == before, f"{type(err).__name__} changed {key}"
            event_note(f"{type(err).__name__}")
            if kind == "account" and event == "request_close" and isinstance(err, NotPermitted):
                assert agg.state is before_states[key]
            return
        event_note(f"accepted {kind}.{event}")
        assert inv_acc_9_no_activity_while_frozen(before_states, kind, agg, decision) == []
        self._check_settled(before_states)

    @rule(data=st.data())
    def someone_clears_a_blocker(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(OWNERS)), label="account")
        acc = self.market.account(key)
        ob = self.market.obligations(acc, self.clock.now())
        owner = OWNERS[key]
        options: list[tuple[str, str, str, Actor, dict[str, Any]]] = [
            (
                "contract",
                c.id,
                "end_contract",
                CLIENTS[self.market.get("contract", c.id).client],
                {},
            )
            for c in ob.contracts
            if c.state in {"active", "paused"}
        ]
        writer = AM if acc.type is AccountType.AGENCY else WRITERS.get(key, FL)
        options += [("proposal", p, "withdraw", writer, {}) for p in ob.proposals]
        answerer = BM if acc.type is AccountType.AGENCY else WRITERS.get(key, FL)
        options += [("proposal", p, "decline_offer", answerer, {}) for p in ob.offers]
        options += [("job", j, "remove_posting", owner, {}) for j in ob.jobs]
        options += [
            ("membership", f"{acc.company}/{person}", "remove", owner, {}) for person in ob.members
        ]
        if ob.owed:
            options.append(("account", key, "pay_owed", owner, {"amount": ob.owed}))
        if ob.available:
            options.append(("account", key, "withdraw", writer, {"amount": ob.available}))
        if options:
            self._attempt(*data.draw(st.sampled_from(options), label="clear"))

    @rule(data=st.data())
    def hiring_moves_on(self, data: st.DataObject) -> None:
        """Post the job, send the proposal, make the offer, accept it: one step at a time."""
        key = data.draw(st.sampled_from(("P-1", "P-2", "P-3", "P-4")), label="proposal")
        p = self.market.get("proposal", key)
        job = self.market.get("job", p.job)
        writer = {"fl-1": FL, "ag-1": AM, "ao": AO_FL}[p.freelancer]
        answerer = BM if p.agency else writer
        client = CLIENTS[p.company]
        if job.state.value != "open":
            event = "repost" if job.state.value in {"closed", "expired"} else "post"
            self._attempt("job", job.id, event, client, {})
        elif p.state.value == "draft":
            self._attempt("proposal", key, "submit", writer, {})
        elif p.state.value == "submitted":
            self._attempt("proposal", key, "send_offer", client, {})
        elif p.state.value == "offer_pending":
            self._attempt("proposal", key, "accept_offer", answerer, {})

    @rule(
        data=st.data(),
        event=st.sampled_from(
            ("suspend", "reinstate", "permanent_close", "support_reactivate", "delete_permanently")
        ),
    )
    def support_steps_in(self, data: st.DataObject, event: str) -> None:
        key = data.draw(st.sampled_from(sorted(a.id for a in self.market.all("account"))))
        payload: dict[str, Any] = {}
        if event == "suspend":
            payload["reason"] = data.draw(st.sampled_from(list(SuspensionReason)))
        elif event == "delete_permanently":
            payload["confirm"] = True
        self._attempt("account", key, event, SUP, payload)

    @rule(data=st.data(), hours=st.sampled_from((0, 3, 4, 5)))
    def a_holder_reactivates(self, data: st.DataObject, hours: int) -> None:
        key = data.draw(st.sampled_from(sorted(OWNERS)), label="account")
        holder = WRITERS.get(key, OWNERS[key])
        self._attempt("account", key, "request_reactivation_link", holder, {})
        self.clock.advance(hours=hours)
        token = self.market.account(key).link_token or "none"
        self._attempt("account", key, "confirm_reactivation", holder, {"token": token})

    @rule(data=st.data())
    def an_owner_closes_when_allowed(self, data: st.DataObject) -> None:
        closers = {**OWNERS, "ent-1": ENT}
        key = data.draw(st.sampled_from(sorted(closers)), label="account")
        verdict = self.market.explain("account", key, "request_close", closers[key])
        before = self._account_states()
        if verdict.rule_ids == ("ACC-GEN-7",):
            self.market.fire("account", key, "request_close", closers[key], confirm=True)
            self._check_settled(before)

    @rule(hours=st.sampled_from(HOURS))
    def time_passes(self, hours: int) -> None:
        before = self._account_states()
        self.clock.advance(hours=hours)
        self.market.advance()
        self._check_settled(before)

    @invariant()
    def account_invariants_hold(self) -> None:
        assert check_accounts(self.market) == []
        for acc in self.market.all("account"):
            if acc.state is not AccountState.ACTIVE:
                event_note(f"reached {acc.type.value} {acc.state.value}")

    @invariant()
    def time_never_runs_backwards(self) -> None:
        for acc in self.market.all("account"):
            times = [d.at for d in acc.history]
            assert times == sorted(times)
            assert all(t <= self.clock.now() + timedelta(0) for t in times)


TestMarketplace = MarketplaceMachine.TestCase

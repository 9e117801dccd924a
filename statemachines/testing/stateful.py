"""A Hypothesis state machine over the whole marketplace, for users to subclass.

:class:`MarketplaceMachine` puts the kit's world
(:func:`~statemachines.testing.cast.standard_marketplace`) on a manual clock and lets random
people act on it while time runs: every role of the rulebook, right and wrong parties,
money moved through whole contract lives, accounts wound down and reactivated. After every
step the account invariants (INV-ACC-1..8, INV-TEAM-1..2, INV-TIME-4) must hold; INV-ACC-9
and the soft part of INV-ACC-3 are checked on the step that could break them; a refused,
illegal or not-permitted event must change nothing, and every refusal must explain itself
in words (no internal names).

**Subclass it** to test your own code beside the domain: add ``@rule``\\ s and
``@invariant``\\ s, and override :meth:`MarketplaceMachine.on_events`, which receives every
domain event of each step (accepted decisions, cascades and deadlines included) in order,
to keep your own read model in step; :meth:`MarketplaceMachine.make_marketplace` to build
another world or use another store. ``docs/testing.md`` walks through an example.

**Swarm testing.** Picking every rule, aggregate and actor uniformly makes every run look
alike: a little of everything, and nothing deep. Swarm testing (Groce et al., ISSTA 2012)
switches features *off* at random for a whole run, so that each run spends its steps on
fewer things and goes further with them. Hypothesis already does this for rules (its
``RuleStrategy`` draws one ``FeatureFlags`` per test case that switches off a random share
of the rule *functions*). It cannot see inside a rule, though, and the variety lives there:
``someone_acts`` alone spans five kinds of aggregate, every event and 21 actors. So
``choose_swarm`` (an ``@initialize`` rule) draws a :class:`Swarm` the same way, one level
down: which kinds of aggregate random events go to, which groups of actors fire them, which
accounts the holder rules work on, and which time steps exist. Each group keeps at least one
member, and every draw shrinks towards all on.

**Rare states.** Uniform runs seldom reach the states of :data:`RARE_STATES` (an agency
closing, a contract refunded, a reactivation link opened a minute before it expires or at
the moment it does). Dedicated rules take them there: ``an_account_winds_down`` clears one
blocker at a time and closes when only the confirmation is missing (ACC-GEN-7);
``fixed_price_money_moves`` and ``hourly_money_moves`` walk a contract through funding,
work, payment, its end (ESC-1 when the client pays nothing of what is held), the escrow
refund (ESC-2..4) and refunds (REF-180-7); ``a_holder_reactivates`` opens the link 4h or
3h59m after asking for it (ACC-REACT-2). Each run records the rare states it reached in
:attr:`MarketplaceMachine.reached` and as Hypothesis ``event()`` notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, NamedTuple

import attrs
from hypothesis import event as event_note
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from statemachines.core.actors import Actor
from statemachines.core.clock import ManualClock
from statemachines.core.engine import Decision
from statemachines.core.money import Money
from statemachines.core.snapshots import to_dict
from statemachines.errors import InvalidInput, NotPermitted, TransitionError, TransitionRefused
from statemachines.machines.account.table import AccountState, AccountType, SuspensionReason
from statemachines.machines.contract.table import Contract, ContractState
from statemachines.marketplace.invariants import (
    check_accounts,
    inv_acc_3_settled_with_nothing_left,
    inv_acc_9_no_activity_while_frozen,
)
from statemachines.marketplace.market import KINDS, Marketplace
from statemachines.testing.assertions import assert_refused
from statemachines.testing.cast import (
    ACTOR_GROUPS,
    AM,
    AM_FL,
    ANA,
    AO,
    AO_FL,
    BM,
    CAST,
    ENT,
    EVE,
    FL,
    PAT_CO,
    PAT_FL,
    START,
    SUP,
    related,
    standard_marketplace,
)

__all__ = ["RARE_STATES", "STEPS", "DomainEvent", "MarketplaceMachine", "Swarm"]

OWNERS: dict[str, Actor] = {
    "co-1": ANA, "fl-1": FL, "pat": PAT_CO, "ag-1": AO, "ent-1": EVE, "ao": AO_FL, "am": AM_FL,
}  # fmt: skip
"""Each account that can be closed by request, and the person who owns or holds it."""
CLOSERS = {**OWNERS, "ent-1": ENT}
"""Who asks to close each account: its holder; the account team for Enterprise (ACC-CLOSE-ENT-1)."""
WRITERS = {"fl-1": FL, "pat": PAT_FL, "ao": AO_FL, "am": AM_FL}
"""Freelancer-side holders: they withdraw proposals and money."""
CLIENTS = {"co-1": ANA, "co-9": PAT_CO, "ent-1": EVE}
"""The owner of each client company."""
SELF_SERVICE = {"fl-1": FL, "ao": AO_FL, "am": AM_FL}
"""Freelancer accounts, the only ones their holder reactivates (ACC-REACT-3), and the holder."""

CONTRACT_EVENTS = (
    "log_time", "end_contract", "pause", "restart", "add_milestone", "fund_milestone",
)  # fmt: skip
"""The contract events ``someone_acts`` tries (the money rules drive the others)."""
STEPS = tuple(timedelta(hours=h) for h in (1, 3, 5, 24, 24 * 3, 24 * 6, 24 * 30, 24 * 366 * 5))
"""How far ``time_passes`` may move the clock in one step."""
JUST_INSIDE = timedelta(hours=3, minutes=59)
"""A reactivation link opened one minute before it expires (ACC-REACT-2)."""
EXPIRY = timedelta(hours=4)
"""A reactivation link opened exactly when it expires: refused (ACC-REACT-2)."""
LINK_AGES = (EXPIRY, JUST_INSIDE)

RARE_STATES = {
    "agency closing": "agency ag-1 accepted request_close (ACC-CLOSE-AG-1..4)",
    "agency closed": "agency ag-1 settled: closed for good (ACC-CLOSE-AG-10)",
    "refunded by a refund": "give_refund took an ended contract to refunded (REF-180-7)",
    "refunded, escrow returned in full": (
        "an ending contract became refunded with all its escrow back with the client (ESC-3)"
    ),
    "reactivated at 3h59m": "a reactivation link opened 3h59m after it was sent worked",
    "link refused at 4h00m": "a reactivation link opened 4h after it was sent was refused",
}
"""States uniform runs seldom reach: name -> what counts as reaching it."""


class DomainEvent(NamedTuple):
    """One accepted transition of one step, as :meth:`MarketplaceMachine.on_events` gets it."""

    kind: str
    """``account``, ``membership``, ``job``, ``proposal``, ``contract`` or ``milestone``."""
    aggregate: str
    """The aggregate's id."""
    decision: Decision
    """The decision appended to its history (event, source, target, actor, time, payload)."""


_FIXED: dict[str, dict[str, Any]] = {
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
    return dict(_FIXED.get(event, {}))


@attrs.frozen
class Swarm:
    """What one run may use: the rest is switched off for the whole run."""

    kinds: tuple[str, ...] = KINDS
    """Kinds of aggregate that ``someone_acts`` fires random events on."""
    actors: tuple[str, ...] = tuple(ACTOR_GROUPS)
    """Groups of :data:`~statemachines.testing.cast.ACTOR_GROUPS` that ``someone_acts`` draws
    from."""
    focus: tuple[str, ...] = tuple(sorted(OWNERS))
    """Accounts the holder rules work on: clearing blockers, closing."""
    steps: tuple[timedelta, ...] = STEPS
    """How far ``time_passes`` may move the clock in one step."""

    def actors_among(self, actors: Sequence[Actor]) -> list[Actor]:
        """The actors of *actors* whose group is switched on."""
        on = {a for g in self.actors for a in ACTOR_GROUPS[g]}
        return [a for a in actors if a in on]

    def describe(self) -> str:
        """A one-line summary for Hypothesis's notes."""
        return (
            f"kinds={','.join(self.kinds)} actors={','.join(self.actors)} "
            f"focus={','.join(self.focus)} steps={len(self.steps)}"
        )


@st.composite
def _some(draw: st.DrawFn, options: Sequence[Any]) -> tuple[Any, ...]:
    """A non-empty sub-tuple of *options*, in order; shrinks towards all of them.

    As Hypothesis's ``FeatureFlags`` do: first how likely an option is to be off (so that
    "all on" and "only one on" are both common, not just "about half on"), then each option;
    a swarm left with none keeps one. Every draw shrinks to 0, i.e. to all options on.
    """
    p_off = draw(st.integers(0, 9), label="swarm: how much is off")
    on = tuple(o for o in options if draw(st.integers(0, 9)) >= p_off)
    return on or (draw(st.sampled_from(options), label="swarm: the one left"),)


SWARMS = st.builds(
    Swarm,
    kinds=_some(KINDS),
    actors=_some(tuple(ACTOR_GROUPS)),
    focus=_some(tuple(sorted(OWNERS))),
    steps=_some(STEPS),
)
"""Swarms, drawn as Hypothesis draws feature flags (shrinking towards everything on)."""


class MarketplaceMachine(RuleBasedStateMachine):
    """Random people act on a small marketplace while time runs.

    Attributes a subclass reads: :attr:`market` (the marketplace), :attr:`clock` (its manual
    clock), :attr:`swarm` (what this run uses), :attr:`reached` (the rare states reached).
    """

    def __init__(self) -> None:
        super().__init__()
        self.swarm = Swarm()
        self.reached: set[str] = set()
        self.clock = ManualClock(START)
        self.market = self.make_marketplace(self.clock)

    # ------------------------------------------------------------------ hooks

    def make_marketplace(self, clock: ManualClock) -> Marketplace:
        """The world the machine starts from (override for another world, or another store)."""
        return standard_marketplace(clock)

    def on_events(self, events: Sequence[DomainEvent]) -> None:
        """Every domain event of one step, in order (override to keep a read model in step).

        Called after each step that changed something: an event someone fired with its
        effects on other aggregates, deadlines that fell due, a contract's milestones.
        """

    # ------------------------------------------------------------------ the swarm

    @initialize(swarm=SWARMS)
    def choose_swarm(self, swarm: Swarm) -> None:
        self.swarm = swarm
        event_note(f"swarm: {len(swarm.kinds)} kinds, {len(swarm.focus)} accounts in focus")

    # ------------------------------------------------------------------ helpers

    def _lengths(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for kind in KINDS:
            for agg in self.market.all(kind):
                out[kind, agg.id] = len(agg.history)
                if isinstance(agg, Contract):
                    for ms in agg.milestones:
                        out["milestone", ms.id] = len(ms.history)
        return out

    def _tell(self, before: dict[tuple[str, str], int]) -> None:
        """Hand the decisions made since *before* to :meth:`on_events`, in time order."""
        events: list[DomainEvent] = []
        for kind in KINDS:
            for agg in self.market.all(kind):
                aggs = [(kind, agg)]
                if isinstance(agg, Contract):
                    aggs += [("milestone", ms) for ms in agg.milestones]
                for k, a in aggs:
                    events += [
                        DomainEvent(k, a.id, d) for d in a.history[before.get((k, a.id), 0) :]
                    ]
        if events:
            self.on_events(sorted(events, key=lambda e: e.decision.at))

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

    def _reach(self, name: str) -> None:
        assert name in RARE_STATES
        if name not in self.reached:
            self.reached.add(name)
            event_note(f"rare: {name}")

    def _attempt(
        self, kind: str, key: str, event: str, actor: Actor, payload: dict[str, Any]
    ) -> Decision | TransitionError | InvalidInput:
        agg = self.market.get(kind, key)
        before_states = self._account_states()
        lengths = self._lengths()
        before = to_dict(agg)
        try:
            decision = self.market.fire(kind, key, event, actor, **payload)
        except (TransitionError, InvalidInput) as err:
            assert to_dict(agg) == before, f"{type(err).__name__} changed {key}"  # noqa: PT017
            event_note(f"{type(err).__name__}")
            if isinstance(err, TransitionRefused):
                assert_refused(err)  # every reason is written for a person
            if kind == "account" and event == "request_close" and isinstance(err, NotPermitted):
                assert agg.state is before_states[key]
            return err
        event_note(f"accepted {kind}.{event}")
        assert inv_acc_9_no_activity_while_frozen(before_states, kind, agg, decision) == []
        self._check_settled(before_states)
        self._tell(lengths)
        return decision

    def _targets(self) -> list[tuple[str, str]]:
        return [(k, agg.id) for k in self.swarm.kinds for agg in self.market.all(k)]

    # ------------------------------------------------------------------ rules

    @rule(data=st.data())
    def someone_acts(self, data: st.DataObject) -> None:
        kind, key = data.draw(st.sampled_from(self._targets()), label="target")
        agg = self.market.get(kind, key)
        flow = self.market._flows[kind]
        events = CONTRACT_EVENTS if kind == "contract" else flow.spec.events
        event = data.draw(st.sampled_from(events), label="event")
        near = self.swarm.actors_among(related(agg))
        anyone = self.swarm.actors_among(CAST)
        actor = data.draw(
            st.one_of(st.sampled_from(near), st.sampled_from(anyone))
            if near
            else st.sampled_from(anyone),
            label="actor",
        )
        self._attempt(kind, key, event, actor, _payload(event, agg, data))

    @rule(data=st.data())
    def an_account_winds_down(self, data: st.DataObject) -> None:
        """The holder closes a focused account if only the confirmation is missing (ACC-GEN-7),
        or else clears one thing that blocks it, preferring what would be accepted now."""
        key = data.draw(st.sampled_from(self.swarm.focus), label="account")
        acc = self.market.account(key)
        verdict = self.market.explain("account", key, "request_close", CLOSERS[key])
        if verdict.rule_ids == ("ACC-GEN-7",):
            self._attempt("account", key, "request_close", CLOSERS[key], {"confirm": True})
            return
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
        allowed = [o for o in options if self.market.explain(*o[:4], **o[4]).allowed]
        if allowed or options:
            self._attempt(*data.draw(st.sampled_from(allowed or options), label="clear"))

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

    def _money_contracts(self, *, hourly: bool) -> list[Contract]:
        return [c for c in self.market.all("contract") if c.is_hourly is hourly]

    def _sides(self, c: Contract) -> tuple[Actor, Actor, Actor]:
        """The client's owner, the freelancer side's decider, and who does the work."""
        decider = BM if c.agency else SELF_SERVICE[c.freelancer]
        return CLIENTS[c.client], decider, AM if c.agency else decider

    def _after_the_end(self, c: Contract) -> list[tuple[str, Actor, dict[str, Any]]]:
        """Refunds and bonuses once the contract is over."""
        client, decider, _ = self._sides(c)
        acc = self.market.account_of(c.freelancer)
        balance = Money(0)
        if acc is not None:
            ob = self.market.obligations(acc, self.clock.now())
            balance = ob.pending + ob.available
        refunds = [
            ("give_refund", decider, {"payment": p.id, "amount": p.left, "balance": balance})
            for p in c.payments
            if p.left
        ]
        return [*refunds, ("pay_bonus", client, {"amount": Money(500)})]

    def _money_move(
        self, c: Contract, moves: list[tuple[str, Actor, dict[str, Any]]], data: st.DataObject
    ) -> None:
        if moves:
            event, actor, payload = data.draw(st.sampled_from(moves), label="move")
            self._attempt("contract", c.id, event, actor, payload)

    @precondition(lambda self: bool(self._money_contracts(hourly=False)))
    @rule(data=st.data())
    def fixed_price_money_moves(self, data: st.DataObject) -> None:
        """The next step with money on a fixed-price contract: add and fund a milestone,
        submit, approve, end (paying nothing of what is held: an escrow refund, ESC-1),
        answer the escrow refund, refund a payment (REF-180), pay a bonus."""
        c = data.draw(st.sampled_from(self._money_contracts(hourly=False)), label="contract")
        client, decider, worker = self._sides(c)
        moves: list[tuple[str, Actor, dict[str, Any]]] = []
        refund = c.escrow_refund
        if c.state in {ContractState.ACTIVE, ContractState.PAUSED}:
            ms = c.live_milestone
            if ms is None and c.next_draft is not None:
                moves = [("fund_milestone", client, {})]
            elif ms is None:
                amount = data.draw(st.sampled_from((Money(700), Money(10_000))), label="amount")
                moves = [("add_milestone", client, {"amount": amount})]
                if c.payments:
                    moves.append(("end_contract", client, {}))
            elif ms.state.value in {"funded", "changes_requested"}:
                moves = [
                    ("submit_work", worker, {}),
                    ("end_contract", client, {"payment": Money(0)}),
                ]
            else:
                moves = [("approve_milestone", client, {}), ("request_changes", client, {})]
        elif c.state is ContractState.ENDING and refund is not None:
            if refund.status.value == "pending":
                first = "leave_feedback" if c.freelancer_feedback_at is None else "dispute_refund"
                moves = [("approve_refund", decider, {}), (first, decider, {})]
            else:
                split = {"to_freelancer": Money(0), "to_client": refund.amount}
                moves = [("resolve_dispute", SUP, split)]
        elif c.state in {ContractState.ENDED, ContractState.REFUNDED}:
            moves = self._after_the_end(c)
        self._money_move(c, moves, data)

    @precondition(lambda self: bool(self._money_contracts(hourly=True)))
    @rule(data=st.data())
    def hourly_money_moves(self, data: st.DataObject) -> None:
        """Log time on an hourly contract, end it, refund a billed week, pay a bonus."""
        c = data.draw(st.sampled_from(self._money_contracts(hourly=True)), label="contract")
        client, _, worker = self._sides(c)
        moves: list[tuple[str, Actor, dict[str, Any]]] = []
        if c.state in {ContractState.ACTIVE, ContractState.PAUSED}:
            moves = [("log_time", worker, {"minutes": 120}), ("end_contract", client, {})]
        elif c.state in {ContractState.ENDED, ContractState.REFUNDED}:
            moves = self._after_the_end(c)
        self._money_move(c, moves, data)

    @precondition(lambda self: SUP in self.swarm.actors_among([SUP]))
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

    def _deactivated(self) -> list[str]:
        return [
            key
            for key in sorted(SELF_SERVICE)
            if self.market.account(key).state is AccountState.DEACTIVATED
        ]

    @precondition(lambda self: bool(self._deactivated()))
    @rule(data=st.data(), age=st.sampled_from(LINK_AGES))
    def a_holder_reactivates(self, data: st.DataObject, age: timedelta) -> None:
        """ACC-REACT-2: ask for a link, open it *age* later (3h59m works, 4h does not)."""
        key = data.draw(st.sampled_from(self._deactivated()), label="account")
        holder = SELF_SERVICE[key]
        asked = self._attempt("account", key, "request_reactivation_link", holder, {})
        self.clock.advance(seconds=age.total_seconds())
        token = self.market.account(key).link_token or "none"
        opened = self._attempt("account", key, "confirm_reactivation", holder, {"token": token})
        if not isinstance(asked, Decision):
            return
        if age == JUST_INSIDE and isinstance(opened, Decision):
            self._reach("reactivated at 3h59m")
        refused = isinstance(opened, TransitionRefused) and "ACC-REACT-2" in opened.rule_ids
        if age == EXPIRY and refused:
            self._reach("link refused at 4h00m")

    @rule(data=st.data())
    def time_passes(self, data: st.DataObject) -> None:
        step = data.draw(st.sampled_from(self.swarm.steps), label="step")
        before = self._account_states()
        lengths = self._lengths()
        self.clock.advance(seconds=step.total_seconds())
        self.market.advance()
        self._check_settled(before)
        self._tell(lengths)

    # ------------------------------------------------------------------ invariants

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
            assert all(t <= self.clock.now() for t in times)

    @invariant()
    def rare_states_noticed(self) -> None:
        for d in self.market.account("ag-1").history:
            if d.event == "request_close":
                self._reach("agency closing")
            if d.event == "settle" and d.target is AccountState.CLOSED:
                self._reach("agency closed")
        for c in self.market.all("contract"):
            if c.state is not ContractState.REFUNDED:
                continue
            last = c.history[-1]
            if last.event == "give_refund":
                self._reach("refunded by a refund")
            full = c.escrow_charged.cents > 0 and c.escrow_returned == c.escrow_charged
            if last.source is ContractState.ENDING and full:
                self._reach("refunded, escrow returned in full")

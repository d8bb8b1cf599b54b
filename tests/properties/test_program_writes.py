"""Any sequence of program and subscription writes keeps the world consistent (hypothesis state machine).

After every step, accepted or refused, the member tables and the reads agree with a plain model of
who is subscribed where and who is attached to whom; a refused write changes nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from mock_server.backend import Backend
from mock_server.errors import ApiError
from mock_server.seeding import build_world
from tests.support.handlers import contract_handlers
from tests.support.invariants import check_member_balances, check_tier, check_vouchers

READ = contract_handlers()
WORLD = build_world(seed=3, contacts=8)
CONTACTS = st.integers(min_value=1, max_value=40)  # seeded ids start low, so new and seeded ones mix


class ProgramWrites(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.backend = Backend(WORLD)
        self.pid = next(d.id for d in WORLD.programs if d.program.state == "active")
        table = WORLD.program(self.pid).members
        self.owners: set[int] = set(table.contact_ids)  # the model: who holds a subscription
        self.attached: dict[int, int] = {}  # attached contact -> owner
        self.enrolled: list[int] = []  # contacts the machine subscribed, newest last

    def attempt(self, call: Any, *args: Any, **kwargs: Any) -> bool:
        """Run a write; a refusal must be an ApiError that left the world as it was."""
        before = self.fingerprint()
        try:
            call(*args, **kwargs)
        except ApiError:
            assert self.fingerprint() == before
            return False
        return True

    def fingerprint(self) -> Any:
        data = self.backend.world.program(self.pid)
        table = data.members
        return (self.backend.clock.now(), self.backend.ids.issued, list(table.contact_ids),
                list(table.subscription_ids), dict(table.attached))

    @rule(contact=CONTACTS)
    def subscribe(self, contact: int) -> None:
        done = self.attempt(self.backend.programs.subscribe, self.pid, contact)
        assert done == (contact not in self.owners and contact not in self.attached)
        if done:
            self.owners.add(contact)
            self.enrolled.append(contact)

    @rule(contact=CONTACTS)
    def unsubscribe(self, contact: int) -> None:
        done = self.attempt(self.backend.programs.unsubscribe, self.pid, contact)
        assert done == (contact in self.owners)
        if done:
            self.owners.discard(contact)
            self.attached = {m: o for m, o in self.attached.items() if o != contact}

    @rule(owner=CONTACTS, members=st.lists(CONTACTS, min_size=1, max_size=3))
    def attach(self, owner: int, members: list[int]) -> None:
        done = self.attempt(self.backend.programs.add_subscription_members, self.pid, members, contact_id=owner)
        allowed = owner in self.owners and all(
            m != owner and m not in self.owners and self.attached.get(m, owner) == owner for m in members)
        assert done == allowed
        if done:
            self.attached.update(dict.fromkeys(members, owner))

    @rule(members=st.lists(CONTACTS, min_size=1, max_size=3))
    def detach(self, members: list[int]) -> None:
        done = self.attempt(self.backend.programs.remove_subscription_members, self.pid, members)
        assert done == all(m in self.attached for m in members)
        if done:
            for m in members:
                self.attached.pop(m, None)

    @invariant()
    def reads_agree_with_the_model(self) -> None:
        if not hasattr(self, "backend"):
            return
        data = self.backend.world.program(self.pid)
        table = data.members
        assert set(table.contact_ids) == self.owners and list(table.contact_ids) == sorted(table.contact_ids)
        assert table.attached == self.attached
        for d in range(len(table.values)):
            for field, column in (("value", table.values[d]), ("updatedAt", table.updated_at[d])):
                assert list(table.order(d, field)) == sorted(range(len(table)), key=lambda p, c=column: (c[p], p))
        definition = next(d for d in data.definitions if not d.internal)
        page = READ["getContactBalances"](self.backend.world, {"pid": self.pid, "balanceDefinitionId": definition.id,
                                                                 "limit": 500})
        assert page["count"] == len(self.owners) == len(page["balances"])
        for owner in {*self.attached.values()}:
            info = READ["getParameterSubscriptionInfo"](self.backend.world, {"pid": self.pid, "contactId": str(owner),
                                                                               "params": "members"})
            listed = [row["memberContactId"] for row in info["members"]]
            assert listed[0] == owner
            assert sorted(listed[1:]) == sorted(m for m, o in self.attached.items() if o == owner)

    @invariant()
    def new_members_keep_the_world_rules(self) -> None:
        """The shared invariants (tests/support/invariants.py) hold for the members the machine enrolled."""
        if not hasattr(self, "backend"):
            return
        world = self.backend.world
        data = world.program(self.pid)
        rows = {}
        for definition in data.definitions:
            page = READ["getContactBalances"](world, {"pid": self.pid, "balanceDefinitionId": definition.id,
                                                      "limit": 500, "includeInternal": True})
            rows[definition.id] = {row["contactId"]: row for row in page["balances"]}
        for contact in [c for c in self.enrolled if c in self.owners][-3:]:
            check_member_balances(READ, world, data, contact, {d: r[contact] for d, r in rows.items()})
            check_tier(READ, world, data, contact, rows)
            check_vouchers(READ, world, data, contact)
            assert {row["value"] for by_contact in rows.values() for row in [by_contact[contact]]} == {0}


TestProgramWrites = ProgramWrites.TestCase
TestProgramWrites.settings = settings(max_examples=30, stateful_step_count=25, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])

"""Any sequence of writes leaves a consistent world: a hypothesis state machine over the HTTP API.

Random sequences of enrolments, transactions (begun, completed, cancelled, auto-completed, ordered),
voucher attributions and redemptions run against one app (in process, over HTTP). After every step the
touched member is checked through the reads with the same rules the seeded world keeps
(tests/support/invariants.py): every view agrees on the balance, the balance is the completed history
and the sum of the active credits, the tier follows from it and the ranking group's strategies (switched at
random between real time and scheduled: `check_tier` tracks the tier held), the vouchers reference what exists. A
refused write must change nothing the member's reads show. `make fuzz` runs it long.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import orjson
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, invariant, multiple, rule

from mock_server.app import create_app
from mock_server.fixtures import shipped_fixture
from tests.api.support import client_for, make_settings
from tests.support.invariants import ALL, check_member_balances, check_tier, check_vouchers

APP = create_app(make_settings(contacts=8, fixtures=(shipped_fixture("widget-member"),)))
CONTRACT = APP.state.mock.contract
PID = "27d1dd7a-af67-4020-ba65-19d60000a26e"  # the widget program (fixtures/widget-member.yaml)
WIDGET_CONTACT = 12345
NEW_CONTACTS = st.integers(min_value=900_001, max_value=900_012)
STRATEGIES = st.sampled_from(["real_time", "membership_anniversary", "tier_anniversary"])
EXAMPLES = int(os.environ.get("WRITE_SEQUENCE_EXAMPLES", "12"))


class HttpReads(Mapping[str, Any]):
    """The read operations by operationId over HTTP, shaped like the handlers the checks also take."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getitem__(self, operation_id: str) -> Any:
        operation = CONTRACT.operations[operation_id]
        path_names = {param.name for param in operation.path_params}

        def read(_world: Any, params: Mapping[str, Any]) -> Any:
            path = CONTRACT.base_path + operation.path.format(**{k: v for k, v in params.items() if k in path_names})
            query = {k: _text(v) for k, v in params.items() if k not in path_names}
            response = self.client.get(path, params=query)
            assert response.status_code in (200, 204), (operation_id, params, response.status_code, response.text)
            return response.json() if response.content else None

        return read

    def __iter__(self) -> Any:
        return iter(CONTRACT.operations)

    def __len__(self) -> int:
        return len(CONTRACT.operations)


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class WriteSequences(RuleBasedStateMachine):
    contacts = Bundle("contacts")
    drafts = Bundle("drafts")
    vouchers = Bundle("vouchers")

    def __init__(self) -> None:
        super().__init__()
        APP.state.mock.reset()
        self.client = client_for(APP)
        self.reads = HttpReads(self.client)
        self.touched: set[int] = set()
        self.held: dict[int, int] = {}  # contact -> the tier rank the last check read
        self.data = APP.state.mock.worlds["default"].program(PID)
        self.points = self.data.definitions[0].id
        offers = self.reads["getRewardPageApi"](None, {"pid": PID, "limit": 100, "offset": 0})["items"]
        self.rewards = [offer["id"] for offer in offers]

    # ------------------------------------------------------------------ writes

    def write(self, method: str, path: str, body: Any = None) -> Any:
        """Send a write; when it is refused, the touched members' reads must be exactly as before."""
        before = self.snapshot()
        response = self.client.request(method, f"/v3/loyalty{path}", json=body)
        assert response.status_code < 500, (method, path, body, response.text)
        if response.status_code >= 400:
            assert set(response.json()) == {"code", "message"}
            assert self.snapshot() == before, f"refused {method} {path} changed the world: {response.text}"
            return None
        return response.json() if response.content else {}

    def snapshot(self) -> bytes:
        views = []
        for contact in sorted(self.touched):
            views.append(self.reads["getSubscriptionBalances"](None, {"pid": PID, "cid": contact,
                                                                      "includeInternal": True}))
            views.append(self.reads["getVoucherForAContact"](None, {"pid": PID, "contactId": contact,
                                                                    "limit": 100, "offset": 0}))
        return orjson.dumps(views)

    @initialize(target=contacts)
    def the_widget_member(self) -> int:
        self.touched.add(WIDGET_CONTACT)
        return WIDGET_CONTACT

    @rule(target=contacts, contact=NEW_CONTACTS)
    def enrol(self, contact: int) -> Any:
        made = self.write("POST", f"/config/programs/{PID}/subscriptions", {"contactId": contact})
        if made is None:
            return multiple()
        self.touched.add(contact)
        return contact

    @rule(target=drafts, contact=contacts, amount=st.integers(min_value=1, max_value=400),
          kind=st.sampled_from(["credit", "debit"]), auto=st.booleans())
    def begin(self, contact: int, amount: int, kind: str, auto: bool) -> Any:
        made = self.write("POST", f"/balance/programs/{PID}/transactions", {
            "contactId": contact, "balanceDefinitionId": self.points, "amount": amount,
            "transactionType": kind, "autoComplete": auto})
        if made is None or auto:
            return multiple()
        assert made["status"] == "draft"
        return made["id"]

    @rule(target=drafts, contact=contacts, amount=st.integers(min_value=1, max_value=400))
    def order(self, contact: int, amount: int) -> Any:
        made = self.write("POST", f"/balance/programs/{PID}/create-order", {
            "contactId": contact, "balanceDefinitionId": self.points, "amount": amount,
            "dueAt": "2026-11-02T00:00:00.000Z", "source": "user"})
        return multiple() if made is None else made["transactionid"]

    @rule(tid=consumes(drafts))
    def complete(self, tid: str) -> None:
        done = self.write("POST", f"/balance/programs/{PID}/transactions/{tid}/complete")
        if done is not None:
            assert done["status"] in ("completed", "rejected")
        again = self.client.post(f"/v3/loyalty/balance/programs/{PID}/transactions/{tid}/complete")
        assert again.status_code == 422  # never twice

    @rule(tid=consumes(drafts))
    def cancel(self, tid: str) -> None:
        done = self.write("POST", f"/balance/programs/{PID}/transactions/{tid}/cancel")
        if done is not None:
            assert done["status"] == "cancelled"

    @rule(target=vouchers, contact=contacts, which=st.integers(min_value=0, max_value=9))
    def attribute(self, contact: int, which: int) -> Any:
        made = self.write("POST", f"/offer/programs/{PID}/rewards/attribute",
                          {"contactId": contact, "rewardId": self.rewards[which % len(self.rewards)]})
        return multiple() if made is None else (contact, made["id"])

    @rule(voucher=consumes(vouchers))
    def redeem(self, voucher: tuple[int, str]) -> None:
        contact, voucher_id = voucher
        redemption = self.write("POST", f"/offer/programs/{PID}/rewards/redeem",
                                {"contactId": contact, "attributedRewardId": voucher_id})
        if redemption is not None:
            self.write("POST", f"/offer/programs/{PID}/rewards/redeem/{redemption['id']}/complete")

    @initialize(upgrade=STRATEGIES, downgrade=STRATEGIES)
    def starting_strategies(self, upgrade: str, downgrade: str) -> None:
        self.strategies(upgrade, downgrade)

    @rule(upgrade=STRATEGIES, downgrade=STRATEGIES)
    def strategies(self, upgrade: str, downgrade: str) -> None:
        """The ranking group's strategies changed: a scheduled direction holds members where they stand."""
        group = self.reads["getListOfTierGroups"](None, {"pid": PID, "version": "draft"})["items"][0]
        self.write("PUT", f"/tier/programs/{PID}/tier-groups/{group['id']}", {
            "name": group["name"], "tierOrder": group["tierOrder"], "upgradeStrategy": upgrade,
            "downgradeStrategy": downgrade})

    # ------------------------------------------------------------------ the rules

    @invariant()
    def every_view_agrees(self) -> None:
        listed: dict[str, dict[int, dict]] = {}
        for definition in self.data.definitions:
            page = self.reads["getContactBalances"](None, {
                "pid": PID, "balanceDefinitionId": definition.id, "includeInternal": True, "sortField": "value",
                "sort": "asc", **ALL})
            assert page["count"] == len(page["balances"])
            values = [entry["value"] for entry in page["balances"]]
            assert values == sorted(values)
            listed[definition.id] = {entry["contactId"]: entry for entry in page["balances"]}
        for contact in self.touched:
            check_member_balances(self.reads, None, self.data, contact,
                                  {d: rows[contact] for d, rows in listed.items()})
            check_tier(self.reads, None, self.data, contact, listed, held=self.held)
            check_vouchers(self.reads, None, self.data, contact)

    def teardown(self) -> None:
        self.client.close()


WriteSequences.TestCase.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=15, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_any_sequence_of_writes_keeps_the_world_consistent = WriteSequences.TestCase

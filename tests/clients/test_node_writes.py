"""The balance, tier and reward writes through the official Node client (@getbrevo/brevo 6.x), unchanged.

Each test runs one short ES module with node from examples/node (where `npm ci` installs the client):
it drives the writes on the widget-member program, reads back what each write should have changed
through the client's own read methods, tries one documented refusal per area, and prints what it saw as
JSON. The test checks that against the mock's world, that every write reached its operation, and that
the journal records no contract violation (the client sends only what the contract knows). A refusal
comes back as the client's typed error class for its status (`error.constructor.name`). Skipped when
node or the client is not installed (`make test` installs it when npm is present).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_server.fixtures import shipped_fixture
from mock_server.store.models import render_amount
from mock_server.store.world import ProgramData, World
from mock_server.testing import RunningMock, running_mock
from tests.api.support import UNKNOWN_CONTACT, UNKNOWN_UUID, make_settings

NODE_DIR = Path(__file__).resolve().parents[2] / "examples" / "node"
WIDGET_PID = "27d1dd7a-af67-4020-ba65-19d60000a26e"
MEMBER = 12345  # the widget member: 340 Purchase Points, Silver, subscription cust_abc123

# Shared by every script: the client, the inputs, and `refused`, which names the typed error a call raises.
PRELUDE = r"""
import { BrevoClient, BrevoError } from "@getbrevo/brevo";
const [baseUrl, apiKey, given] = [process.argv[1], process.argv[2], JSON.parse(process.argv[3])];
const brevo = new BrevoClient({ apiKey, baseUrl, maxRetries: 0 });
const out = {};
const refused = async (call) => {
  try { await call(); return "accepted"; } catch (error) {
    if (!(error instanceof BrevoError)) throw error;
    return [error.constructor.name, error.statusCode, error.body && error.body.code];
  }
};
const { pid, bdid, member, unknownId, unknownContact } = given;
"""

BALANCE = PRELUDE + r"""
const value = async (definitionId) => {
  const read = await brevo.balance.getSubscriptionBalances({ pid, cid: String(member), includeInternal: true });
  const row = (read.balance || []).find((item) => item.balanceDefinitionId === definitionId);
  return row === undefined ? null : Number(row.value);
};
const created = await brevo.balance.createBalanceDefinition({
  pid, name: "Node stamps", unit: "POINTS", maxAmount: 90, balanceOptionAmountOvertakingStrategy: "partial" });
const draftDef = (id) => brevo.balance.getBalanceDefinition({ pid, bdid: id, version: "draft" });
out.created = [created.name, created.maxAmount, (await draftDef(created.id)).name];
const updated = await brevo.balance.updateBalanceDefinition({
  pid, bdid: created.id, name: "Node stamp card", unit: "POINTS", maxAmount: 120 });
const shown = await draftDef(created.id);
out.updated = [updated.id === created.id, shown.name, shown.maxAmount];

const limit = await brevo.balance.createBalanceLimit({ pid, bdid: created.id, constraintType: "transaction",
  durationUnit: "day", durationValue: 1, transactionType: "credit", value: 3 });
const readLimit = () => brevo.balance.getBalanceLimit({ pid, bdid: created.id, blid: limit.id, version: "draft" });
out.limit = [(await readLimit()).value, limit.balanceDefinitionId === created.id];
await brevo.balance.updateBalanceLimit({ pid, bdid: created.id, blid: limit.id, constraintType: "amount",
  durationUnit: "week", durationValue: 2, transactionType: "debit", value: 50, slidingSchedule: true });
const changed = await readLimit();
out.limitUpdated = [changed.constraintType, changed.durationUnit, changed.value, changed.slidingSchedule];
await brevo.balance.deleteBalanceLimit({ pid, bdid: created.id, blid: limit.id });
out.limitGone = await refused(readLimit);

const opened = await brevo.balance.createSubscriptionBalances({
  pid, cid: String(member), balanceDefinitionId: created.id });
out.opened = [opened.contactId, opened.balanceDefinitionId === created.id, await value(created.id)];
out.openedTwice = await refused(() => brevo.balance.createSubscriptionBalances({
  pid, cid: String(member), balanceDefinitionId: created.id }));
await brevo.balance.deleteBalanceDefinition({ pid, bdid: created.id });
out.definitionGone = await refused(() => draftDef(created.id));

const start = await value(bdid);
const draft = await brevo.balance.beginTransaction({
  pid, amount: 100, balanceDefinitionId: bdid, contactId: member, meta: { orderId: "NODE-1" } });
out.draft = [draft.status, draft.contactId, await value(bdid) - start];
const cancelled = await brevo.balance.cancelTransaction({ pid, tid: draft.id });
const history = await brevo.balance.getTransactionHistoryApi({
  pid, contactId: member, balanceDefinitionId: bdid, limit: 500 });
const listed = (history.transactionHistory || []).find((row) => row.id === draft.id);
out.cancelled = [cancelled.status, listed && listed.status, await value(bdid) - start];
out.cancelledTwice = await refused(() => brevo.balance.cancelTransaction({ pid, tid: draft.id }));
out.cancelUnknown = await refused(() => brevo.balance.cancelTransaction({ pid, tid: unknownId }));

const debit = await brevo.balance.beginTransaction({
  pid, amount: -40, balanceDefinitionId: bdid, LoyaltySubscriptionId: given.subscription, autoComplete: true });
out.autoCompleted = [debit.status, debit.transactionType, debit.contactId, await value(bdid) - start];
out.notMember = await refused(() => brevo.balance.beginTransaction({
  pid, amount: 5, balanceDefinitionId: bdid, contactId: unknownContact }));
out.start = start;
console.log(JSON.stringify(out));
"""

TIER = PRELUDE + r"""
const standing = async () => {
  const path = `loyalty/balance/programs/${encodeURIComponent(pid)}/subscriptions/${member}/tier`;
  return (await (await brevo.fetch(path, { method: "GET" })).json()).tierName;
};
const draftGroup = (gid) => brevo.tier.getTierGroup({ pid, gid, version: "draft" });
const draftTiers = async () => (await brevo.tier.getLoyaltyProgramTier({ pid, version: "draft" })).items || [];
const group = await brevo.tier.createTierGroup({ pid, name: "Node metals" });
out.group = [group.name, (await draftGroup(group.id)).name];
const condition = (minimumValue) => [{ balanceDefinitionId: bdid, minimumValue }];
const low = await brevo.tier.createTierForTierGroup({
  pid, gid: group.id, name: "Tin", accessConditions: condition(0) });
const high = await brevo.tier.createTierForTierGroup({
  pid, gid: group.id, name: "Lead", accessConditions: condition(900) });
const inGroup = async () => (await draftTiers()).filter((tier) => tier.groupId === group.id).map((tier) => tier.name);
out.tiers = [low.name, high.name, await inGroup()];
out.twin = await refused(() => brevo.tier.createTierForTierGroup({
  pid, gid: group.id, name: "Twin", accessConditions: condition(900) }));
const order = [low.tierId, high.tierId];
await brevo.tier.updateTierGroup({ pid, gid: group.id, name: "Node metals 2", tierOrder: order,
  upgradeStrategy: "real_time", downgradeStrategy: "real_time" });
const renamed = await draftGroup(group.id);
out.renamed = [renamed.name, JSON.stringify(renamed.tierOrder) === JSON.stringify(order)];
await brevo.tier.updateTier({ pid, tid: high.tierId, name: "Pewter", tierRewards: [],
  accessConditions: condition(1200) });
const moved = (await draftTiers()).find((tier) => tier.tierId === high.tierId);
out.updatedTier = [moved.name, moved.accessConditions[0].minimumValue];
out.groupNotEmpty = await refused(() => brevo.tier.deleteTierGroup({ pid, gid: group.id }));
await brevo.tier.deleteTier({ pid, tid: low.tierId });
await brevo.tier.deleteTier({ pid, tid: high.tierId });
out.tiersLeft = await inGroup();
await brevo.tier.deleteTierGroup({ pid, gid: group.id });
out.groupGone = await refused(() => draftGroup(group.id));

out.before = await standing();
const assigned = await brevo.tier.addSubscriptionToTier({ pid, cid: String(member), tid: given.target });
out.assigned = [assigned.contactId, assigned.groupId === given.group, await standing()];
out.assignedTwice = await refused(
  () => brevo.tier.addSubscriptionToTier({ pid, cid: String(member), tid: given.target }));
out.unknownTier = await refused(() => brevo.tier.deleteTier({ pid, tid: unknownId }));
console.log(JSON.stringify(out));
"""

REWARD = PRELUDE + r"""
const held = async () => {
  const read = await brevo.reward.getVoucherForAContact({ pid, contactId: given.newcomer });
  return (read.contactRewards || []).map((row) => row.id);
};
const created = await brevo.reward.createReward({ pid, name: "Node coffee", publicName: "Coffee on node" });
const info = await brevo.reward.getRewardInformation({ pid, rid: created.id });
const drafted = (await brevo.reward.getRewardPageApi({ pid, version: "draft" })).items || [];
out.created = [info.name, info.publicName, drafted.some((offer) => offer.id === created.id)];

out.capReached = await refused(  // the member holds the reward's one voucher per consumer already
  () => brevo.reward.createVoucher({ pid, rewardId: given.reward, contactId: member }));
const newcomer = given.newcomer;
await brevo.program.subscribeToLoyaltyProgram({ pid, contactId: newcomer });
const voucher = await brevo.reward.createVoucher({ pid, rewardId: given.reward, contactId: newcomer });
out.issued = (await held()).includes(voucher.id);
const check = (attributedRewardId) => brevo.reward.validateReward({ pid, attributedRewardId });
out.validBefore = (await check(voucher.id)).authorize;
await brevo.reward.revokeVouchers({ pid, attributedRewardIds: voucher.id });
out.revoked = [(await held()).includes(voucher.id), (await check(voucher.id)).authorize];
out.revokedTwice = await refused(() => brevo.reward.revokeVouchers({ pid, attributedRewardIds: voucher.id }));
out.validateUnknown = await refused(() => check(unknownId));
out.unknownReward = await refused(
  () => brevo.reward.createVoucher({ pid, rewardId: unknownId, contactId: newcomer }));
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningMock]:
    # A journal long enough to keep every request of one test: the violation check must see them all.
    settings = make_settings(fixtures=(shipped_fixture("widget-member"),), journal_size=1000)
    with running_mock(settings) as running:
        yield running


@pytest.fixture
def fresh(mock: RunningMock) -> RunningMock:
    mock.reset()
    return mock


def world(mock: RunningMock) -> World:
    return mock.state.backends[mock.state.settings.api_keys[0].organisation].world


def widget(mock: RunningMock) -> ProgramData:
    data = world(mock).program(WIDGET_PID)
    assert data is not None
    return data


def run(node: str, mock: RunningMock, script: str, **given: Any) -> dict[str, Any]:
    """Run one script against the mock; what it printed, once every request it sent is known to the contract."""
    data = widget(mock)
    given = {"pid": WIDGET_PID, "bdid": data.definitions[0].id, "member": MEMBER, "unknownId": UNKNOWN_UUID,
             "unknownContact": UNKNOWN_CONTACT, **given}
    done = subprocess.run([node, "--input-type=module", "-e", script, mock.base_url, mock.api_key, json.dumps(given)],
                          cwd=NODE_DIR, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert mock.violations == []
    return json.loads(done.stdout)


def accepted(mock: RunningMock) -> set[str]:
    """The operations the journal saw answered with success (2xx)."""
    return {entry.operation_id or "?" for entry in mock.requests if 200 <= entry.status < 300}


def test_balance_writes_through_the_node_client(fresh: RunningMock, node: str) -> None:
    data = widget(fresh)
    member = world(fresh).member(data, MEMBER)
    assert member is not None
    definition = data.definitions[0]
    seen = run(node, fresh, BALANCE, subscription=member.subscription.loyalty_subscription_id)
    ledger = member.ledger(definition.id)
    assert ledger is not None
    held = render_amount(ledger.value, definition.scale)
    assert seen["start"] == held
    assert seen["created"] == ["Node stamps", 90, "Node stamps"]
    assert seen["updated"] == [True, "Node stamp card", 120]
    assert seen["limit"] == [3, True]
    assert seen["limitUpdated"] == ["amount", "week", 50, True]
    assert seen["limitGone"] == ["NotFoundError", 404, "document_not_found"]
    # Opening shows as a balance of 0 on the new definition, and a second open is refused: the member holds one.
    assert seen["opened"] == [MEMBER, True, 0]
    assert seen["openedTwice"][:2] == ["UnprocessableEntityError", 422]
    assert seen["definitionGone"] == ["NotFoundError", 404, "document_not_found"]
    # A draft moves nothing; cancelled, it is listed cancelled and still moves nothing.
    assert seen["draft"] == ["draft", MEMBER, 0]
    assert seen["cancelled"] == ["cancelled", "cancelled", 0]
    assert seen["cancelledTwice"][:2] == ["UnprocessableEntityError", 422]
    assert seen["cancelUnknown"][:2] == ["NotFoundError", 404]
    # autoComplete through the subscription id: a debit of 40, completed at once, on the member's balance.
    assert seen["autoCompleted"] == ["completed", "debit", MEMBER, -40]
    assert seen["notMember"][:2] == ["UnprocessableEntityError", 422]
    writes = {"createBalanceDefinition", "updateBalanceDefinition", "deleteBalanceDefinition", "createBalanceLimit",
              "updateBalanceLimit", "deleteBalanceLimit", "createSubscriptionBalances", "beginTransaction",
              "cancelTransaction"}
    assert writes <= accepted(fresh)


def test_tier_writes_through_the_node_client(fresh: RunningMock, node: str) -> None:
    data = widget(fresh)
    group = data.primary_tier_group
    assert group is not None
    member = world(fresh).member(data, MEMBER)
    assert member is not None
    current, _ = data.standing_of(group, member)
    assert current is not None
    target = data.tier_by_id[group.tier_ids[-1]]  # the top tier, above the member's balance
    assert target.id != current.id
    seen = run(node, fresh, TIER, target=target.id, group=group.id)
    assert seen["group"] == ["Node metals", "Node metals"]
    assert seen["tiers"] == ["Tin", "Lead", ["Tin", "Lead"]]
    assert seen["twin"][:2] == ["UnprocessableEntityError", 422]  # a threshold another tier of the group holds
    assert seen["renamed"] == ["Node metals 2", True]
    assert seen["updatedTier"] == ["Pewter", 1200]
    assert seen["groupNotEmpty"][:2] == ["ConflictError", 409]
    assert seen["tiersLeft"] == []
    assert seen["groupGone"][:2] == ["NotFoundError", 404]
    assert seen["before"] == current.name
    assert seen["assigned"] == [MEMBER, True, target.name]
    assert seen["assignedTwice"][:2] == ["ConflictError", 409]
    assert seen["unknownTier"][:2] == ["NotFoundError", 404]
    writes = {"createTierGroup", "updateTierGroup", "deleteTierGroup", "createTierForTierGroup", "updateTier",
              "deleteTier", "addSubscriptionToTier"}
    assert writes <= accepted(fresh)


def test_reward_writes_through_the_node_client(fresh: RunningMock, node: str) -> None:
    data = widget(fresh)
    reward = next(r for r in data.rewards if r.name == "Gold Welcome Reward")
    newcomer = max(data.members.contact_ids) + 1
    seen = run(node, fresh, REWARD, reward=reward.id, newcomer=newcomer)
    assert seen["capReached"][:2] == ["UnprocessableEntityError", 422]
    assert seen["created"] == ["Node coffee", "Coffee on node", True]
    assert seen["issued"] is True
    assert seen["validBefore"] is True
    assert seen["revoked"] == [False, False]  # gone from the member's vouchers, and no longer redeemable
    assert seen["revokedTwice"][:2] == ["NotFoundError", 404]
    assert seen["validateUnknown"][:2] == ["NotFoundError", 404]
    assert seen["unknownReward"][:2] == ["NotFoundError", 404]
    assert {"createReward", "createVoucher", "validateReward", "revokeVouchers"} <= accepted(fresh)

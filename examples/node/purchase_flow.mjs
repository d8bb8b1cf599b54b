// A shop's purchase flow with Brevo's official Node client (@getbrevo/brevo 6.x), step by step.
//
//   make run ARGS='--fixture widget-member'     # one terminal
//   cd examples/node && npm ci && node purchase_flow.mjs [--base-url URL] [--api-key KEY]
//
// It enrols a new contact in the widget program, credits two orders (create the order, then
// complete its transaction), and watches the balance rise and the tier climb from Bronze through
// Silver to Gold at 500 points; then it attributes the "Gold Welcome Reward" voucher (the reward's
// code pool gives one code: codes-count goes down by one) and redeems it. One line per step.
// The client is used unchanged: only baseUrl points at the mock. The member's tier comes from the
// guide's /subscriptions/{cid}/tier read, through the client's passthrough `brevo.fetch`.
import { BrevoClient } from "@getbrevo/brevo";
import { DEFAULTS, options as parse, report } from "./cli.mjs";

const options = parse({ ...DEFAULTS, "contact-id": "67890" },
  "node purchase_flow.mjs [--base-url URL] [--api-key KEY] [--program-id PID] [--contact-id CID]");

const ORDERS = [["ORD-200001", 300], ["ORD-200002", 250]]; // 300 reaches Silver, 550 Gold
const REWARD_NAME = "Gold Welcome Reward";
const points = (value) => `${new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }).format(value)} pts`;

async function standing(brevo, pid, contactId) {
  const path = `loyalty/balance/programs/${encodeURIComponent(pid)}/subscriptions/${contactId}/tier`;
  const response = await brevo.fetch(path, { method: "GET" });
  const body = await response.json();
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${body.code}: ${body.message}`);
  return `${points(body.currentBalance)} · ${body.tierName || "no tier"}`;
}

async function run(brevo, pid, contactId) {
  const lines = [];
  const definitions = await brevo.balance.getBalanceDefinitionList({ pid });
  const definitionId = definitions.items[0].id;
  const enrolled = await brevo.program.subscribeToLoyaltyProgram({ pid, contactId });
  lines.push(`enrolled contact ${enrolled.contactId}: ${await standing(brevo, pid, contactId)}`);

  for (const [orderId, amount] of ORDERS) {
    const order = await brevo.balance.createBalanceOrder({
      pid, amount, balanceDefinitionId: definitionId, contactId, dueAt: "2026-11-01T12:00:00.000Z",
      source: "user", meta: { orderId },
    });
    await brevo.balance.completeTransaction({ pid, tid: order.transactionid });
    lines.push(`order ${orderId} (+${amount}) completed: ${await standing(brevo, pid, contactId)}`);
  }

  const offers = await brevo.reward.getRewardPageApi({ pid });
  const reward = (offers.items || []).find((offer) => offer.name === REWARD_NAME);
  const { codePoolId } = await brevo.reward.getRewardInformation({ pid, rid: reward.id });
  const before = (await brevo.reward.getCodeCount({ pid, cpid: codePoolId })).count;
  const voucher = await brevo.reward.createVoucher({ pid, rewardId: reward.id, contactId });
  const after = (await brevo.reward.getCodeCount({ pid, cpid: codePoolId })).count;
  lines.push(`voucher ${voucher.code} attributed: codes left ${before} -> ${after}`);

  const redemption = await brevo.reward.redeemVoucher({ pid, attributedRewardId: voucher.id, contactId });
  const done = await brevo.reward.completeRedeemTransaction({ pid, tid: redemption.id });
  const held = await brevo.reward.getVoucherForAContact({ pid, contactId });
  const usable = (held.contactRewards || []).filter((item) => item.consumedAt == null);
  lines.push(`voucher ${voucher.code} redeemed (${done.status}): ${usable.length} usable voucher(s) left`);
  return lines;
}

const brevo = new BrevoClient({ apiKey: options["api-key"], baseUrl: options["base-url"], maxRetries: 0 });
try {
  for (const line of await run(brevo, options["program-id"], Number(options["contact-id"]))) console.log(line);
} catch (error) {
  report(error, options["base-url"]);
}

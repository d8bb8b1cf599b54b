// Read the loyalty widget's member with Brevo's official Node client (@getbrevo/brevo 6.x).
//
//   make run ARGS='--fixture widget-member'     # one terminal
//   cd examples/node && npm ci && node widget_member.mjs [--base-url URL] [--api-key KEY]
//   340 pts · Silver · 160 pts to Gold · 1 reward available
//
// The client is used unchanged: only baseUrl points at the mock. The guide's three calls
// are made in parallel: the balances with the typed method; the tier and the vouchers,
// which have no method in the client, through its passthrough `brevo.fetch` (same key,
// base URL and retries). The program's tiers say which balance the thresholds count.
import { BrevoClient } from "@getbrevo/brevo";
import { DEFAULTS, options as parse, report } from "./cli.mjs";

const options = parse({ ...DEFAULTS, "contact-id": "12345" },
  "node widget_member.mjs [--base-url URL] [--api-key KEY] [--program-id PID] [--contact-id CID]");

const points = (value) => `${new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }).format(value)} pts`;

async function readWidget(brevo, programId, contactId) {
  const member = `loyalty/balance/programs/${encodeURIComponent(programId)}/subscriptions/${encodeURIComponent(contactId)}`;
  const json = async (path) => {
    const response = await brevo.fetch(path, { method: "GET" });
    const body = await response.json();
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${body.code}: ${body.message}`);
    return body;
  };
  const [tiers, balances, tier, vouchers] = await Promise.all([
    brevo.tier.getLoyaltyProgramTier({ pid: programId }),
    brevo.balance.getSubscriptionBalances({ pid: programId, cid: String(contactId) }),
    json(`${member}/tier`),
    json(`${member}/vouchers`),
  ]);
  const rung = (tiers.items || []).find((item) => item.groupId === tier.tierGroupId);
  const definitionId = rung ? rung.accessConditions[0].balanceDefinitionId : undefined;
  const entry = (balances.balance || []).find((item) => item.balanceDefinitionId === definitionId);
  const parts = [points(entry ? entry.value : 0), tier.tierName || "No tier yet"];
  if (tier.nextTierName) parts.push(`${points(tier.nextTierThreshold - tier.currentBalance)} to ${tier.nextTierName}`);
  else if (tier.tierName) parts.push("top tier");
  parts.push(`${vouchers.length} reward${vouchers.length === 1 ? "" : "s"} available`);
  return parts.join(" · ");
}

const brevo = new BrevoClient({ apiKey: options["api-key"], baseUrl: options["base-url"], maxRetries: 0 });
try {
  console.log(await readWidget(brevo, options["program-id"], options["contact-id"]));
} catch (error) {
  report(error, options["base-url"]);
}

// The mock's home page: the seeded world's ids and the request journal.
// Reads only the mock's own JSON endpoints (/__mock__/world, /__mock__/requests, /__mock__/webhooks).
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("mock-config").textContent);
  const $ = (id) => document.getElementById(id);
  const state = { organisation: config.organisation, world: null, journal: [], timer: null };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function copyable(text) {
    const code = el("code", { class: "copy", title: "click to copy" }, text);
    code.addEventListener("click", () => {
      if (navigator.clipboard) navigator.clipboard.writeText(text).catch(() => {});
      code.classList.add("copied");
      setTimeout(() => code.classList.remove("copied"), 800);
    });
    return code;
  }

  async function getJson(path) {
    const response = await fetch(path, { cache: "no-store" });
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
    return body;
  }

  // ------------------------------------------------------------------ world

  function table(headers, rows) {
    return el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
      el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c))))));
  }

  function programCard(program, world) {
    const base = world.baseUrl;
    const definitions = table(["balance definition", "id", "unit", ""],
      program.balanceDefinitions.map((d) => [d.name, copyable(d.id), d.unit, d.internal ? "internal" : ""]));
    const tiers = program.tierGroups.map((group) => el("div", { class: "tier-group" },
      el("strong", {}, group.name), " ", copyable(group.id), " on ",
      (program.balanceDefinitions.find((d) => d.id === group.balanceDefinitionId) || {}).name || "?", ": ",
      group.tiers.map((tier, i) => [i ? " → " : "", el("span", { class: "badge" }, `${tier.name} ${tier.threshold}`)])));
    const rewards = table(["reward", "id", "state", "code pool"],
      program.rewards.map((r) => [r.name, copyable(r.id), r.state, r.codePoolId ? copyable(r.codePoolId) : "—"]));
    const members = table(["contactId", "loyaltySubscriptionId", "", ""],
      program.members.map((m) => {
        const params = new URLSearchParams({ contactId: m.contactId, pid: program.id });
        if (world.apiKeys && world.apiKeys[0]) params.set("apiKey", world.apiKeys[0]);
        return [copyable(String(m.contactId)), m.loyaltySubscriptionId, m.fixture ? "fixture" : "",
          el("a", { href: `${config.prefix}/widget?${params}`, class: "widget-link" }, "widget")];
      }));
    const balancesUrl = program.members[0]
      ? `${base}/loyalty/balance/programs/${program.id}/subscriptions/${program.members[0].contactId}/balances`
      : `${base}/loyalty/config/programs/${program.id}`;
    return el("section", { class: "panel program", "data-program-id": program.id },
      el("div", { class: "panel-head" },
        el("h2", {}, program.name), el("span", { class: `state ${program.state}` }, program.state),
        copyable(program.id), el("span", { class: "hint" }, `${program.memberCount.toLocaleString("en-US")} member${program.memberCount === 1 ? "" : "s"}`)),
      el("pre", { class: "curl" }, `curl -s -H 'api-key: ${(world.apiKeys || [""])[0]}' ${balancesUrl}`),
      definitions,
      program.tierGroups.length ? el("div", { class: "tiers" }, tiers) : null,
      rewards,
      program.codePools.length ? el("p", { class: "hint" }, "code pools: ",
        program.codePools.map((p, i) => [i ? ", " : "", `${p.name} `, copyable(p.id), ` (${p.count} codes)`])) : null,
      el("h3", {}, "members"), members);
  }

  function showWorld(world) {
    state.world = world;
    $("base-url").replaceChildren(copyable(world.baseUrl));
    $("api-keys").replaceChildren(...(world.apiKeys || []).flatMap((key, i) => [i ? " " : "", copyable(key)]));
    if (world.keyWorld) $("api-keys").replaceChildren(el("code", {}, world.keyWorld.apiKey || "—"), " (masked)");
    const stats = world.stats;
    $("world-stats").textContent = `seed ${world.seed}, ${world.contacts.toLocaleString("en-US")} contacts per published ` +
      `program, ${stats.programs} programs, ${stats.transactions.toLocaleString("en-US")} transactions ` +
      `(clock ${world.referenceNow})`;
    $("cors-origins").textContent = config.corsOrigins.join(", ") || "none";
    $("try-curl").textContent =
      `curl -s -H 'api-key: ${(world.apiKeys || [""])[0]}' ${world.baseUrl}/loyalty/config/programs`;
    const fixtureFirst = [...world.programs].sort((a, b) =>
      Number(b.members.some((m) => m.fixture)) - Number(a.members.some((m) => m.fixture)));
    $("programs").replaceChildren(...fixtureFirst.map((program) => programCard(program, world)));
    showKeyWorlds(world.keyWorlds);
  }

  // With --world-per-key: the live per-key worlds (keys masked), each a link to its world.
  function showKeyWorlds(keyWorlds) {
    $("key-worlds").hidden = !keyWorlds;
    if (!keyWorlds) return;
    const idle = keyWorlds.idleTimeoutSeconds === null ? "never dropped" : `dropped after ${keyWorlds.idleTimeoutSeconds} s idle`;
    $("key-worlds-count").textContent = `${keyWorlds.live.length}`;
    $("key-worlds-rule").textContent = `any api-key starting with ${keyWorlds.prefix}; ${idle}; ${keyWorlds.evicted} dropped so far`;
    $("key-worlds-rows").replaceChildren(...keyWorlds.live.map((w) => el("tr",
      { class: w.organisation === state.organisation ? "current" : null },
      el("td", {}, el("a", { href: `${config.prefix}/?${new URLSearchParams({ organisation: w.organisation })}` },
        w.organisation)),
      el("td", {}, el("code", {}, w.apiKey || "—")),
      el("td", {}, new Date(w.lastUsedAt).toLocaleTimeString("en-GB")),
      el("td", {}, w.writes))));
  }

  async function loadWorld() {
    const params = new URLSearchParams({ sample: "5", organisation: state.organisation });
    try {
      state.world = await getJson(`${config.prefix}/world?${params}`);
      showWorld(state.world);
      loadWebhooks();
    } catch (error) {
      $("programs").replaceChildren(el("p", { class: "widget-error" }, `Could not load the world: ${error.message}`));
    }
  }

  // ------------------------------------------------------------------ journal

  function showJournal() {
    const onlyViolations = $("journal-violations").checked;
    const onlyWrites = $("journal-writes").checked;
    const entries = state.journal
      .filter((e) => (!onlyViolations || e.violations.length) && (!onlyWrites || isWrite(e)))
      .slice().reverse();
    $("journal-count").textContent = `${state.journal.length}`;
    $("journal-empty").hidden = entries.length > 0;
    $("journal-rows").replaceChildren(...entries.map((entry) => el("tr",
      { class: entry.violations.length ? "violating" : null, "data-seq": entry.seq },
      el("td", {}, entry.seq),
      el("td", {}, new Date(entry.at * 1000).toLocaleTimeString("en-GB")),
      el("td", {}, entry.method),
      el("td", { class: "path" }, entry.path + (entry.query ? `?${entry.query}` : ""), bodyOf(entry)),
      el("td", {}, entry.operation_id || "—"),
      el("td", {}, el("span", { class: `status ${entry.status < 400 ? "ok" : "bad"}` }, entry.status)),
      el("td", {}, entry.violations.length ? el("ul", {}, entry.violations.map((v) => el("li", {}, v))) : ""))));
  }

  function isWrite(entry) {
    return !["GET", "HEAD", "OPTIONS"].includes(entry.method);
  }

  // A write's body (the journal keeps its first 2 KiB), indented when it is whole JSON.
  function bodyOf(entry) {
    if (entry.body === null || entry.body === undefined) return null;
    let text = entry.body;
    try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (error) { /* cut or not JSON: as sent */ }
    return el("details", { class: "body" }, el("summary", {}, "body"), el("pre", {}, text || "(empty)"));
  }

  async function loadJournal() {
    try {
      const body = await getJson(`${config.prefix}/requests`);
      state.journal = body.requests;
      showJournal();
    } catch (error) {
      $("journal-empty").hidden = false;
      $("journal-empty").textContent = `Could not load the journal: ${error.message}`;
    }
  }

  // ------------------------------------------------------------------ webhook deliveries

  async function loadWebhooks() {
    const key = state.world && state.world.apiKeys && state.world.apiKeys[0];
    if (!key) return;  // the organisation is named by its api-key, as for the API
    try {
      const headers = { "api-key": key };
      const [setup, journal] = await Promise.all([
        fetch(`${config.prefix}/webhooks`, { cache: "no-store", headers }).then((r) => r.json()),
        fetch(`${config.prefix}/webhooks/deliveries`, { cache: "no-store", headers }).then((r) => r.json()),
      ]);
      const endpoints = setup.endpoints || [];
      $("webhooks-endpoints").textContent = endpoints.length
        ? `endpoints: ${endpoints.map((e) => `${e.id} ${e.url}`).join(", ")}` : "no endpoint configured";
      const entries = (journal.deliveries || []).slice().reverse();
      $("webhooks-count").textContent = `${entries.length}`;
      $("webhooks-empty").hidden = entries.length > 0;
      $("webhooks-rows").replaceChildren(...entries.map((entry) => el("tr",
        { class: entry.outcome === "delivered" ? null : "violating" },
        el("td", {}, entry.event),
        el("td", {}, el("code", {}, entry.event_id)),
        el("td", { class: "path" }, entry.url),
        el("td", {}, entry.attempt),
        el("td", {}, entry.due_at),
        el("td", {}, el("span", { class: `status ${entry.status && entry.status < 300 ? "ok" : "bad"}` },
          entry.status === null ? entry.error : entry.status)),
        el("td", {}, `${entry.latency_ms} ms`),
        el("td", {}, entry.outcome + (entry.next_attempt_at ? `, next at ${entry.next_attempt_at}` : "")))));
    } catch (error) {
      $("webhooks-empty").hidden = false;
      $("webhooks-empty").textContent = `Could not load the webhook deliveries: ${error.message}`;
    }
  }

  function refresh() {
    loadJournal();
    loadWebhooks();
  }

  function schedule() {
    clearInterval(state.timer);
    if ($("journal-auto").checked) state.timer = setInterval(refresh, 2000);
  }

  // ------------------------------------------------------------------ start

  if (config.organisations.length > 1) {
    const select = $("org-select");
    for (const name of config.organisations) {
      select.append(el("option", { value: name, selected: name === state.organisation }, name));
    }
    select.addEventListener("change", () => { state.organisation = select.value; loadWorld(); });
    $("org-label").hidden = false;
  }
  $("journal-refresh").addEventListener("click", loadJournal);
  $("journal-violations").addEventListener("change", showJournal);
  $("journal-writes").addEventListener("change", showJournal);
  $("journal-auto").addEventListener("change", schedule);
  $("journal-reset").addEventListener("click", async () => {
    // The header marks a call no other page could send without a preflight (mock_server/admin_guard.py).
    await fetch(`${config.prefix}/reset`, { method: "POST", headers: { "X-Brevo-Mock": "1" } });
    loadJournal();
  });
  loadWorld();
  loadJournal();
  schedule();
})();

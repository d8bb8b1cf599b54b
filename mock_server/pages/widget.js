// The loyalty widget of Brevo's "Read member data" guide, against the mock.
//
// It makes the guide's three calls in parallel (balances, tier, vouchers) with the
// api-key header, from the browser, and renders one line such as
//   340 pts · Silver · 160 pts to Gold · 1 reward available
// The server only tells it which member, program, key and balance definition to use
// (the JSON island #mock-config); everything shown comes from the API's answers.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("mock-config").textContent);
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) node.setAttribute(name, value);
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  function amount(value, unit) {
    if (!unit || unit === "POINTS") return `${integer.format(value)} pts`;
    return `${money.format(value)} ${unit}`;
  }

  // ------------------------------------------------------------------ the form

  function fillForm() {
    $("form-contact").value = config.contactId ?? "";
    $("form-pid").value = config.programChosenBy === "pid" ? config.programId : "";
    $("form-key").value = config.apiKey ?? "";
    const members = config.members || [];
    const hint = $("widget-members");
    if (!members.length) return;
    hint.append("Try: ");
    members.forEach((member, index) => {
      if (index) hint.append(", ");
      const params = new URLSearchParams({ contactId: member.contactId, pid: member.programId });
      const link = el("a", { href: `${config.prefix}/widget?${params}` }, `contact ${member.contactId}`);
      hint.append(link, ` (${member.programName}${member.fixture ? ", fixture" : ""})`);
    });
  }

  // ------------------------------------------------------------------ the calls

  async function call(name, url) {
    const started = performance.now();
    const record = { name, url, status: null, body: null, error: null, ms: 0, remaining: null };
    try {
      const response = await fetch(url, { headers: { "api-key": config.apiKey }, cache: "no-store" });
      record.status = response.status;
      record.remaining = response.headers.get("x-sib-ratelimit-remaining");
      const text = await response.text();
      try {
        record.body = text ? JSON.parse(text) : null;
      } catch (_) {
        record.body = text;
      }
    } catch (error) {
      record.error = error;
    }
    record.ms = Math.round(performance.now() - started);
    return record;
  }

  function showCalls(records) {
    const box = $("widget-calls");
    box.replaceChildren();
    for (const record of records) {
      const status = record.error ? "network error" : String(record.status);
      const ok = !record.error && record.status >= 200 && record.status < 300;
      const head = el(
        "summary", {},
        el("span", { class: `status ${ok ? "ok" : "bad"}` }, status), " GET ",
        el("code", {}, record.url), ` · ${record.ms} ms`,
        record.remaining !== null ? ` · x-sib-ratelimit-remaining ${record.remaining}` : "",
      );
      const body = record.error ? String(record.error) : JSON.stringify(record.body, null, 2);
      box.append(el("details", { class: "call", "data-call": record.name, "data-status": status },
        head, el("pre", {}, body)));
    }
  }

  function failure(record) {
    if (record.error) {
      const origins = (config.corsOrigins || []).join(", ") || "none";
      return `${record.name}: could not reach ${record.url} (${record.error.message || record.error}). ` +
        `Is the mock running there, and does it allow this page's origin ${location.origin}? ` +
        `Its CORS origins: ${origins} (--cors-origin).`;
    }
    const body = record.body && typeof record.body === "object" ? record.body : {};
    const detail = body.code ? `${body.code}: ${body.message}` : JSON.stringify(record.body);
    return `${record.name}: HTTP ${record.status} ${detail}`;
  }

  // ------------------------------------------------------------------ rendering

  function balanceValue(balances) {
    // The reference shape {balance: [{balanceDefinitionId, value}]}; the guide shows a bare array.
    const list = Array.isArray(balances) ? balances : (balances && balances.balance) || [];
    const wanted = config.balanceDefinition && config.balanceDefinition.id;
    const entry = list.find((item) => item.balanceDefinitionId === wanted) || (wanted ? null : list[0]);
    return entry ? Number(entry.value) : 0;
  }

  function render(balances, tier, vouchers) {
    const unit = config.balanceDefinition ? config.balanceDefinition.unit : "POINTS";
    const value = balanceValue(balances);
    const parts = [amount(value, unit)];
    parts.push(tier.tierName || "No tier yet");
    if (tier.nextTierName && tier.nextTierThreshold !== null) {
      const missing = Math.max(0, Math.round((tier.nextTierThreshold - tier.currentBalance) * 100) / 100);
      parts.push(`${amount(missing, unit)} to ${tier.nextTierName}`);
    } else if (tier.tierName) {
      parts.push("top tier");
    }
    const count = Array.isArray(vouchers) ? vouchers.length : 0;
    parts.push(`${count} reward${count === 1 ? "" : "s"} available`);

    const summary = $("widget-summary");
    summary.textContent = parts.join(" · ");
    summary.dataset.state = "ready";

    const shown = amount(value, unit).split(" ");
    $("widget-points").textContent = shown[0];
    $("widget-unit").textContent = shown.slice(1).join(" ");
    $("widget-tier").textContent = tier.tierName || "No tier yet";
    $("widget-next").textContent = parts.length > 3 ? parts[2] : "";
    if (tier.nextTierThreshold) {
      $("widget-meter").hidden = false;
      const ratio = Math.min(1, tier.currentBalance / tier.nextTierThreshold);
      $("widget-meter-fill").style.width = `${Math.round(ratio * 100)}%`;
    }
    $("widget-rewards-title").textContent = count ? "Your rewards" : "No reward available yet";
    const list = $("widget-vouchers");
    list.replaceChildren();
    for (const voucher of vouchers || []) {
      const expires = voucher.expiresAt ? ` · until ${voucher.expiresAt.slice(0, 10)}` : "";
      list.append(el("li", { class: "voucher" },
        el("code", { class: "voucher-code" }, voucher.code),
        el("span", {}, ` ${voucher.offerName}`),
        el("span", { class: "hint" }, ` · ${voucher.publicDescription || ""}${expires}`)));
    }
    $("widget-body").hidden = false;
  }

  function showProblem(message) {
    const summary = $("widget-summary");
    summary.textContent = "The widget could not be rendered";
    summary.dataset.state = "error";
    const box = $("widget-error");
    box.hidden = false;
    box.replaceChildren(...[].concat(message).map((line) => el("p", {}, line)));
  }

  async function main() {
    fillForm();
    if (config.problem) {
      showProblem(config.problem);
      return;
    }
    const program = config.programName ? `${config.programName} · ` : "";
    const definition = config.balanceDefinition ? ` · ${config.balanceDefinition.name}` : "";
    $("widget-program").textContent = `${program}contact ${config.contactId}${definition}`;

    const BASE = `${config.apiBase}/loyalty/balance/programs/${encodeURIComponent(config.programId)}` +
      `/subscriptions/${encodeURIComponent(config.contactId)}`;
    const records = await Promise.all([
      call("balances", `${BASE}/balances`),
      call("tier", `${BASE}/tier`),
      call("vouchers", `${BASE}/vouchers`),
    ]);
    showCalls(records);
    const failed = records.filter((record) => record.error || record.status < 200 || record.status >= 300);
    if (failed.length) {
      showProblem(failed.map(failure));
      return;
    }
    const [balances, tier, vouchers] = records.map((record) => record.body);
    render(balances, tier, vouchers);
  }

  main().catch((error) => showProblem(`Unexpected error: ${error && error.stack ? error.stack : error}`));
})();

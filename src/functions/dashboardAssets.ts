// The dashboard's page, script and style, served by the app itself (no CDN, no build step): the
// script is plain browser JavaScript kept here as text. It builds every element with the DOM API
// and sets text with textContent only, so a stored value (a reason, a display name) is never
// parsed as markup. It polls GET /api/ops/overview with If-None-Match (a 304 costs nothing and
// redraws nothing), and each action asks for a confirmation before it is sent.

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gallery-share operations</title>
<link rel="stylesheet" href="/api/dashboard/app.css">
<script src="/api/dashboard/app.js" defer></script>
</head>
<body>
<header><h1>gallery-share</h1><p id="who" aria-live="polite">Loading…</p><button id="reconcile" type="button">Reconcile now</button></header>
<main>
<p id="message" role="status" aria-live="polite"></p>
<section aria-labelledby="h-attention"><h2 id="h-attention">Needs attention</h2><ul id="attention"></ul></section>
<section aria-labelledby="h-details" id="details-section" hidden><h2 id="h-details" tabindex="-1">Details</h2><div id="details"></div></section>
<section aria-labelledby="h-versions"><h2 id="h-versions">Image versions</h2><div id="versions"></div></section>
<section aria-labelledby="h-tenants"><h2 id="h-tenants">Tenants</h2><div id="tenants"></div></section>
<section aria-labelledby="h-access"><h2 id="h-access">Access matrix</h2><div id="access"></div></section>
<section aria-labelledby="h-limits"><h2 id="h-limits">Direct-sharing limits and share-call budget</h2><div id="limits"></div></section>
<section aria-labelledby="h-drift"><h2 id="h-drift">Drift</h2><div id="drift"></div></section>
<section aria-labelledby="h-actions"><h2 id="h-actions">Recent operator actions</h2><div id="actions"></div></section>
</main>
</body>
</html>
`;

export const DASHBOARD_CSS = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #111; background: #fff; }
body { margin: 0 auto; max-width: 1200px; padding: 0 1rem 2rem; }
header { display: flex; gap: 1rem; align-items: center; border-bottom: 2px solid #222; }
header h1 { font-size: 1.4rem; margin: 0.6rem 0; }
header p { flex: 1; margin: 0; }
h2 { font-size: 1.1rem; margin-top: 1.6rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; border-bottom: 1px solid #bbb; padding: 0.3rem 0.4rem; vertical-align: top; }
th { background: #eee; }
button { font: inherit; padding: 0.2rem 0.6rem; border: 1px solid #333; background: #f4f4f4; color: #111; border-radius: 3px; cursor: pointer; }
button:focus-visible, a:focus-visible, select:focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
.bar { display: inline-block; width: 8rem; height: 0.8rem; border: 1px solid #333; vertical-align: middle; }
.bar > span { display: block; height: 100%; background: #0b57d0; }
.bad { color: #a00000; font-weight: 600; }
.ok { color: #0a5c0a; }
#message { min-height: 1.4rem; font-weight: 600; }
li { margin: 0.3rem 0; }
`;

export const DASHBOARD_JS = `
"use strict";
(function () {
  let etag = null;
  let me = { name: "", roles: [], canAct: false };
  const $ = (id) => document.getElementById(id);
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function table(headers, rows) {
    const t = el("table");
    const head = el("tr");
    for (const h of headers) head.appendChild(el("th", h));
    const thead = el("thead"); thead.appendChild(head); t.appendChild(thead);
    const body = el("tbody");
    for (const cells of rows) {
      const tr = el("tr");
      for (const c of cells) {
        const td = el("td");
        if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined || c === null ? "" : String(c);
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    t.appendChild(body);
    return t;
  }
  function bar(progress) {
    const b = el("span", null, "bar");
    b.setAttribute("role", "img");
    b.setAttribute("aria-label", progress + " %");
    const fill = el("span"); fill.style.width = Math.max(0, Math.min(100, progress)) + "%";
    b.appendChild(fill);
    return b;
  }
  function say(text, bad) { const m = $("message"); m.textContent = text; m.className = bad ? "bad" : "ok"; }
  async function act(label, method, path, body) {
    if (!window.confirm(label + "?")) return;
    const r = await fetch(path, { method, headers: { "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined, credentials: "same-origin" });
    let text = r.status + "";
    try { const j = await r.json(); text = j.error ? j.error.message : JSON.stringify(j); } catch (e) { /* no body */ }
    if (r.ok) say(label + ": done (" + r.status + ")", false); else say(label + ": refused (" + r.status + "): " + text, true);
    etag = null;
    await refresh();
  }
  function button(label, onClick) { const b = el("button", label); b.type = "button"; b.addEventListener("click", onClick); return b; }
  function versions(list) {
    const rows = list.map((v) => {
      const repl = el("div");
      for (const r of v.replication) { const line = el("div"); line.appendChild(el("span", r.region + " ")); line.appendChild(bar(r.progress)); line.appendChild(el("span", " " + r.progress + " % " + r.state)); repl.appendChild(line); }
      const rollout = v.rollout ? v.rollout.rings.map((r) => "ring " + r.ring + " " + r.state + " " + r.succeeded + "/" + r.total).join(", ") + "; latest: " + v.rollout.promotion.state : "";
      const actions = el("div");
      actions.appendChild(button("Retry publish", () => act("Retry the publish of " + v.version, "POST", "/api/ops/versions/" + v.versionId + "/retry")));
      actions.appendChild(button("Revoke", () => { const reason = window.prompt("Why is " + v.version + " revoked?"); if (reason) act("Revoke " + v.version, "POST", "/api/ops/versions/" + v.versionId + "/revoke", { reason }); }));
      const state = v.runtimeStatus + (v.step ? " / " + v.step : "") + (v.error ? " — " + v.error.code + ": " + v.error.message : "") + (v.revoked ? " — revoked by " + v.revoked.by + ": " + v.revoked.reason : "");
      return [v.image + " " + v.version, state, repl, rollout, actions];
    });
    return table(["Version", "State", "Replication", "Rollout", "Actions"], rows);
  }
  function tenants(list) {
    const rows = list.map((t) => {
      const vms = t.workloads.map((w) => w.kind + " " + w.name + " on " + w.version + " " + w.provisioningState + (w.latest && w.latest !== w.version ? " (latest " + w.latest + ")" : w.latest ? " (latest)" : "") + (w.error ? " (" + w.error + ")" : "")).join("; ");
      const open = button("Open", () => openTenant(t.tenantId).catch((e) => say(String(e), true)));
      const ring = button("Change ring", () => { const r = window.prompt("New ring for " + t.displayName + " (0 = canaries)", String(t.ring)); if (r !== null && r !== "") act("Move " + t.displayName + " to ring " + r, "PUT", "/api/ops/tenants/" + t.tenantId + "/ring", { ring: Number(r) }); });
      const actions = el("div"); actions.appendChild(open); actions.appendChild(ring);
      if (t.state === "active" || t.state === "failed") actions.appendChild(button("Offboard", () => act("Offboard " + t.displayName + " from every gallery", "POST", "/api/ops/tenants/" + t.tenantId + "/offboard")));
      if (t.mode === "rbac" && t.state === "failed") actions.appendChild(button("New consent link", () => act("Send " + t.displayName + " a new consent link", "POST", "/api/ops/tenants/" + t.tenantId + "/consent-link")));
      return [t.displayName, t.mode, t.state + (t.reason ? ": " + t.reason : ""), String(t.ring), t.galleries.map((g) => g.split("/").pop()).join(", "), vms, actions];
    });
    return table(["Tenant", "Mode", "State", "Ring", "Galleries", "VMs and scale sets", "Actions"], rows);
  }
  async function openTenant(tenantId) {
    const r = await fetch("/api/ops/tenants/" + encodeURIComponent(tenantId), { credentials: "same-origin" });
    if (!r.ok) { say("The tenant answered " + r.status, true); return; }
    const d = await r.json();
    const box = $("details"); box.replaceChildren();
    box.appendChild(el("h3", d.tenant.displayName + " (" + d.tenant.mode + ", " + d.tenant.state + ")"));
    if (d.tenant.reason) box.appendChild(el("p", "Reason: " + d.tenant.reason));
    box.appendChild(el("p", "Grants: " + (d.grants.map((g) => g.kind + " " + g.targetId + " on " + g.galleryId.split("/").pop()).join("; ") || "none")));
    if (d.request) {
      box.appendChild(el("h3", "Request " + d.request.requestId));
      box.appendChild(el("p", d.request.schema + ": " + d.request.state + (d.request.reason ? " — " + d.request.reason : "")));
    }
    if (d.orchestration) {
      const o = d.orchestration;
      box.appendChild(el("h3", "Orchestration " + o.instanceId));
      box.appendChild(el("p", o.name + ": " + o.runtimeStatus + (o.customStatus && o.customStatus.step ? " / " + o.customStatus.step : "")));
      box.appendChild(table(["When", "Event", "Name", "Detail"], o.timeline.map((t) => [t.at, t.event, t.name, t.detail])));
    }
    $("details-section").hidden = false;
    $("h-details").focus();
  }
  function render(o) {
    const attention = $("attention"); attention.replaceChildren();
    if (o.needsAttention.length === 0) attention.appendChild(el("li", "Nothing needs attention."));
    for (const item of o.needsAttention) {
      const li = el("li"); li.appendChild(el("strong", item.title)); li.appendChild(el("span", " — " + item.detail));
      if (item.tenantId) { li.appendChild(el("span", " ")); li.appendChild(button("Open", () => openTenant(item.tenantId).catch((e) => say(String(e), true)))); }
      attention.appendChild(li);
    }
    $("versions").replaceChildren(versions(o.versions));
    $("tenants").replaceChildren(tenants(o.tenants));
    $("access").replaceChildren(table(["Gallery", "Tenants (how)"], o.access.map((a) => [a.galleryId.split("/").pop(), (a.community ? "everyone (community) " : "") + a.tenants.map((t) => { const n = o.tenants.find((x) => x.tenantId === t.tenantId); return (n ? n.displayName : t.tenantId) + " (" + t.how + ")"; }).join(", ")])));
    const limits = $("limits"); limits.replaceChildren(table(["Gallery", "Subscriptions", "Tenants"], o.limits.map((l) => [l.galleryId.split("/").pop(), l.subscriptions + "/" + l.maxSubscriptions, l.tenants + "/" + l.maxTenants])));
    limits.appendChild(table(["Subscription", "Share calls, last 3 min (of ~10)", "Last 30 min (of ~60)", "Queued changes"], o.shareBudget.map((b) => [b.subscriptionId, b.callsInLast3Minutes, b.callsInLast30Minutes, b.queued])));
    $("drift").replaceChildren(o.drift.galleries.length === 0 ? el("p", "No reconciliation report yet.") : table(["Gallery", "Missing", "Unexpected"], o.drift.galleries.map((g) => [g.galleryId.split("/").pop(), g.missing, g.unexpected])));
    $("actions").replaceChildren(table(["When", "Who", "Action", "Target", "Answer"], o.actions.map((a) => [a.at, a.by, a.action, a.target, a.status + (a.detail ? ": " + a.detail : "")])));
  }
  async function refresh() {
    const r = await fetch("/api/ops/overview", { headers: etag ? { "if-none-match": etag } : {}, credentials: "same-origin" });
    if (r.status === 304) return;
    if (r.status === 401) { window.location.assign("/.auth/login/aad?post_login_redirect_uri=/api/dashboard"); return; }
    if (!r.ok) { say("The overview answered " + r.status, true); return; }
    etag = r.headers.get("etag");
    render(await r.json());
  }
  async function start() {
    const r = await fetch("/api/ops/me", { credentials: "same-origin" });
    if (r.status === 401) { window.location.assign("/.auth/login/aad?post_login_redirect_uri=/api/dashboard"); return; }
    if (!r.ok) { const j = await r.json().catch(() => ({})); $("who").textContent = (j.error && j.error.message) || ("HTTP " + r.status); return; }
    me = await r.json();
    $("who").textContent = "Signed in as " + me.name + " (" + (me.roles.join(", ") || "no roles") + ")" + (me.canAct ? "" : " — read only");
    $("reconcile").addEventListener("click", () => act("Reconcile now", "POST", "/api/ops/reconcile"));
    await refresh();
    window.setInterval(() => { refresh().catch(() => say("Could not reach the app", true)); }, 5000);
  }
  document.addEventListener("DOMContentLoaded", () => { start().catch((e) => say(String(e), true)); });
})();
`;

/** The dashboard's Content-Security-Policy: its own script and style only, no inline code, no other origin. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

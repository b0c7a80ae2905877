// plowline up web UI: plain JavaScript over the Micro-compatible API (no build step).
"use strict";

const POLL_MS = 1000;
const MODELS_POLL_MS = 5000;
const state = { tab: "good", good: [], bad: [], selectedGood: null, selectedBad: null, lastModels: 0 };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, init);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function goodFilters() {
  const filters = { limit: Number(document.getElementById("filter-limit").value) || 200 };
  const type = document.getElementById("filter-type").value;
  const schema = document.getElementById("filter-schema").value.trim();
  const context = document.getElementById("filter-context").value.trim();
  if (type) filters.event_type = type;
  if (schema) filters.schema = schema;
  if (context) filters.contexts = [context];
  return filters;
}

function key(good) { return good.event && good.event.event_id; }

function json(value) { return el("pre", {}, JSON.stringify(value, null, 2)); }

function fieldTable(obj) {
  const body = el("tbody");
  for (const [name, value] of Object.entries(obj)) {
    if (value === null || value === undefined) continue;
    if (["contexts", "derived_contexts", "unstruct_event"].includes(name)) continue;
    body.append(el("tr", {}, el("td", {}, name), el("td", { class: "wrap" }, typeof value === "object" ? JSON.stringify(value) : String(value))));
  }
  return el("table", { class: "fields" }, body);
}

function entities(value) {
  if (!value || !Array.isArray(value.data) || value.data.length === 0) return el("p", { class: "dim" }, "none");
  return el("div", {}, ...value.data.map((entity) => el("div", {},
    el("div", { class: "badge" }, entity.schema), json(entity.data))));
}

function renderGoodDetail(good) {
  const box = document.getElementById("good-detail");
  box.replaceChildren();
  if (!good) { box.append(el("p", { class: "dim" }, "Select an event to see its fields, entities and raw parameters.")); return; }
  const e = good.event || {};
  box.append(
    el("h3", {}, `${e.event_name || good.eventType} `, el("span", { class: "dim" }, e.event_id || "")),
    el("div", {}, el("span", { class: "badge" }, good.schema || "")),
  );
  if (e.unstruct_event) box.append(el("h3", {}, "Self-describing event"), json(e.unstruct_event.data || e.unstruct_event));
  box.append(el("h3", {}, "Entities (contexts)"), entities(e.contexts));
  box.append(el("h3", {}, "Derived entities"), entities(e.derived_contexts));
  box.append(el("h3", {}, "Fields"), fieldTable(e));
  if (good.rawEvent) box.append(el("h3", {}, "Raw parameters"), json(good.rawEvent.parameters));
}

function renderGood() {
  const rows = document.getElementById("good-rows");
  rows.replaceChildren();
  if (state.good.length === 0) rows.append(el("tr", {}, el("td", { colspan: 5, class: "empty" }, "No good events yet.")));
  for (const good of state.good) {
    const e = good.event || {};
    const tr = el("tr", { "data-event-id": e.event_id || "", onclick: () => { state.selectedGood = key(good); renderGood(); } },
      el("td", {}, (e.collector_tstamp || "").replace("T", " ").replace("Z", "")),
      el("td", {}, e.event_name || good.eventType || ""),
      el("td", {}, e.app_id || ""),
      el("td", { class: "wrap" }, e.event === "page_view" || e.event === "page_ping" ? (e.page_url || "") : (good.schema || "")),
      el("td", {}, String((good.contexts || []).length)));
    if (key(good) === state.selectedGood) tr.classList.add("selected");
    rows.append(tr);
  }
  renderGoodDetail(state.good.find((g) => key(g) === state.selectedGood));
}

function badKind(bad) {
  const row = bad.errors && bad.errors[bad.errors.length - 1];
  try { return JSON.parse(row).schema.split("/")[1]; } catch (err) { return "bad row"; }
}

function renderBadDetail(bad) {
  const box = document.getElementById("bad-detail");
  box.replaceChildren();
  if (!bad) { box.append(el("p", { class: "dim" }, "Select a bad event to see why it failed.")); return; }
  const errors = bad.errors || [];
  box.append(el("h3", {}, "Why it failed"));
  for (const reason of errors.slice(0, -1)) box.append(el("p", { class: "reason" }, reason));
  let row = errors[errors.length - 1];
  try { row = JSON.parse(row); } catch (err) { /* shown as text */ }
  if (bad.rawEvent) box.append(el("h3", {}, "Raw parameters"), json(bad.rawEvent.parameters));
  if (bad.collectorPayload) box.append(el("h3", {}, "Request"), json(bad.collectorPayload));
  box.append(el("h3", {}, "Bad row"), json(row));
}

function renderBad() {
  const rows = document.getElementById("bad-rows");
  rows.replaceChildren();
  if (state.bad.length === 0) rows.append(el("tr", {}, el("td", { colspan: 3, class: "empty" }, "No bad events.")));
  state.bad.forEach((bad, index) => {
    const api = bad.collectorPayload ? `${bad.collectorPayload.vendor}/${bad.collectorPayload.version}` : "";
    const tr = el("tr", { onclick: () => { state.selectedBad = index; renderBad(); } },
      el("td", {}, el("span", { class: "badge bad" }, badKind(bad))),
      el("td", { class: "wrap reason" }, (bad.errors || [])[0] || ""),
      el("td", {}, api));
    if (index === state.selectedBad) tr.classList.add("selected");
    rows.append(tr);
  });
  renderBadDetail(state.bad[state.selectedBad]);
}

const SESSION_COLUMNS = ["domain_sessionid", "domain_userid", "app_id", "start_tstamp", "end_tstamp", "events", "page_views", "engaged_time_s", "first_page_url", "channel"];
const PAGE_VIEW_COLUMNS = ["page_view_id", "domain_sessionid", "page_view_in_session_index", "start_tstamp", "page_url", "page_title", "page_pings", "engaged_time_s", "vertical_scroll_pct"];

function modelTable(table, wanted) {
  if (!table || table.rows.length === 0) return el("p", { class: "dim" }, "none yet");
  const picked = wanted.map((c) => table.columns.indexOf(c)).filter((i) => i >= 0);
  const index = picked.length ? picked : table.columns.map((_, i) => i);
  return el("div", { class: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, ...index.map((i) => el("th", {}, table.columns[i])))),
    el("tbody", {}, ...table.rows.map((r) => el("tr", {}, ...index.map((i) => el("td", { class: "wrap" }, r[i] === null ? "" : String(r[i]))))))));
}

async function refreshModels() {
  const note = document.getElementById("models-note");
  try {
    const models = await api("/plowline/models");
    const sessions = document.getElementById("models-sessions");
    const views = document.getElementById("models-page-views");
    if (!models.available) {
      note.textContent = `This view needs the web model: ${models.reason}`;
      sessions.replaceChildren(); views.replaceChildren();
      return;
    }
    note.textContent = `Web model run over the stored events: ${models.counts.sessions ?? 0} sessions, ${models.counts.page_views ?? 0} page views.`;
    sessions.replaceChildren(modelTable(models.sessions, SESSION_COLUMNS));
    views.replaceChildren(modelTable(models.pageViews, PAGE_VIEW_COLUMNS));
  } catch (err) {
    note.textContent = `Could not load the model view: ${err.message}`;
  }
}

async function refreshStatus() {
  const status = await api("/plowline/status");
  const box = document.getElementById("notices");
  box.replaceChildren();
  if (status.store.movedAside) box.append(el("div", { class: "notice" }, `The store file could not be read (${status.store.reason}) and was moved aside to ${status.store.movedAside}.`));
  for (const p of status.schemas.problems) box.append(el("div", { class: "notice" }, `Schema skipped: ${p.path}: ${p.reason}`));
}

async function refresh() {
  try {
    const counts = await api("/micro/all");
    for (const name of ["total", "good", "bad"]) document.getElementById(`count-${name}`).textContent = counts[name];
    if (state.tab === "good") { state.good = await api("/micro/good", goodFilters()); renderGood(); }
    if (state.tab === "bad") { state.bad = await api("/micro/bad", { limit: 200 }); renderBad(); }
    if (state.tab === "models" && Date.now() - state.lastModels > MODELS_POLL_MS) { state.lastModels = Date.now(); await refreshModels(); }
    await refreshStatus();
  } catch (err) {
    document.getElementById("notices").replaceChildren(el("div", { class: "notice" }, `Cannot reach plowline up: ${err.message}`));
  }
}

function selectTab(tab) {
  state.tab = tab;
  state.lastModels = 0;
  for (const b of document.querySelectorAll(".tab")) b.classList.toggle("active", b.dataset.tab === tab);
  for (const p of document.querySelectorAll(".panel")) p.classList.toggle("active", p.id === `panel-${tab}`);
  refresh();
}

for (const b of document.querySelectorAll(".tab")) b.addEventListener("click", () => selectTab(b.dataset.tab));
document.getElementById("good-filters").addEventListener("submit", (ev) => { ev.preventDefault(); refresh(); });
document.getElementById("reset").addEventListener("click", async () => {
  await api("/micro/reset", {});
  state.selectedGood = null; state.selectedBad = null;
  refresh();
});
setInterval(() => { if (document.getElementById("live").checked) refresh(); }, POLL_MS);
refresh();

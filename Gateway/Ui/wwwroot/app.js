// OrleansControl web view (docs/ui.md). Everything arrives on one server-sent event stream (/ui/api/events):
// "view" (the whole picture, on connect and every refresh), "status" and "failover" (as they happen). The page never
// polls; buttons call the REST API with the same credentials, so the gateway authorizes them like any other call.
"use strict";

const TOKEN_KEY = "oc.token";
const MAX_SAMPLES = 60;
const MAX_MOVES = 50;
const COLORS = ["#2b6cb0", "#c05621", "#2f855a", "#805ad5", "#b83280", "#2c7a7b", "#975a16", "#4a5568"];

const state = { me: null, view: null, samples: [], moves: [], retry: 500 };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function headers(extra) {
  const h = Object.assign({}, extra);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

function message(text, kind) {
  const m = document.getElementById("message");
  m.hidden = !text;
  m.textContent = text || "";
  m.className = "message" + (kind ? " " + kind : "");
}

function age(at) {
  if (!at) return "never";
  const s = Math.max(0, (Date.now() - Date.parse(at)) / 1000);
  return s < 60 ? s.toFixed(1) + " s ago" : Math.round(s / 60) + " min ago";
}

function time(at) {
  return at ? new Date(at).toISOString().substring(11, 23) : "";
}

// ---- the stream -------------------------------------------------------------------------------------------------

async function connect() {
  const live = document.getElementById("live");
  let response;
  try {
    response = await fetch("/ui/api/events", { headers: headers({ Accept: "text/event-stream" }), cache: "no-store" });
  } catch (e) {
    return reconnect("controller unreachable");
  }
  if (response.status === 401) {
    live.textContent = "signed out";
    live.className = "live off";
    document.getElementById("signin").hidden = false;
    const problem = await response.json().catch(() => ({}));
    message(problem.detail || "authentication required: enter a bearer token");
    return;
  }
  if (!response.ok || !response.body) return reconnect("stream refused: HTTP " + response.status);

  live.textContent = "live";
  live.className = "live";
  state.retry = 500;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        dispatch(block);
      }
    }
  } catch (e) {
    // the connection dropped: reconnect below
  }
  reconnect("stream ended");
}

function reconnect(why) {
  const live = document.getElementById("live");
  live.textContent = "reconnecting (" + why + ")";
  live.className = "live off";
  setTimeout(connect, state.retry);
  state.retry = Math.min(state.retry * 2, 10000);
}

function dispatch(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) name = line.slice(7);
    else if (line.startsWith("data: ")) data.push(line.slice(6));
  }
  if (data.length === 0) return;
  const payload = JSON.parse(data.join("\n"));
  if (name === "hello") onHello(payload);
  else if (name === "view") onView(payload);
  else if (name === "status") onStatus(payload);
  else if (name === "failover") onFailover(payload);
  else if (name === "overflow") message("the page fell behind; reloading the view", "info");
}

// ---- events -----------------------------------------------------------------------------------------------------

function onHello(me) {
  state.me = me;
  document.getElementById("signin").hidden = true;
  document.getElementById("signout").hidden = !sessionStorage.getItem(TOKEN_KEY);
  document.getElementById("who").textContent =
    (me.development ? "development (no credentials)" : me.subject) + (me.operator ? " · operator" : " · read-only");
  document.body.classList.toggle("operator", !!me.operator);
  document.getElementById("dashboard").hidden = !me.dashboard;
  if (state.view) render();
}

function onView(view) {
  state.view = view;
  document.getElementById("region").textContent = view.region;
  const sample = { at: view.at, values: {} };
  for (const pool of view.pools) {
    for (const s of pool.servers) sample.values[pool.poolId + "/" + s.serverId] = s.transactionsPerSecond;
  }
  state.samples.push(sample);
  if (state.samples.length > MAX_SAMPLES) state.samples.shift();
  render();
}

function onStatus(e) {
  // The row changes at once; the next view confirms it.
  const row = state.view && state.view.connections.find(c => c.connectionId === e.connectionId);
  if (row && e.version >= row.version) {
    Object.assign(row, { status: e.to, serverId: e.serverId, serverAddress: e.serverAddress, failoverTarget: e.failoverTarget, version: e.version, statusDetail: e.statusDetail });
    renderConnections();
  }
  const move = openMove(e.connectionId);
  if (e.to === "MIGRATING") {
    const m = move || startMove(e.connectionId, e.clientId, row ? row.serverId : null, e.failoverTarget, e.reason, e.at);
    m.migratingAt = m.migratingAt || e.at;
    m.to = e.failoverTarget || m.to;
  } else if (move && e.to === "ACTIVE") {
    move.signedOnAt = e.at;
    move.to = e.serverId || move.to;
    move.ended = "done";
  } else if (move && (e.to === "FAILED" || e.to === "CLOSED")) {
    move.ended = "failed";
    move.endedAt = e.at;
    move.endReason = e.reason;
  }
  renderTimeline();
}

function onFailover(e) {
  const move = openMove(e.connectionId) || startMove(e.connectionId, e.clientId, e.fromServer, e.toServer, e.reason, e.at);
  move.to = e.toServer;
  move.attempts = (move.attempts || 0) + 1;
  renderTimeline();
}

function openMove(connectionId) {
  return state.moves.find(m => m.connectionId === connectionId && !m.ended);
}

function startMove(connectionId, clientId, from, to, reason, at) {
  const m = { connectionId, clientId, from, to, reason, decidedAt: at };
  state.moves.unshift(m);
  if (state.moves.length > MAX_MOVES) state.moves.pop();
  return m;
}

// ---- rendering --------------------------------------------------------------------------------------------------

function render() {
  renderPools();
  renderChart();
  renderConnections();
  renderTimeline();
}

function renderPools() {
  const root = document.getElementById("pools");
  const isOperator = state.me && state.me.operator;
  root.replaceChildren(...state.view.pools.map(pool => el("div", { class: "pool", "data-pool": pool.poolId },
    el("h3", {}, pool.poolId, " · load ", pool.totalLoad, " of ", pool.totalCapacity, pool.error ? " · " + pool.error : ""),
    el("table", {},
      el("thead", {}, el("tr", {}, ["Server", "Address", "Zone", "Health", "Load", "tx/s", ""].map(h => el("th", {}, h)))),
      el("tbody", {}, pool.servers.map(s => el("tr", { "data-server": s.serverId },
        el("td", {}, s.serverId),
        el("td", {}, s.address),
        el("td", {}, s.zone),
        el("td", { class: "health" }, el("span", { class: "badge h-" + s.health }, s.health),
          s.suspect ? el("span", { class: "suspect", title: s.healthDetail }, "ejected") : null),
        el("td", {}, s.load + " / " + s.capacity),
        el("td", { class: "tps" }, s.transactionsPerSecond.toFixed(1)),
        el("td", { class: "op" }, isOperator
          ? (s.health === "Unhealthy"
            ? el("button", { type: "button", onclick: () => setHealth(pool.poolId, s.serverId, "SERVER_HEALTH_HEALTHY") }, "Return to service")
            : el("button", { type: "button", class: "drain", onclick: () => setHealth(pool.poolId, s.serverId, "SERVER_HEALTH_UNHEALTHY") }, "Drain"))
          : null))))))));
}

function renderConnections() {
  const body = document.querySelector("#connections tbody");
  const isOperator = state.me && state.me.operator;
  const view = state.view;
  document.getElementById("count").textContent =
    view.connections.length < view.totalConnections ? `(${view.connections.length} of ${view.totalConnections})` : `(${view.totalConnections})`;
  body.replaceChildren(...view.connections.map(c => el("tr", { "data-connection": c.connectionId, class: c.replica ? "replica" : null },
    el("td", {}, c.connectionId),
    el("td", {}, c.clientId),
    el("td", {}, c.serverPool),
    el("td", { class: "server" }, c.serverId || "—", c.failoverTarget ? " → " + c.failoverTarget : ""),
    el("td", {}, el("span", { class: "badge status s-" + c.status }, c.status)),
    el("td", {}, c.healthScore),
    el("td", {}, age(c.lastHeartbeat)),
    el("td", {}, c.transactionsPerSecond === null || c.transactionsPerSecond === undefined ? "" : c.transactionsPerSecond.toFixed(1)),
    el("td", {}, c.region + (c.replica ? " (replica)" : "")),
    el("td", { class: "detail" }, c.statusDetail),
    el("td", { class: "op" }, isOperator && !c.replica
      ? el("button", { type: "button", class: "failover", onclick: () => failover(c.connectionId) }, "Fail over")
      : null))));
}

function renderChart() {
  const svg = document.getElementById("chart");
  const legend = document.getElementById("legend");
  const keys = [...new Set(state.samples.flatMap(s => Object.keys(s.values)))].sort();
  const max = Math.max(1, ...state.samples.flatMap(s => Object.values(s.values)));
  const W = 720, H = 200, pad = 24;
  const x = i => pad + (W - 2 * pad) * (i / Math.max(1, MAX_SAMPLES - 1));
  const y = v => H - pad - (H - 2 * pad) * (v / max);
  const ns = "http://www.w3.org/2000/svg";
  const shape = (tag, attrs) => {
    const n = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    return n;
  };
  const axis = shape("text", { x: 2, y: pad - 6, "font-size": 11, fill: "#4a5568" });
  axis.textContent = max.toFixed(0) + " tx/s";
  const children = [shape("line", { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, stroke: "#cbd5e0" }), axis];
  const offset = MAX_SAMPLES - state.samples.length;
  keys.forEach((key, k) => {
    const points = state.samples.map((s, i) => `${x(i + offset).toFixed(1)},${y(s.values[key] || 0).toFixed(1)}`).join(" ");
    children.push(shape("polyline", { points, fill: "none", stroke: COLORS[k % COLORS.length], "stroke-width": 2, "data-server": key }));
  });
  svg.replaceChildren(...children);
  legend.replaceChildren(...keys.map((key, k) => el("li", {}, el("i", { style: "background:" + COLORS[k % COLORS.length] }), key)));
}

function renderTimeline() {
  const root = document.getElementById("timeline");
  const ms = (a, b) => (a && b ? Math.round(Date.parse(b) - Date.parse(a)) + " ms" : "");
  root.replaceChildren(...state.moves.map(m => el("li", { "data-connection": m.connectionId, class: m.ended || "open" },
    el("strong", {}, m.connectionId), " ", m.from || "?", " → ", m.to || "?", " ",
    el("span", { class: "phase" }, "decided ", time(m.decidedAt), " (", m.reason, ")"),
    m.attempts > 1 ? el("span", { class: "phase" }, "attempt " + m.attempts) : null,
    m.signedOnAt ? el("span", { class: "phase done" }, "signed on ", time(m.signedOnAt), " +", ms(m.decidedAt, m.signedOnAt)) : null,
    m.ended === "failed" ? el("span", { class: "phase failed" }, "ended ", time(m.endedAt), ": ", m.endReason) : null,
    !m.ended ? el("span", { class: "phase" }, "waiting for the sidecar to sign on") : null)));
}

// ---- operator actions (the REST API, authorized by the gateway) -------------------------------------------------

async function call(method, path, body) {
  const response = await fetch(path, { method, headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body) });
  if (response.ok) return true;
  const problem = await response.json().catch(() => ({}));
  message(`${method} ${path}: HTTP ${response.status} ${problem.message || problem.detail || ""}`);
  return false;
}

async function failover(connectionId) {
  if (await call("POST", `/api/v1/connections/${encodeURIComponent(connectionId)}/failover`,
    { reason: "operator request from the web view", idempotencyKey: "ui-" + crypto.randomUUID() })) {
    message(`failover of ${connectionId} requested`, "info");
  }
}

async function setHealth(pool, server, health) {
  if (await call("POST", `/api/v1/pools/${encodeURIComponent(pool)}/servers/${encodeURIComponent(server)}/health`,
    { health, reason: "set from the web view" })) {
    message(`${server}: ${health.replace("SERVER_HEALTH_", "").toLowerCase()}`, "info");
  }
}

document.getElementById("signin").addEventListener("submit", e => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, document.getElementById("token").value.trim());
  message("");
  connect();
});
document.getElementById("signout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
});
setInterval(() => { if (state.view) renderConnections(); }, 1000); // heartbeat ages only: no request
connect();

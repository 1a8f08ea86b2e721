// Shared by rider.html and driver.html: how a browser talks to a taxi hub.
// Plain JavaScript, no build step. The page's query string may preset the
// form: ?hub=http://127.0.0.1:8080&id=u7&token=<jwt>.

"use strict";

// Close codes the hub uses to refuse a browser's handshake (docs/api.md).
const REFUSALS = {
  4400: "invalid_id",
  4401: "unauthorized",
  4403: "forbidden",
  4406: "origin_not_allowed",
  4429: "at_capacity",
  4503: "shutting_down",
};

function $(sel) {
  return document.querySelector(sel);
}

// presetForm fills the inputs named hub, id and token from the query string.
function presetForm() {
  const q = new URLSearchParams(location.search);
  for (const name of ["hub", "id", "token"]) {
    if (q.has(name)) $("#" + name).value = q.get(name);
  }
  return q.get("autoconnect") === "1";
}

function hubURL() {
  return $("#hub").value.replace(/\/+$/, "");
}

function setStatus(state, text) {
  const el = $("#status");
  el.dataset.state = state;
  el.textContent = text;
}

// api calls the hub's HTTP API and returns the decoded body, or throws an
// Error whose message is the API's error code and detail.
async function api(method, path, body, extraHeaders) {
  const headers = Object.assign({}, extraHeaders);
  const token = $("#token").value.trim();
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(hubURL() + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new Error("network: " + e.message + " (is this page's origin in --allowed-origins?)");
  }
  const data = await resp.json();
  if (!resp.ok) throw new Error(data.error + ": " + data.detail);
  return data;
}

// openFeed opens the feed of role ("driver" or "user") for the id in the
// form and calls onFrame(type, message) for every frame. A refused
// handshake closes at once with a 4xxx code; the status line shows it.
function openFeed(role, onFrame) {
  const id = $("#id").value.trim();
  const token = $("#token").value.trim();
  const url = new URL(hubURL() + "/ws/" + role + "/" + encodeURIComponent(id));
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (token) url.searchParams.set("token", token);
  setStatus("connecting", "connecting to " + url.host + "...");
  const ws = new WebSocket(url);
  ws.onmessage = (ev) => {
    const frame = JSON.parse(ev.data);
    if (frame.type === "connected") {
      setStatus("connected", "connected to node " + frame.message.node_id + " as " + frame.message.id);
    }
    onFrame(frame.type, frame.message);
  };
  ws.onclose = (ev) => {
    const refusal = REFUSALS[ev.code];
    if (refusal) {
      setStatus("refused", "refused " + ev.code + " " + ev.reason);
    } else {
      setStatus("closed", "closed " + ev.code + (ev.reason ? " " + ev.reason : ""));
    }
  };
  return ws;
}

// orderRow returns the list item of an order, creating it in list.
function orderRow(list, orderID) {
  let li = list.querySelector('li[data-order-id="' + CSS.escape(orderID) + '"]');
  if (!li) {
    li = document.createElement("li");
    li.dataset.orderId = orderID;
    li.innerHTML = '<code class="id"></code> <span class="what"></span> <span class="status"></span> <span class="extra"></span>';
    li.querySelector(".id").textContent = orderID;
    list.prepend(li);
  }
  return li;
}

function showOrder(list, o) {
  const li = orderRow(list, o.order_id);
  li.querySelector(".what").textContent =
    "(" + o.pickup.lat + ", " + o.pickup.lng + ") to (" + o.dropoff.lat + ", " + o.dropoff.lng + ")";
  setOrderStatus(li, o.status, o.driver_id);
  return li;
}

function setOrderStatus(li, status, driverID) {
  li.dataset.status = status;
  li.querySelector(".status").textContent = status + (driverID ? " by " + driverID : "");
}

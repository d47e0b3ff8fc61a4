/* QuantumLeap live dashboard: REST for state, one WebSocket for pushes.
 * Plain JS, no framework. Data is written with textContent only, never innerHTML.
 * Money is computed in fixed-point BigInt (QL.dec, 6 decimal places: static/js/ql.js), never in floats.
 * The strategy list and its lifecycle controls are strategy-list.js's; this script tells it of pushed
 * events (ql:event), engaged emergency stops (ql:killswitches) and reconnections (ql:refresh). */
(function () {
  "use strict";

  const root = document.getElementById("dashboard");
  if (!root) return;
  const WS_PATH = root.dataset.wsPath || "/ws/trading/";
  const FEED_LIMIT = 50;
  const DEBOUNCE_MS = 100;

  const { dec, mul, fmtMoney, fmtQty, pnlClass, fmtTime, fmtDateTime, timeOf, el, td, badge, tbodyOf, emptyRow, resultsOf } = QL;

  function setCount(id, n) {
    QL.setText(id, n);
  }

  function flash(node, direction) {
    node.classList.remove("tick-up", "tick-down");
    // Force a reflow so the animation restarts on consecutive ticks.
    void node.offsetWidth;
    node.classList.add(direction > 0 ? "tick-up" : "tick-down");
  }

  /* ---------- notices ---------- */
  let notice = null;
  function showNotice(text, linkText, href) {
    if (!notice) {
      notice = el("div", { class: "alert alert-error notice", role: "alert", id: "notice" });
      root.insertBefore(notice, root.firstChild);
    }
    notice.replaceChildren(el("span", null, text + " "));
    if (linkText) notice.appendChild(el("a", { href: href }, linkText));
  }

  function clearNotice() {
    if (notice) {
      notice.remove();
      notice = null;
    }
  }

  /* ---------- REST ---------- */
  // A person's command: the answer's code and sentence are shown when it is refused.
  async function command(path, button) {
    button.disabled = true;
    try {
      await QL.api.send("POST", path);
    } catch (error) {
      showNotice(error.code && error.code !== "network" ? error.message + " (" + error.code + ")" : error.message);
      button.disabled = false;
    }
  }

  function actionButton(label, path, title) {
    const button = el("button", { type: "button", class: "action", title: title }, label);
    button.addEventListener("click", () => command(path, button));
    const cell = el("td", { class: "actions" });
    cell.appendChild(button);
    return cell;
  }

  const OPEN_ORDER = new Set(["NEW", "SUBMITTED", "ACCEPTED", "PARTIALLY_FILLED", "PENDING_MODIFY"]);

  /* ---------- state ---------- */
  const state = {
    portfolio: null,
    positions: null, // [{raw, qty, avg, last, marketValue, unrealized}]
    prices: new Map(), // symbol -> BigInt last price pushed by the feed
    events: [], // newest first (by id: the order the engine recorded them in)
    eventIds: new Set(),
    killSwitches: [], // engaged emergency stops that reach this account
  };

  /* ---------- summary ---------- */
  function setCard(id, value, colour) {
    const node = document.getElementById(id);
    if (!node) return;
    node.textContent = fmtMoney(value, { sign: colour });
    node.classList.remove("up", "down", "flat");
    if (colour) node.classList.add(pnlClass(value));
  }

  function renderSummary() {
    const p = state.portfolio;
    if (!p) return;
    const cash = dec(p.cash);
    let marketValue = dec(p.market_value);
    let unrealized = dec(p.unrealized_pnl);
    let equity = dec(p.equity);
    if (state.positions && cash !== null) {
      // Between fetches, prices move: value open positions at the last pushed price.
      marketValue = state.positions.reduce((sum, pos) => sum + (pos.marketValue || 0n), 0n);
      unrealized = state.positions.reduce((sum, pos) => sum + (pos.unrealized || 0n), 0n);
      equity = cash + marketValue;
    }
    setCard("summary-cash", cash, false);
    setCard("summary-equity", equity, false);
    setCard("summary-market-value", marketValue, false);
    setCard("summary-unrealized", unrealized, true);
    setCard("summary-realized", dec(p.realized_pnl), true);
    renderTradingState();
  }

  // The account's badge: an engaged account-wide (or global) emergency stop outranks the trading state.
  function renderTradingState() {
    const badgeNode = document.getElementById("trading-state");
    const p = state.portfolio;
    if (!badgeNode || !p) return;
    const stops = state.killSwitches.filter((k) => k.scope === "ACCOUNT" || k.scope === "GLOBAL");
    if (stops.length) {
      badgeNode.textContent = "KILL SWITCH";
      badgeNode.className = "badge state-kill_switch";
      badgeNode.title = "Entries stopped: " + stops.map((k) => k.scope + " by " + k.engaged_by + ": " + k.reason).join("; ");
    } else if (p.trading_state) {
      badgeNode.textContent = p.trading_state;
      badgeNode.className = "badge state-" + String(p.trading_state).toLowerCase();
      badgeNode.title = "";
    }
  }

  function applyKillSwitches(list) {
    state.killSwitches = list.filter((k) => k.is_engaged);
    renderTradingState();
    // The strategy list (strategy-list.js) marks strategies under an emergency stop of their own.
    QL.emit("killswitches", state.killSwitches);
  }

  /* ---------- positions ---------- */
  function valuePosition(pos) {
    const pushed = state.prices.get(pos.raw.symbol);
    pos.last = pushed !== undefined ? pushed : dec(pos.raw.current_price);
    if (pos.last !== null && pos.qty !== null) {
      pos.marketValue = mul(pos.last, pos.qty);
      pos.unrealized = pos.avg !== null ? mul(pos.last - pos.avg, pos.qty) : dec(pos.raw.unrealized_pnl);
    } else {
      pos.marketValue = dec(pos.raw.market_value);
      pos.unrealized = dec(pos.raw.unrealized_pnl);
    }
  }

  function fillPriceCells(row, pos) {
    row.querySelector(".last").textContent = fmtMoney(pos.last);
    row.querySelector(".market-value").textContent = fmtMoney(pos.marketValue);
    const cell = row.querySelector(".unrealized");
    cell.textContent = fmtMoney(pos.unrealized, { sign: true });
    cell.className = "num unrealized pnl " + pnlClass(pos.unrealized);
  }

  function renderPositions() {
    const body = tbodyOf("positions-table");
    const rows = [];
    for (const pos of state.positions) {
      const p = pos.raw;
      const row = el("tr", {
        class: pos.qty === 0n ? "closed" : null,
        dataset: { symbol: p.symbol, positionId: String(p.id) },
      });
      const qtyCell = td(fmtQty(pos.qty), "num qty " + (pos.qty < 0n ? "short" : "long"));
      const realized = dec(p.realized_pnl);
      row.append(
        td(p.symbol, "strong symbol"),
        td(p.strategy_name || (p.strategy_id ? "#" + p.strategy_id : "—"), "muted"),
        qtyCell,
        td(fmtMoney(dec(p.average_price)), "num avg"),
        td("", "num last"),
        td("", "num market-value"),
        td("", "num unrealized"),
        td(fmtMoney(realized, { sign: true }), "num realized pnl " + pnlClass(realized)),
        pos.qty === 0n
          ? td("", "actions")
          : actionButton("Close", "positions/" + p.id + "/close/", "Cancel its orders and close it at market"),
      );
      fillPriceCells(row, pos);
      rows.push(row);
    }
    if (!rows.length) rows.push(emptyRow(9, "No positions."));
    body.replaceChildren(...rows);
    setCount("positions-count", state.positions.filter((pos) => pos.qty !== 0n).length);
  }

  function applyPositions(list) {
    state.positions = list
      .map((raw) => {
        const pos = { raw: raw, qty: dec(raw.quantity), avg: dec(raw.average_price) };
        valuePosition(pos);
        return pos;
      })
      // Open positions first, then by symbol.
      .sort((a, b) => (a.qty === 0n) - (b.qty === 0n) || String(a.raw.symbol).localeCompare(String(b.raw.symbol)));
    renderPositions();
    renderSummary();
  }

  function applyPrices(prices, at) {
    for (const [symbol, value] of Object.entries(prices || {})) {
      const price = dec(value);
      if (price !== null) state.prices.set(symbol, price);
    }
    const stamp = document.getElementById("prices-at");
    if (stamp && at) stamp.textContent = "prices " + fmtTime(at) + " UTC";
    if (!state.positions) return;
    const body = tbodyOf("positions-table");
    for (const pos of state.positions) {
      const before = pos.last;
      valuePosition(pos);
      if (before === pos.last) continue;
      const row = body.querySelector('tr[data-position-id="' + CSS.escape(String(pos.raw.id)) + '"]');
      if (!row) continue;
      fillPriceCells(row, pos);
      if (before !== null && pos.last !== null) flash(row.querySelector(".last"), pos.last > before ? 1 : -1);
    }
    renderSummary();
  }

  /* ---------- orders ---------- */
  function renderOrders(list) {
    const orders = list.slice().sort((a, b) => timeOf(b.created_at) - timeOf(a.created_at) || b.id - a.id);
    const rows = orders.map((o) => {
      const row = el("tr", { dataset: { orderId: String(o.id), status: o.status } });
      const status = td("", "status", o.reject_reason ? (o.reject_code ? o.reject_code + ": " : "") + o.reject_reason : null);
      status.appendChild(badge(o.status, "order-" + String(o.status).toLowerCase()));
      const limit = o.price !== null && o.price !== undefined ? fmtMoney(dec(o.price)) : o.stop_price ? "stop " + fmtMoney(dec(o.stop_price)) : "MKT";
      row.append(
        td(fmtTime(o.created_at), "time muted", fmtDateTime(o.created_at)),
        td(o.symbol, "strong symbol"),
        td(o.side, "side side-" + String(o.side).toLowerCase()),
        td(o.order_type, "muted"),
        td(fmtQty(dec(o.quantity)), "num"),
        td(limit, "num"),
        status,
        td(fmtQty(dec(o.filled_quantity)), "num filled"),
        td(o.average_fill_price ? fmtMoney(dec(o.average_fill_price)) : "—", "num avg-fill"),
        OPEN_ORDER.has(o.status) ? actionButton("Cancel", "orders/" + o.id + "/cancel/", "Cancel this order") : td("", "actions"),
      );
      return row;
    });
    if (!rows.length) rows.push(emptyRow(10, "No orders."));
    tbodyOf("orders-table").replaceChildren(...rows);
    setCount("orders-count", orders.length);
  }

  /* ---------- fills ---------- */
  function renderFills(list) {
    const fills = list.slice().sort((a, b) => timeOf(b.executed_at) - timeOf(a.executed_at) || b.id - a.id);
    const rows = fills.map((f) => {
      const row = el("tr", { dataset: { execId: String(f.exec_id), orderId: String(f.order_id) } });
      row.append(
        td(fmtTime(f.executed_at), "time muted", fmtDateTime(f.executed_at)),
        td(f.symbol, "strong symbol"),
        td(f.side, "side side-" + String(f.side).toLowerCase()),
        td(fmtQty(dec(f.quantity)), "num"),
        td(fmtMoney(dec(f.price)), "num"),
        td(fmtMoney(dec(f.commission)), "num muted"),
        td(f.exec_id, "mono muted"),
      );
      return row;
    });
    if (!rows.length) rows.push(emptyRow(7, "No fills."));
    tbodyOf("fills-table").replaceChildren(...rows);
    setCount("fills-count", fills.length);
  }

  /* ---------- event feed ---------- */
  function eventSummary(event) {
    const p = event.payload || {};
    const parts = [];
    if (p.symbol) parts.push(p.symbol);
    if (p.side) parts.push(p.side);
    if (p.signal_type) parts.push(p.signal_type);
    if (p.quantity !== undefined && p.quantity !== null) {
      let q = fmtQty(dec(p.quantity));
      if (p.price) q += " @ " + fmtMoney(dec(p.price));
      parts.push(q);
    }
    if (p.status && !String(event.type).endsWith(String(p.status).toLowerCase())) parts.push(p.status);
    if (p.cash !== undefined && p.cash !== null && String(event.type).startsWith("account.")) parts.push("cash " + fmtMoney(dec(p.cash)));
    const reasons = [];
    if (Array.isArray(p.violations)) {
      for (const v of p.violations) reasons.push(v && (v.message || v.code) ? v.message || v.code : String(v));
    }
    for (const key of ["reject_reason", "reason", "message", "error"]) {
      if (p[key] && typeof p[key] === "string") reasons.push(p[key]);
    }
    let text = parts.join(" ");
    if (reasons.length) text += (text ? " — " : "") + reasons.join("; ");
    return text;
  }

  function eventItem(event) {
    const severity = String(event.severity || "INFO").toLowerCase();
    const item = el("li", {
      class: "event severity-" + severity,
      dataset: { eventId: String(event.id), type: event.type, severity: severity },
      title: fmtDateTime(event.occurred_at) + (event.actor ? " · " + event.actor : ""),
    });
    const head = el("div", { class: "event-head" });
    head.append(el("span", { class: "event-type" }, event.type), el("time", { class: "event-time", datetime: event.occurred_at }, fmtTime(event.occurred_at)));
    item.appendChild(head);
    const summary = eventSummary(event);
    if (summary) item.appendChild(el("div", { class: "event-body" }, summary));
    return item;
  }

  // Newest on top, in the order the engine recorded them (event ids), whatever order the pushes arrive in:
  // pushes from the web process and from a worker can cross on the way.
  function addEvents(events) {
    const fresh = events.filter((e) => e && e.id !== undefined && !state.eventIds.has(e.id));
    if (!fresh.length) return;
    for (const e of fresh) state.eventIds.add(e.id);
    state.events = state.events.concat(fresh).sort((a, b) => b.id - a.id);
    while (state.events.length > FEED_LIMIT) {
      const dropped = state.events.pop();
      state.eventIds.delete(dropped.id);
    }
    const feed = document.getElementById("events-feed");
    const items = new Map(Array.from(feed.children, (item) => [item.dataset.eventId, item]));
    feed.replaceChildren(...state.events.map((e) => items.get(String(e.id)) || eventItem(e)));
  }

  /* ---------- loading and debounced refresh ---------- */
  const loaders = {
    portfolio: ["portfolio/", (body) => {
      state.portfolio = body;
      renderSummary();
    }],
    positions: ["positions/?limit=500", (body) => applyPositions(resultsOf(body))],
    orders: ["orders/?limit=100", (body) => renderOrders(resultsOf(body))],
    fills: ["executions/?limit=100", (body) => renderFills(resultsOf(body))],
    events: ["events/?limit=" + FEED_LIMIT, (body) => addEvents(resultsOf(body))],
    killSwitches: ["risk/kill-switch/", (body) => applyKillSwitches(resultsOf(body))],
  };
  const requested = {};
  const applied = {};

  function load(name) {
    const [path, render] = loaders[name];
    const ticket = (requested[name] = (requested[name] || 0) + 1);
    return QL.api.get(path)
      .then((body) => {
        // A slower, older answer must not overwrite a newer one.
        if (ticket < (applied[name] || 0)) return;
        applied[name] = ticket;
        render(body);
      })
      .catch((error) => {
        if (error instanceof QL.AuthError) showNotice("Your session has ended.", "Sign in again", "/accounts/login/?next=/");
        else console.warn("dashboard: could not load", name, error);
      });
  }

  const pending = new Set();
  let timer = null;
  function schedule(names) {
    for (const name of names) pending.add(name);
    if (timer === null) timer = setTimeout(flush, DEBOUNCE_MS);
  }
  function flush() {
    timer = null;
    const names = Array.from(pending);
    pending.clear();
    for (const name of names) load(name);
  }

  function affectedTables(type) {
    const [kind, action] = String(type).split(".");
    switch (kind) {
      case "order":
        return action === "filled" || action === "partially_filled" ? ["orders", "fills", "positions", "portfolio"] : ["orders"];
      case "execution":
        return ["fills", "orders", "positions", "portfolio"];
      case "position":
        return ["positions", "portfolio"];
      case "account":
        return ["portfolio"];
      case "risk":
        // Trading states and emergency stops, of the account or of one strategy.
        return ["portfolio", "killSwitches"];
      case "signal":
        return action === "accepted" || action === "executed" ? ["orders"] : [];
      case "strategy":
        // A strategy's orders and positions stay (pausing stops entries, never protection); a stop may flatten.
        return action === "stopped" ? ["orders", "positions", "portfolio"] : [];
      default:
        return [];
    }
  }

  function refreshAll() {
    schedule(["portfolio", "positions", "orders", "fills", "events", "killSwitches"]);
    QL.emit("refresh");
  }

  /* ---------- the live push ---------- */
  function signedOut() {
    showNotice("Your session has ended.", "Sign in again", "/accounts/login/?next=/");
  }

  /* ---------- start ---------- */
  for (const name of ["portfolio", "positions", "orders", "fills", "events", "killSwitches"]) load(name);
  QL.live({
    path: WS_PATH,
    onEvent: (event) => {
      addEvents([event]);
      schedule(affectedTables(event.type));
    },
    onPrices: applyPrices,
    onReopen: () => {
      clearNotice();
      refreshAll();
    },
    onSignedOut: signedOut,
  });
})();

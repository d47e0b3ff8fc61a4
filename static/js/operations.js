// The operations dashboard: polls /api/v1/operations/ and refreshes at once when an alert is pushed.
(function () {
  "use strict";
  const API = "/api/v1/operations/";

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function row(cells) {
    const tr = el("tr");
    for (const [text, cls] of cells) tr.appendChild(el("td", cls || "", text));
    return tr;
  }

  function fill(tableId, rows) {
    document.querySelector("#" + tableId + " tbody").replaceChildren(...rows);
  }

  function setText(id, text, state) {
    const node = document.getElementById(id);
    node.textContent = text;
    if (state) node.dataset.state = state;
  }

  function setConnection(state) {
    setText("connection-status", state);
    document.getElementById("connection").dataset.state = state;
  }

  // A moment for people: its date, time and zone (UTC), never a bare clock time.
  function fmtMoment(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function renderLoops(loops) {
    fill(
      "loops-table",
      loops.map((loop) => {
        const tr = row([
          [loop.label, "strong"],
          [loop.state, "loop-state loop-" + loop.state.replace(" ", "-")],
          [fmtMoment(loop.last_beat_at), "muted"],
          [loop.interval_seconds + " s", "num"],
          [loop.error || "", "muted small"],
        ]);
        tr.dataset.loop = loop.name;
        tr.dataset.state = loop.state;
        return tr;
      }),
    );
  }

  function render(data) {
    renderLoops(data.loops || []);
    setText("health-database", data.health.database, data.health.database === "ok" ? "ok" : "bad");
    setText("health-cache", data.health.cache, data.health.cache === "ok" ? "ok" : "bad");
    setText("workers", data.workers);
    const feed = data.market_data;
    setText("feed", feed.feed_running ? "ticking, last " + fmtMoment(feed.last_tick_at) : "not running");
    const lat = data.latency_ms.signal_to_broker;
    setText("latency", lat.count ? lat.p50 + " / " + lat.p99 + " ms" : "no orders yet");
    const audit = data.audit;
    if (audit) {
      const waiting = audit.unsealed ? ", " + audit.unsealed + " waiting since " + fmtMoment(audit.oldest_unsealed_at) : ", none waiting";
      setText("audit", audit.head_seq + " sealed, last " + fmtMoment(audit.sealed_at) + waiting);
    }
    fill(
      "brokers-table",
      data.brokers.map((b) => {
        const tr = row([[b.name, "strong"], [b.circuit, "circuit circuit-" + b.circuit.toLowerCase()], [b.failures, "num"], [fmtMoment(b.opened_at), "muted"]]);
        tr.dataset.broker = b.name;
        return tr;
      }),
    );
    const r = data.rates;
    fill("rates-table", [
      row([["Signals"], [r.signals, "num"]]),
      row([["Signals refused"], [r.signals_rejected, "num"]]),
      row([["Orders"], [r.orders, "num"]]),
      row([["Orders rejected by the broker"], [r.orders_rejected, "num"]]),
      row([["Order rejection rate"], [(r.order_rejection_rate * 100).toFixed(2) + " %", "num"]]),
      row([["Submission failures (after retries)"], [r.submission_failures, "num"]]),
    ]);
    const open = Object.entries(data.open_orders);
    fill("open-orders-table", open.length ? open.map(([s, n]) => row([[s], [n, "num"]])) : [row([["none", "muted"], ["", ""]])]);
    document.getElementById("alerts-feed").replaceChildren(
      ...data.alerts.map((a) => {
        const li = el("li", "event severity-" + a.severity.toLowerCase());
        li.dataset.type = a.type;
        const head = el("div", "event-head");
        head.append(el("span", "event-type", a.type), el("span", "event-time", fmtMoment(a.occurred_at)));
        li.appendChild(head);
        li.appendChild(el("div", "event-body", JSON.stringify(a.payload)));
        return li;
      }),
    );
  }

  let pending = null;
  async function refresh() {
    pending = null;
    try {
      const response = await fetch(API, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" });
      if (response.ok) render(await response.json());
    } catch (error) {
      setConnection("reconnecting");
    }
  }

  function soon() {
    if (!pending) pending = setTimeout(refresh, 150);
  }

  function connect(delay) {
    const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/trading/");
    socket.onopen = () => setConnection("live");
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.kind === "event" && (data.event.severity !== "INFO" || data.event.type.startsWith("broker."))) soon();
    };
    socket.onclose = () => {
      setConnection("reconnecting");
      setTimeout(() => connect(Math.min((delay || 500) * 2, 15000)), delay || 500);
    };
  }

  refresh();
  setInterval(refresh, 5000);
  connect();
})();

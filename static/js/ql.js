/* QuantumLeap's shared browser code, loaded (defer) before each page's own script; one global, QL.
 *
 * - Fixed-point decimals: amounts arrive as decimal strings and are held as BigInt scaled by 10^6,
 *   never as floats; formatting rounds half away from zero.
 * - Formatting for people: money with thousands separators, percentages, ratios, durations, and
 *   moments with their date and zone (UTC).
 * - DOM building with textContent only (never innerHTML with data).
 * - The REST client (session cookie and CSRF token; a refusal becomes an ApiError with the API's
 *   code, sentence and field errors) and the live socket with reconnect.
 * Plain script, no framework, no inline code: the pages stay friendly to a Content-Security-Policy. */
(function () {
  "use strict";

  /* ---------- fixed-point decimals ---------- */
  const SCALE = 6;
  const ONE = 10n ** BigInt(SCALE);

  function divRound(a, b) {
    const negative = a < 0n;
    const x = negative ? -a : a;
    let q = x / b;
    if ((x % b) * 2n >= b) q += 1n;
    return negative ? -q : q;
  }

  // A decimal string (or a JSON number, read through its text) as BigInt × 10^SCALE; null when absent or malformed.
  function dec(value) {
    if (value === null || value === undefined || value === "" || typeof value === "boolean") return null;
    const m = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(String(value));
    if (!m || (!m[2] && !m[3])) return null;
    const fraction = m[3] || "";
    let n = BigInt((m[2] || "") + fraction || "0");
    const shift = (m[4] ? parseInt(m[4], 10) : 0) - fraction.length + SCALE;
    if (shift >= 0) n *= 10n ** BigInt(shift);
    else n = divRound(n, 10n ** BigInt(-shift));
    return m[1] === "-" ? -n : n;
  }

  function mul(a, b) {
    return divRound(a * b, ONE);
  }

  function group3(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // n rounded to `places` (0..SCALE) with separators; options.sign puts "+" on positive values.
  function fmtFixed(n, places, options) {
    if (n === null || n === undefined) return "—";
    const r = divRound(n, 10n ** BigInt(SCALE - places));
    const negative = r < 0n;
    const s = (negative ? -r : r).toString().padStart(places + 1, "0");
    const sign = negative ? "−" : options && options.sign && r > 0n ? "+" : "";
    return places ? sign + group3(s.slice(0, -places)) + "." + s.slice(-places) : sign + group3(s);
  }

  function fmtMoney(n, options) {
    return fmtFixed(n, 2, options);
  }

  function fmtQty(n) {
    if (n === null || n === undefined) return "—";
    const negative = n < 0n;
    const s = (negative ? -n : n).toString().padStart(SCALE + 1, "0");
    const fraction = s.slice(-SCALE).replace(/0+$/, "");
    return (negative ? "−" : "") + group3(s.slice(0, -SCALE)) + (fraction ? "." + fraction : "");
  }

  // A price: two decimals at least, more when it has them (up to SCALE).
  function fmtPrice(n) {
    if (n === null || n === undefined) return "—";
    const negative = n < 0n;
    const s = (negative ? -n : n).toString().padStart(SCALE + 1, "0");
    const fraction = s.slice(-SCALE).replace(/0+$/, "").padEnd(2, "0");
    return (negative ? "−" : "") + group3(s.slice(0, -SCALE)) + "." + fraction;
  }

  // A fraction as a percentage: 0.1234 -> "12.34%".
  function fmtPercent(n, options) {
    if (n === null || n === undefined) return "—";
    const places = options && options.places !== undefined ? options.places : 2;
    return fmtFixed(n * 100n, places, options) + "%";
  }

  function fmtRatio(n, options) {
    return fmtFixed(n, options && options.places !== undefined ? options.places : 2, options);
  }

  function fmtCount(value) {
    if (value === null || value === undefined || value === "") return "—";
    const n = dec(value);
    return n === null ? String(value) : fmtFixed(n, 0);
  }

  function fmtDays(value) {
    if (value === null || value === undefined || value === "") return "—";
    const n = Number(value);
    if (!Number.isInteger(n)) return String(value);
    return group3(String(n)) + (n === 1 ? " day" : " days");
  }

  // A span of time given in seconds, as people say it: "45 s", "3 h 20 min", "2 d 4 h".
  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined || seconds === "") return "—";
    const total = Math.round(Number(seconds));
    if (!Number.isFinite(total) || total < 0) return String(seconds);
    const d = Math.floor(total / 86400);
    const h = Math.floor((total % 86400) / 3600);
    const m = Math.floor((total % 3600) / 60);
    if (d) return d + " d" + (h ? " " + h + " h" : "");
    if (h) return h + " h" + (m ? " " + m + " min" : "");
    if (m) return m + " min";
    return total + " s";
  }

  function pnlClass(n) {
    if (n === null || n === undefined || n === 0n) return "flat";
    return n > 0n ? "up" : "down";
  }

  /* ---------- moments (always UTC, always with the date and zone when shown alone) ---------- */
  function fmtTime(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    return d.toISOString().slice(11, 19);
  }

  function fmtDateTime(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function fmtDate(iso) {
    if (!iso) return "—";
    return /^\d{4}-\d{2}-\d{2}$/.test(String(iso)) ? String(iso) : fmtDateTime(iso);
  }

  function timeOf(iso) {
    const t = Date.parse(iso || "");
    return isNaN(t) ? 0 : t;
  }

  /* ---------- DOM (textContent only) ---------- */
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "dataset") Object.assign(node.dataset, value);
        else node.setAttribute(key, String(value));
      }
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function td(text, cls, title) {
    return el("td", { class: cls || null, title: title || null }, text);
  }

  function badge(text, kind) {
    return el("span", { class: "badge " + kind }, text);
  }

  function tbodyOf(id) {
    return document.querySelector("#" + id + " tbody");
  }

  function emptyRow(colspan, text, cls) {
    const row = el("tr", { class: "empty" + (cls ? " " + cls : "") });
    row.appendChild(el("td", { colspan: colspan }, text));
    return row;
  }

  function setText(id, text) {
    const node = document.getElementById(id);
    if (node) node.textContent = String(text);
    return node;
  }

  function resultsOf(body) {
    if (Array.isArray(body)) return body;
    return (body && body.results) || [];
  }

  /* ---------- a page-wide bus between this page's scripts ---------- */
  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent("ql:" + name, { detail: detail }));
  }

  function on(name, handler) {
    document.addEventListener("ql:" + name, (event) => handler(event.detail));
  }

  /* ---------- REST ---------- */
  const API = "/api/v1/";

  class AuthError extends Error {}

  // A refusal: the API's machine code and human sentence, and its field errors when it has them.
  class ApiError extends Error {
    constructor(status, code, message, errors) {
      super(message);
      this.status = status;
      this.code = code;
      this.errors = errors || null;
    }
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function refusal(path, response) {
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      /* not JSON (a page's 404, a proxy's 502): keep the status line */
    }
    if (body && typeof body === "object" && !Array.isArray(body) && (body.message || body.code || body.detail)) {
      return new ApiError(response.status, body.code || "error", body.message || String(body.detail), body.errors);
    }
    const missing = response.status === 404 || response.status === 405;
    const code = missing ? "not_available" : "http_" + response.status;
    const message = missing ? "This part of the API is not available (" + path + " answered " + response.status + ")." : path + " answered " + response.status + ".";
    return new ApiError(response.status, code, message, null);
  }

  // GET a JSON answer; 401 (and a 403 without a code of its own) means the session has ended.
  async function get(path) {
    let response;
    try {
      response = await fetch(API + path, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
    } catch (error) {
      throw new ApiError(0, "network", "Could not reach the server: " + error.message, null);
    }
    if (response.status === 401) throw new AuthError("401");
    if (!response.ok) {
      const error = await refusal(path, response);
      if (response.status === 403 && (error.code === "not_authenticated" || error.code === "http_403")) throw new AuthError("403");
      throw error;
    }
    return response.json();
  }

  // Every row of a list, page after page (the API answers at most 500 rows a page): follows `next`.
  async function getAll(path) {
    const rows = [];
    let next = path;
    while (next) {
      const body = await get(next);
      if (Array.isArray(body)) return body;
      rows.push(...((body && body.results) || []));
      next = body && body.next ? new URL(body.next, location.href).href.split(API).pop() : null;
    }
    return rows;
  }

  // A person's write: resolves to the answer's body (null for 204), throws ApiError with the refusal.
  async function send(method, path, body) {
    const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(API + path, {
        method: method,
        credentials: "same-origin",
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, "network", "Could not reach the server: " + error.message, null);
    }
    if (!response.ok) throw await refusal(path, response);
    if (response.status === 204) return null;
    try {
      return await response.json();
    } catch (error) {
      return null;
    }
  }

  /* ---------- live socket with reconnect ---------- */
  // options: path, onEvent(event), onPrices(prices, at), onReopen() (pushes were missed: reload), onSignedOut().
  function live(options) {
    const connection = document.getElementById("connection");
    const connectionText = document.getElementById("connection-status");
    function setConnection(status) {
      if (connectionText) connectionText.textContent = status;
      if (connection) connection.dataset.state = status;
    }

    let socket = null;
    let attempt = 0;
    let everOpened = false;
    let stopped = false;

    function connect() {
      if (stopped) return;
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      let opened = false;
      try {
        socket = new WebSocket(scheme + location.host + (options.path || "/ws/trading/"));
      } catch (error) {
        retry(false);
        return;
      }
      socket.addEventListener("open", () => {
        opened = true;
        attempt = 0;
        setConnection("live");
        // Pushes sent while we were away are lost: reload the truth once we are back.
        if (everOpened && options.onReopen) options.onReopen();
        everOpened = true;
      });
      socket.addEventListener("message", (message) => {
        let data;
        try {
          data = JSON.parse(message.data);
        } catch (error) {
          return;
        }
        if (data.kind === "event" && data.event) {
          if (options.onEvent) options.onEvent(data.event);
          emit("event", data.event);
        } else if (data.kind === "prices" && options.onPrices) {
          options.onPrices(data.prices, data.at);
        }
      });
      socket.addEventListener("close", (closeEvent) => {
        socket = null;
        if (closeEvent.code === 4401) {
          signedOut();
          return;
        }
        retry(opened);
      });
    }

    function signedOut() {
      stopped = true;
      setConnection("signed out");
      if (options.onSignedOut) options.onSignedOut();
    }

    function retry(wasOpen) {
      setConnection("reconnecting");
      // A refused handshake looks like a network error to the browser: ask the API whether we are still signed in.
      if (!wasOpen && attempt >= 2) {
        fetch(API + (options.probe || "portfolio/"), { credentials: "same-origin", cache: "no-store" })
          .then((response) => {
            if (response.status === 401 || response.status === 403) signedOut();
          })
          .catch(() => {});
      }
      const base = Math.min(15000, 500 * 2 ** attempt);
      attempt += 1;
      setTimeout(connect, base * (0.8 + Math.random() * 0.4));
    }

    window.addEventListener("online", () => {
      if (!socket && !stopped) {
        attempt = 0;
        connect();
      }
    });

    connect();
  }

  // Calls fn once, `ms` after the last of a burst of calls.
  function debounce(fn, ms) {
    let timer = null;
    return function () {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        fn();
      }, ms);
    };
  }

  // Not frozen: the strategy scripts add QL.strategies.
  window.QL = {
    SCALE,
    ONE,
    dec,
    mul,
    divRound,
    group3,
    fmtFixed,
    fmtMoney,
    fmtQty,
    fmtPrice,
    fmtPercent,
    fmtRatio,
    fmtCount,
    fmtDays,
    fmtDuration,
    pnlClass,
    fmtTime,
    fmtDateTime,
    fmtDate,
    timeOf,
    el,
    td,
    badge,
    tbodyOf,
    emptyRow,
    setText,
    resultsOf,
    emit,
    on,
    debounce,
    API,
    AuthError,
    ApiError,
    csrfToken,
    api: Object.freeze({ get, getAll, send }),
    live,
  };
})();

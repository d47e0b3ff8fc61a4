/* A strategy's page (/strategies/<id>/): its status and lifecycle controls, equity and drawdown charts
 * (TradingView lightweight-charts, served from static/vendor), its metrics as people read them, closed
 * trades with a CSV download, recent signals and their outcome, attribution per producer model with the
 * calibration buckets, and its versions. REST for state, the live push for changes; every section
 * loads on its own and says so when the API cannot answer it. Text via textContent only; money and
 * figures through QL's fixed-point decimals (the charts alone plot numbers, which only place pixels). */
(function () {
  "use strict";

  const root = document.getElementById("strategy-page");
  if (!root) return;
  const ID = root.dataset.strategyId;
  const BASE = "strategies/" + encodeURIComponent(ID) + "/";
  const { el, td, dec, fmtMoney, fmtPrice, fmtQty, fmtPercent, fmtRatio, fmtCount, fmtDays, fmtDate, fmtDateTime } = QL;
  const { pnlClass, emptyRow, tbodyOf, resultsOf, setText, ONE } = QL;

  let strategy = null;
  const labels = new Map();

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

  function sessionEnded() {
    showNotice("Your session has ended.", "Sign in again", "/accounts/login/?next=" + encodeURIComponent(location.pathname));
  }

  function describe(error) {
    return error.code === "not_available" ? "Not available yet. " + error.message : error.message + " (" + error.code + ")";
  }

  function unavailable(tableId, colspan, error) {
    tbodyOf(tableId).replaceChildren(emptyRow(colspan, describe(error), "unavailable"));
  }

  // A GET whose answers arrive in order of asking: an older, slower answer never overwrites a newer one.
  function loader(path, render, fail) {
    let ticket = 0;
    return function () {
      const mine = ++ticket;
      return QL.api
        .get(path())
        .then((body) => {
          if (mine === ticket) render(body);
        })
        .catch((error) => {
          if (mine !== ticket) return;
          if (error instanceof QL.AuthError) sessionEnded();
          else if (error instanceof QL.ApiError) fail(error);
          else throw error;
        });
    };
  }

  /* ---------- the strategy ---------- */
  function paramText(value) {
    if (value === null || value === undefined) return "none";
    if (typeof value === "boolean") return value ? "yes" : "no";
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  function renderStrategy(s) {
    strategy = s;
    document.title = s.name + " · QuantumLeap";
    setText("strategy-name", s.name);
    document.getElementById("strategy-status").replaceChildren(...QL.strategies.statusNodes(s, null));
    document.getElementById("strategy-actions").replaceChildren(QL.strategies.actionButtons(s));
    setText("strategy-type", labels.get(s.strategy_type) || s.strategy_type);
    setText("strategy-capital", fmtMoney(dec(s.capital)));
    setText("strategy-version", s.version !== undefined && s.version !== null ? "v" + s.version : "—");
    setText("strategy-created", fmtDateTime(s.created_at));
    setText("strategy-deployed", s.deployed_at ? fmtDateTime(s.deployed_at) : "never");
    const configuration = s.configuration || {};
    const symbols = Array.isArray(configuration.symbols) ? configuration.symbols : [];
    setText("strategy-symbols", symbols.length ? symbols.join(", ") : "—");
    figures("strategy-parameters", configuration.parameters);
    figures("strategy-sizing", configuration.sizing);
    figures("strategy-auto-pause", configuration.auto_pause);
  }

  // "name value" pairs of one part of the configuration (its parameters, sizing, auto-pause rules).
  function figures(id, values) {
    const box = document.getElementById(id);
    if (!box) return;
    const items = Object.entries(values && typeof values === "object" ? values : {}).map(([name, value]) => {
      const item = el("span", { class: "param", dataset: { param: name } });
      item.append(el("span", { class: "muted" }, name + " "), el("span", { class: "mono" }, paramText(value)));
      return item;
    });
    if (items.length) box.replaceChildren(...items);
    else box.textContent = "none";
  }

  const loadStrategy = loader(
    () => BASE,
    renderStrategy,
    (error) => {
      if (error.status === 404 && error.code !== "not_available") showNotice("This strategy no longer exists.", "Back to the dashboard", "/");
      else showNotice("The strategy could not be loaded: " + describe(error));
    },
  );

  /* ---------- metrics ---------- */
  // [key, label, kind, older name]: the keys of PerformanceMetrics.as_dict (strategies/core/metrics.py).
  const METRIC_GROUPS = [
    ["Returns", [["total_return", "Total return", "percent"], ["annualized_return", "Annualized return", "percent"], ["volatility", "Volatility (annualized)", "percent"], ["alpha", "Alpha (annualized)", "percent"], ["beta", "Beta", "ratio"]]],
    ["Risk", [["sharpe", "Sharpe ratio", "ratio"], ["sortino", "Sortino ratio", "ratio"], ["calmar", "Calmar ratio", "ratio"], ["max_drawdown", "Max drawdown", "percent"], ["max_drawdown_duration_days", "Longest drawdown", "days", "max_drawdown_duration"]]],
    ["Trades", [["trades", "Closed trades", "count"], ["wins", "Won", "count"], ["losses", "Lost", "count"], ["win_rate", "Win rate", "percent"], ["profit_factor", "Profit factor", "ratio"], ["average_win", "Average win", "money"], ["average_loss", "Average loss", "money"], ["expectancy", "Expectancy per trade", "pnl"]]],
    ["Money", [["total_pnl", "Net P&L", "pnl"], ["gross_profit", "Gross profit", "money"], ["gross_loss", "Gross loss", "money"], ["commissions", "Commissions", "money"], ["starting_equity", "Starting equity", "money"], ["ending_equity", "Ending equity", "money"]]],
    ["Market", [["exposure", "Time in the market", "percent", "exposure_time"], ["turnover", "Turnover", "multiple"], ["risk_free_rate", "Risk-free rate", "percent"]]],
  ];
  const PERIOD_KEYS = new Set(["start", "end", "days", "periods_per_year"]);
  const HEADLINE = [["total_return", "pnl-percent"], ["sharpe", "ratio"], ["max_drawdown", "percent"], ["win_rate", "percent"], ["total_pnl", "pnl"]];

  function metricText(kind, value) {
    if (value === null || value === undefined || value === "") return "—";
    switch (kind) {
      case "percent":
        return fmtPercent(dec(value));
      case "pnl-percent":
        return fmtPercent(dec(value), { sign: true });
      case "ratio":
        return fmtRatio(dec(value));
      case "multiple":
        return fmtRatio(dec(value)) + "×";
      case "money":
        return fmtMoney(dec(value));
      case "pnl":
        return fmtMoney(dec(value), { sign: true });
      case "count":
        return fmtCount(value);
      case "days":
        return fmtDays(value);
      default:
        return typeof value === "object" ? JSON.stringify(value) : String(value);
    }
  }

  function valueOf(metrics, key, older) {
    if (metrics[key] !== undefined) return metrics[key];
    return older ? metrics[older] : undefined;
  }

  function renderMetrics(metrics) {
    const box = document.getElementById("metrics");
    if (!metrics || !Object.keys(metrics).length) {
      box.replaceChildren(el("p", { class: "muted" }, "No figures yet: they appear after its first trading day."));
      setText("metrics-period", "");
      for (const [key] of HEADLINE) setText("card-" + key, "—");
      return;
    }
    const known = new Set(PERIOD_KEYS);
    const groups = METRIC_GROUPS.map(([title, rows]) => {
      const group = el("div", { class: "metric-group" });
      group.appendChild(el("h3", null, title));
      const list = el("dl");
      for (const [key, label, kind, older] of rows) {
        known.add(key);
        if (older) known.add(older);
        const value = valueOf(metrics, key, older);
        if (value === undefined) continue;
        const item = el("div", { class: "metric", dataset: { metric: key } });
        const shown = el("dd", { class: "value", title: value === null ? "Not defined yet (too few days or trades)" : null }, metricText(kind, value));
        if (kind === "pnl") shown.classList.add(pnlClass(dec(value)));
        item.append(el("dt", null, label), shown);
        list.appendChild(item);
      }
      group.appendChild(list);
      return group;
    });
    // Figures this page does not know yet are still shown, as sent.
    const others = Object.entries(metrics).filter(([key, value]) => !known.has(key) && (value === null || typeof value !== "object"));
    if (others.length) {
      const group = el("div", { class: "metric-group" });
      const list = el("dl");
      for (const [key, value] of others) {
        const item = el("div", { class: "metric", dataset: { metric: key } });
        item.append(el("dt", null, key.split("_").join(" ")), el("dd", { class: "value" }, value === null ? "—" : String(value)));
        list.appendChild(item);
      }
      group.append(el("h3", null, "Other"), list);
      groups.push(group);
    }
    box.replaceChildren(...groups);
    const period = metrics.start && metrics.end ? fmtDate(metrics.start) + " to " + fmtDate(metrics.end) : "";
    setText("metrics-period", period + (metrics.days !== undefined && metrics.days !== null ? (period ? " · " : "") + fmtDays(metrics.days) : ""));
    for (const [key, kind] of HEADLINE) {
      const node = setText("card-" + key, metricText(kind, metrics[key]));
      if (node && kind.startsWith("pnl")) {
        node.classList.remove("up", "down", "flat");
        node.classList.add(pnlClass(dec(metrics[key])));
      }
    }
  }

  /* ---------- charts ---------- */
  let charts = null;

  const { plotted } = QL.charts;

  function renderCharts(points) {
    const byDay = new Map();
    for (const point of points || []) {
      if (!point || !point.day) continue;
      byDay.set(String(point.day).slice(0, 10), point);
    }
    const days = Array.from(byDay.keys()).sort();
    const last = days.length ? byDay.get(days[days.length - 1]) : null;
    setText("equity-last", last ? fmtMoney(dec(last.equity)) + " on " + days[days.length - 1] : "");
    setText("drawdown-last", last ? fmtPercent(dec(last.drawdown)) + " on " + days[days.length - 1] : "");
    if (charts === null) charts = QL.charts.equityAndDrawdown() || false;
    if (!charts) return;
    const equity = [];
    const drawdown = [];
    for (const day of days) {
      const point = byDay.get(day);
      const e = plotted(point.equity);
      const d = plotted(point.drawdown);
      if (e !== null) equity.push({ time: day, value: e });
      if (d !== null) drawdown.push({ time: day, value: -Math.abs(d) * 100 });
    }
    charts.draw(equity, drawdown);
    QL.charts.note(equity.length ? "" : "No equity history yet: the curve starts with its first trading day.");
    root.dataset.chartPoints = String(equity.length);
  }

  function renderPerformance(answer) {
    const performance = answer || {};
    renderMetrics(performance.metrics || null);
    renderCharts(performance.equity || []);
    const updated = performance.updated_at ? "updated " + fmtDateTime(performance.updated_at) : "";
    setText("performance-updated", updated + (performance.version !== undefined && performance.version !== null ? " · v" + performance.version : ""));
  }

  const loadPerformance = loader(
    () => BASE + "performance/",
    renderPerformance,
    (error) => {
      document.getElementById("metrics").replaceChildren(el("p", { class: "muted unavailable" }, describe(error)));
      if (charts === null) charts = QL.charts.equityAndDrawdown() || false;
      QL.charts.note(describe(error));
    },
  );

  /* ---------- closed trades ---------- */
  const TRADE_COLUMNS = 13;

  function isLong(side) {
    const s = String(side || "").toUpperCase();
    return s === "BUY" || s === "LONG";
  }

  // The trade's moments: entry_at / exit_at (entry_time / exit_time, the core's names, also read).
  function entryOf(t) {
    return t.entry_at !== undefined ? t.entry_at : t.entry_time;
  }

  function exitOf(t) {
    return t.exit_at !== undefined ? t.exit_at : t.exit_time;
  }

  function heldSeconds(t) {
    if (t.duration !== undefined && t.duration !== null) return t.duration;
    const span = QL.timeOf(exitOf(t)) - QL.timeOf(entryOf(t));
    return span > 0 ? span / 1000 : null;
  }

  function renderTrades(answer) {
    const trades = resultsOf(answer)
      .slice()
      .sort((a, b) => QL.timeOf(exitOf(b)) - QL.timeOf(exitOf(a)));
    const total = answer && typeof answer.count === "number" ? answer.count : trades.length;
    const rows = trades.map((t) => {
      const pnl = dec(t.pnl);
      const back = dec(t.return !== undefined ? t.return : t.return_fraction);
      const long = isLong(t.side);
      const row = el("tr", { dataset: { symbol: t.symbol } });
      row.append(
        td(fmtDateTime(entryOf(t)), "time muted"),
        td(fmtDateTime(exitOf(t)), "time muted"),
        td(t.symbol, "strong symbol"),
        td(long ? "Long" : "Short", "side " + (long ? "side-buy" : "side-sell")),
        td(fmtQty(dec(t.quantity)), "num"),
        td(fmtPrice(dec(t.entry_price)), "num"),
        td(fmtPrice(dec(t.exit_price)), "num"),
        td(fmtMoney(pnl, { sign: true }), "num pnl " + pnlClass(pnl)),
        td(fmtPercent(back, { sign: true }), "num return " + pnlClass(back)),
        td(QL.fmtDuration(heldSeconds(t)), "num held"),
        td(fmtMoney(dec(t.commission)), "num muted"),
        td(t.model || "—", "muted"),
        td(t.confidence !== null && t.confidence !== undefined ? fmtRatio(dec(t.confidence)) : "—", "num"),
      );
      return row;
    });
    if (!rows.length) rows.push(emptyRow(TRADE_COLUMNS, "No closed trades yet."));
    tbodyOf("trades-table").replaceChildren(...rows);
    setText("trades-count", total > trades.length ? trades.length + " of " + QL.group3(String(total)) : trades.length);
  }

  const loadTrades = loader(
    () => BASE + "trades/?limit=200",
    renderTrades,
    (error) => unavailable("trades-table", TRADE_COLUMNS, error),
  );

  /* ---------- signals ---------- */
  function violationsText(violations) {
    if (!Array.isArray(violations) || !violations.length) return "";
    return violations.map((v) => (v && typeof v === "object" ? (v.code ? v.code + ": " : "") + (v.message || "") : String(v))).join("; ");
  }

  function renderSignals(answer) {
    const signals = resultsOf(answer)
      .slice()
      .sort((a, b) => QL.timeOf(b.created_at) - QL.timeOf(a.created_at) || (b.signal_id || 0) - (a.signal_id || 0));
    const rows = signals.map((s) => {
      const status = String(s.status || "");
      const row = el("tr", { dataset: { signalId: String(s.id), status: status } });
      const outcome = td("", "outcome");
      outcome.appendChild(QL.badge(status, "signal-status signal-" + status.toLowerCase()));
      const why = violationsText(s.violations);
      const type = String(s.signal_type || "");
      row.append(
        td(fmtDateTime(s.created_at), "time muted"),
        td(s.id, "mono muted signal-id", s.metadata && s.metadata.model ? "model " + s.metadata.model : null),
        td(s.symbol, "strong symbol"),
        td(type, "side side-" + type.toLowerCase()),
        td(fmtRatio(dec(s.confidence_score)), "num"),
        td(fmtPercent(dec(s.position_size)), "num", "of the strategy's capital"),
        outcome,
        td(s.order_id ? "#" + s.order_id : "—", "mono order"),
        td(why, "muted wrap violations", why || null),
      );
      return row;
    });
    if (!rows.length) rows.push(emptyRow(9, "No signals yet."));
    tbodyOf("signals-table").replaceChildren(...rows);
    setText("signals-count", signals.length);
  }

  const loadSignals = loader(
    () => BASE + "signals/?limit=50",
    renderSignals,
    (error) => unavailable("signals-table", 9, error),
  );

  /* ---------- attribution and calibration ---------- */
  function rateBar(rate, mean) {
    const cell = el("td", { class: "bar-cell" });
    const bar = el("div", { class: "bar", title: mean !== null ? "mean confidence " + fmtPercent(mean) : null });
    const fill = el("div", { class: "bar-fill" });
    // Widths through the CSSOM (not a style attribute), which a Content-Security-Policy allows.
    const percent = (n) => String(Math.min(100, Math.max(0, Number((n * 100n) / ONE)))) + "%";
    if (rate !== null) fill.style.width = percent(rate);
    bar.appendChild(fill);
    if (mean !== null) {
      const mark = el("div", { class: "bar-mark" });
      mark.style.left = percent(mean);
      bar.appendChild(mark);
    }
    cell.append(bar, el("span", { class: "bar-text mono" }, fmtPercent(rate)));
    return cell;
  }

  function renderAttribution(answer) {
    const data = answer || {};
    const models = Array.isArray(data.models) ? data.models : [];
    const modelRows = models.map((m) => {
      const pnl = dec(m.pnl);
      const row = el("tr", { dataset: { model: m.model } });
      row.append(
        td(m.model, "strong"),
        td(fmtCount(m.signals), "num"),
        td(fmtCount(m.trades), "num"),
        td(fmtCount(m.wins), "num"),
        td(fmtCount(m.losses), "num"),
        td(fmtPercent(dec(m.hit_rate)), "num"),
        td(fmtPercent(dec(m.average_return), { sign: true }), "num"),
        td(fmtMoney(pnl, { sign: true }), "num pnl " + pnlClass(pnl)),
      );
      return row;
    });
    if (!modelRows.length) modelRows.push(emptyRow(8, "No trades to attribute yet."));
    tbodyOf("models-table").replaceChildren(...modelRows);

    const buckets = Array.isArray(data.calibration) ? data.calibration : [];
    const bucketRows = buckets.map((b) => {
      const label = b.bucket || "[" + b.lower + ", " + b.upper + ")";
      const row = el("tr", { dataset: { bucket: label } });
      row.append(td(label, "mono"), td(fmtCount(b.trades), "num"), td(fmtCount(b.wins), "num"), rateBar(dec(b.win_rate), dec(b.mean_confidence)), td(fmtPercent(dec(b.mean_confidence)), "num"));
      return row;
    });
    if (!bucketRows.length) bucketRows.push(emptyRow(5, "No scored trades yet."));
    tbodyOf("calibration-table").replaceChildren(...bucketRows);
    const unscored = data.unscored_trades !== undefined ? data.unscored_trades : data.unconfident_trades;
    setText("unscored", unscored ? fmtCount(unscored) + (Number(unscored) === 1 ? " trade" : " trades") + " without a confidence, left out" : "");
  }

  const loadAttribution = loader(
    () => BASE + "attribution/",
    renderAttribution,
    (error) => {
      unavailable("models-table", 8, error);
      unavailable("calibration-table", 5, error);
    },
  );

  /* ---------- versions ---------- */
  const BEFORE = ["before", "old", "from"];
  const AFTER = ["after", "new", "to"];

  function pick(object, keys) {
    for (const key of keys) if (key in object) return object[key];
    return undefined;
  }

  function isPair(value) {
    return value && typeof value === "object" && !Array.isArray(value) && BEFORE.some((k) => k in value) && AFTER.some((k) => k in value);
  }

  function shown(value) {
    if (value === null || value === undefined) return "none";
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  // The diff as lines "path: before → after", whichever of the usual shapes it comes in.
  function changes(diff, prefix) {
    if (diff === null || diff === undefined) return [];
    if (typeof diff !== "object") return [prefix ? prefix + ": " + shown(diff) : String(diff)];
    if (Array.isArray(diff)) {
      return diff.flatMap((item) => {
        const path = item && typeof item === "object" ? item.field || item.path || item.name : null;
        if (path && isPair(item)) return [path + ": " + shown(pick(item, BEFORE)) + " → " + shown(pick(item, AFTER))];
        return changes(item, prefix);
      });
    }
    return Object.entries(diff).flatMap(([key, value]) => {
      const path = prefix ? prefix + "." + key : key;
      if (Array.isArray(value) && value.length === 2 && !value.some((v) => v && typeof v === "object")) return [path + ": " + shown(value[0]) + " → " + shown(value[1])];
      if (isPair(value)) return [path + ": " + shown(pick(value, BEFORE)) + " → " + shown(pick(value, AFTER))];
      if (value && typeof value === "object") return changes(value, path);
      return [path + ": " + shown(value)];
    });
  }

  function renderVersions(answer) {
    const versions = resultsOf(answer)
      .slice()
      .sort((a, b) => (b.number || 0) - (a.number || 0));
    const rows = versions.map((v) => {
      const row = el("tr", { dataset: { version: String(v.number) } });
      const lines = changes(v.diff, "");
      const diff = el("td", { class: "diff" });
      if (lines.length) {
        const list = el("ul", { class: "diff-list" });
        for (const line of lines) list.appendChild(el("li", { class: "mono" }, line));
        diff.appendChild(list);
      } else {
        diff.appendChild(el("span", { class: "muted" }, v.number === 1 ? "created" : "no change"));
      }
      row.append(td("v" + v.number, "num strong"), td(v.created_by || "—"), td(fmtDateTime(v.created_at), "time muted"), td(v.reason || "—", "wrap"), diff);
      return row;
    });
    if (!rows.length) rows.push(emptyRow(5, "No versions yet."));
    tbodyOf("versions-table").replaceChildren(...rows);
    setText("versions-count", versions.length);
  }

  const loadVersions = loader(
    () => BASE + "versions/",
    renderVersions,
    (error) => unavailable("versions-table", 5, error),
  );

  /* ---------- live ---------- */
  const reload = {
    strategy: QL.debounce(loadStrategy, 100),
    versions: QL.debounce(loadVersions, 200),
    signals: QL.debounce(loadSignals, 150),
    results: QL.debounce(() => {
      loadPerformance();
      loadTrades();
      loadAttribution();
    }, 400),
  };

  function onEvent(event) {
    const [kind, action] = String(event.type).split(".");
    const payload = event.payload || {};
    const sid = event.strategy_id !== undefined && event.strategy_id !== null ? event.strategy_id : payload.strategy_id;
    const mine = sid !== undefined && sid !== null && String(sid) === ID;
    if (kind === "strategy") {
      if (!mine) return;
      if (action === "deleted") {
        showNotice("This strategy was deleted.", "Back to the dashboard", "/");
        document.getElementById("strategy-actions").replaceChildren();
        return;
      }
      reload.strategy();
      reload.versions();
      reload.results();
      return;
    }
    // Events of another strategy are not ours; account-wide ones (no strategy) may be.
    if (sid !== undefined && sid !== null && !mine) return;
    if (kind === "signal") reload.signals();
    else if (kind === "order" || kind === "execution" || kind === "position") {
      reload.signals();
      if (kind !== "order" || action === "filled" || action === "partially_filled") reload.results();
    }
  }

  function loadAll() {
    loadStrategy();
    loadPerformance();
    loadTrades();
    loadSignals();
    loadAttribution();
    loadVersions();
  }

  QL.on("strategy-changed", (s) => {
    if (String(s.id) === ID) {
      renderStrategy(s);
      reload.versions();
    }
  });
  QL.on("strategy-deleted", ({ id }) => {
    if (String(id) === ID) location.assign("/");
  });

  QL.strategies
    .types()
    .then((types) => {
      for (const t of types) labels.set(t.type, t.label);
      if (strategy) setText("strategy-type", labels.get(strategy.strategy_type) || strategy.strategy_type);
    })
    .catch(() => {
      /* the server-rendered label stays */
    });
  loadAll();
  QL.live({ path: root.dataset.wsPath || "/ws/trading/", onEvent: onEvent, onReopen: loadAll, onSignedOut: sessionEnded });
})();

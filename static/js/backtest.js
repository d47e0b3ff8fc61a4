/* /backtests/<id>/: one run: its progress live, then its equity and drawdown charts (lightweight-charts from
 * static/vendor), metrics, trades, what was refused or skipped, and the comparison with the live strategy. */
(function () {
  "use strict";

  const root = document.getElementById("backtest-page");
  if (!root) return;
  const ID = Number(root.dataset.backtestId);
  const BASE = "backtests/" + ID + "/";
  const B = QL.backtests;
  const { el, td, dec, fmtMoney, fmtPrice, fmtQty, fmtPercent, fmtRatio, fmtCount, fmtDays, fmtDate, fmtDateTime, pnlClass, tbodyOf, emptyRow, setText, resultsOf } = QL;
  let loaded = false; // the result is on the page
  let deepest = null; // the run's exact max drawdown over every bar

  /* ---------- progress ---------- */
  function showProgress(run) {
    document.getElementById("backtest-status").replaceWith(Object.assign(B.statusBadge(run.status), { id: "backtest-status" }));
    document.getElementById("backtest-progress").value = Number(run.progress || 0);
    setText("backtest-progress-text", B.percent(run.progress));
    root.dataset.status = run.status;
    root.dataset.progress = String(run.progress);
    if (run.bars_total) setText("backtest-bars", QL.group3(String(run.bars_done || 0)) + " of " + QL.group3(String(run.bars_total)) + " bars");
    document.getElementById("backtest-cancel").hidden = B.FINISHED.has(run.status);
  }

  document.getElementById("backtest-cancel").addEventListener("click", () => QL.api.send("POST", BASE + "cancel/").then(load));

  /* ---------- the run ---------- */
  const METRICS = [
    ["Returns", [["total_return", "Total return", "pnl-percent"], ["annualized_return", "Annualized return", "percent"], ["volatility", "Volatility (annualized)", "percent"]]],
    ["Risk", [["sharpe", "Sharpe ratio", "ratio"], ["sortino", "Sortino ratio", "ratio"], ["calmar", "Calmar ratio", "ratio"], ["max_drawdown", "Max drawdown", "percent"], ["max_drawdown_duration_days", "Longest drawdown", "days"]]],
    ["Trades", [["trades", "Closed trades", "count"], ["wins", "Won", "count"], ["losses", "Lost", "count"], ["win_rate", "Win rate", "percent"], ["profit_factor", "Profit factor", "ratio"], ["average_win", "Average win", "money"], ["average_loss", "Average loss", "money"], ["expectancy", "Expectancy per trade", "pnl"]]],
    ["Money", [["total_pnl", "Net P&L", "pnl"], ["gross_profit", "Gross profit", "money"], ["gross_loss", "Gross loss", "money"], ["commissions", "Commissions", "money"], ["starting_equity", "Starting equity", "money"], ["ending_equity", "Ending equity", "money"]]],
    ["Market", [["exposure", "Time in the market", "percent"], ["turnover", "Turnover", "multiple"]]],
  ];

  function metricText(kind, value) {
    if (value === null || value === undefined || value === "") return "—";
    if (kind === "percent") return fmtPercent(dec(value));
    if (kind === "pnl-percent") return fmtPercent(dec(value), { sign: true });
    if (kind === "ratio") return fmtRatio(dec(value));
    if (kind === "multiple") return fmtRatio(dec(value)) + "×";
    if (kind === "money") return fmtMoney(dec(value));
    if (kind === "pnl") return fmtMoney(dec(value), { sign: true });
    if (kind === "count") return fmtCount(value);
    if (kind === "days") return fmtDays(value);
    return String(value);
  }

  function renderMetrics(metrics) {
    const box = document.getElementById("metrics");
    if (!metrics) return;
    box.replaceChildren(
      ...METRICS.map(([title, items]) => {
        const group = el("div", { class: "metric-group" });
        const list = el("dl");
        for (const [key, label, kind] of items) {
          if (metrics[key] === undefined) continue;
          const item = el("div", { class: "metric", dataset: { metric: key } });
          const shown = el("dd", { class: "value" }, metricText(kind, metrics[key]));
          if (kind.startsWith("pnl") && metrics[key] !== null) shown.classList.add(pnlClass(dec(metrics[key])));
          item.append(el("dt", null, label), shown);
          list.appendChild(item);
        }
        group.append(el("h3", null, title), list);
        return group;
      }),
    );
    if (metrics.start && metrics.end) setText("metrics-period", fmtDate(metrics.start) + " to " + fmtDate(metrics.end));
    setText("card-total_return", metricText("pnl-percent", metrics.total_return));
    setText("card-sharpe", metricText("ratio", metrics.sharpe));
    setText("card-max_drawdown", metricText("percent", metrics.max_drawdown));
    setText("card-trades", metricText("count", metrics.trades));
  }

  function renderRun(run) {
    showProgress(run);
    setText("backtest-data", B.dataText(run));
    setText("backtest-parameters", B.paramsText(run.parameters));
    const summary = run.summary || {};
    if (summary.max_drawdown_bar !== undefined) deepest = summary.max_drawdown_bar;
    setText("backtest-period", summary.start ? fmtDateTime(summary.start) + " to " + fmtDateTime(summary.end) : (run.start || run.end ? (run.start || "…") + " to " + (run.end || "…") : "all the data"));
    setText("backtest-conventions", summary.conventions ? B.paramsText(summary.conventions) : B.paramsText(run.settings));
    const error = document.getElementById("backtest-error");
    error.textContent = run.error || "";
    error.hidden = !run.error;
    if (run.final_equity) setText("card-final_equity", fmtMoney(dec(run.final_equity)));
    renderMetrics(run.metrics);
    renderLog(summary.run_log || [], summary.run_log_total || 0);
    renderComparison(run.comparison);
  }

  function renderLog(entries, total) {
    setText("log-count", total);
    const tbody = tbodyOf("log-table");
    if (!entries.length) {
      tbody.replaceChildren(emptyRow(6, "Nothing was refused or skipped."));
      return;
    }
    tbody.replaceChildren(
      ...entries.slice(0, 500).map((entry) => {
        const row = el("tr", null);
        row.append(td(fmtDateTime(entry.at)), td(entry.kind), td(entry.symbol), td(entry.side || "—"), td((entry.codes || []).join(", ")), td(entry.message));
        return row;
      }),
    );
  }

  function renderComparison(comparison) {
    const panel = document.getElementById("comparison-panel");
    panel.hidden = !comparison;
    if (!comparison) return;
    setText(
      "comparison-summary",
      "live P&L " + fmtMoney(dec(comparison.live_pnl), { sign: true }) + " · backtest " + fmtMoney(dec(comparison.backtest_pnl), { sign: true }) + " · gap " + fmtMoney(dec(comparison.pnl_gap), { sign: true }) + " · " + comparison.matched + " matched, " + comparison.identical + " identical",
    );
    const tbody = tbodyOf("comparison-table");
    const differences = comparison.differences || [];
    if (!differences.length) {
      tbody.replaceChildren(emptyRow(5, "Every trade is the same live and in the backtest."));
      return;
    }
    tbody.replaceChildren(
      ...differences.map((d) => {
        const row = el("tr", null);
        row.append(td(d.symbol), td(d.side === "BUY" ? "long" : "short"), td(d.causes.join(", ")), td(fmtMoney(dec(d.pnl_difference), { sign: true }), "num mono " + pnlClass(dec(d.pnl_difference))), td(d.explanation));
        return row;
      }),
    );
  }

  function renderTrades(body) {
    const trades = resultsOf(body);
    setText("trades-count", body.count !== undefined ? body.count : trades.length);
    const tbody = tbodyOf("trades-table");
    if (!trades.length) {
      tbody.replaceChildren(emptyRow(9, "No closed trade."));
      return;
    }
    tbody.replaceChildren(
      ...trades.map((t) => {
        const row = el("tr", null);
        const pnl = dec(t.pnl);
        row.append(td(fmtDateTime(t.entry_time)), td(fmtDateTime(t.exit_time)), td(t.symbol), td(t.side === "BUY" ? "long" : "short"), td(fmtQty(dec(t.quantity)), "num mono"), td(fmtPrice(dec(t.entry_price)), "num mono"), td(fmtPrice(dec(t.exit_price)), "num mono"), td(fmtMoney(pnl, { sign: true }), "num mono " + pnlClass(pnl)), td(fmtMoney(dec(t.commission)), "num mono"));
        return row;
      }),
    );
  }

  /* ---------- charts ---------- */
  let charts = null;
  const { plotted } = QL.charts;

  function renderCharts(answer) {
    // The per-bar curve (its points are unique times, seconds since 1970 UTC for the chart).
    const equity = [];
    const drawdown = [];
    let lastTime = -Infinity;
    for (const point of answer.curve || []) {
      const time = Math.floor(QL.timeOf(point.at) / 1000);
      if (time <= lastTime) continue;
      lastTime = time;
      equity.push({ time: time, value: plotted(point.equity) });
      drawdown.push({ time: time, value: -Math.abs(plotted(point.drawdown)) * 100 });
    }
    const last = (answer.curve || []).slice(-1)[0];
    setText("equity-last", last ? fmtMoney(dec(last.equity)) + " at " + fmtDateTime(last.at) : "");
    // The deepest drawdown over every bar (the plotted curve keeps at most 2,048 of them).
    setText("drawdown-last", deepest !== null ? "deepest " + fmtPercent(dec(deepest)) : "");
    if (charts === null) charts = QL.charts.equityAndDrawdown() || false;
    if (!charts) return;
    charts.draw(equity, drawdown);
    QL.charts.note(equity.length ? "" : "No equity curve: the run had no bar.");
    root.dataset.chartPoints = String(equity.length);
  }

  function loadResult() {
    loaded = true;
    QL.api.get(BASE + "equity/").then(renderCharts).catch((error) => QL.charts.note(error.message));
    QL.api.get(BASE + "trades/?limit=500").then(renderTrades).catch((error) => tbodyOf("trades-table").replaceChildren(emptyRow(9, error.message, "unavailable")));
  }

  function load() {
    return QL.api
      .get(BASE)
      .then((run) => {
        renderRun(run);
        if (B.FINISHED.has(run.status) && !loaded) loadResult();
      })
      .catch((error) => {
        if (error instanceof QL.ApiError) {
          const box = document.getElementById("backtest-error");
          box.textContent = error.message + " (" + error.code + ")";
          box.hidden = false;
        }
      });
  }

  // A push missed before the socket opened is caught up by a slow poll while the run is not finished.
  const poll = setInterval(() => {
    if (B.FINISHED.has(root.dataset.status)) clearInterval(poll);
    else load();
  }, 3000);
  B.live((event) => {
    if (event.type !== "backtest.progress" || event.backtest_id !== ID) return;
    showProgress(event);
    if (B.FINISHED.has(event.status)) load();
  }, load);
  load();
})();

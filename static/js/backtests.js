/* /backtests/: run a backtest, upload data, start an optimization; the lists of each, their progress live. */
(function () {
  "use strict";

  const root = document.getElementById("backtests-page");
  if (!root) return;
  const B = QL.backtests;
  const { el, td, dec, fmtMoney, fmtPercent, fmtDateTime, fmtDate, tbodyOf, emptyRow, setText, resultsOf } = QL;
  const types = JSON.parse(document.getElementById("strategy-types").textContent);
  const rows = new Map(); // backtest id -> its progress cell and status cell

  /* ---------- the backtest form ---------- */
  const form = document.getElementById("backtest-form");
  const typeSelect = document.getElementById("bt-type");
  const parameters = document.getElementById("bt-parameters");

  function defaultsOf(name) {
    const type = types.find((t) => t.name === name);
    const shown = {};
    for (const [key, value] of Object.entries((type && type.defaults) || {})) if (value !== null) shown[key] = value;
    if (name === "SMA_CROSSOVER") shown.allow_short = true; // the oracle's long/short flip
    return shown;
  }

  function fillParameters() {
    parameters.value = typeSelect.value === "EXTERNAL_AI" ? "" : JSON.stringify(defaultsOf(typeSelect.value));
  }
  typeSelect.addEventListener("change", fillParameters);
  fillParameters();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("backtest-form-error");
    error.hidden = true;
    B.clearErrors(form);
    const button = document.getElementById("bt-submit");
    button.disabled = true;
    try {
      const body = { strategy_type: typeSelect.value, ...B.dataBody(form), settings: B.settingsBody(form) };
      const params = B.jsonField(form, "parameters");
      if (Object.keys(params).length) body.parameters = params;
      if (B.value(form, "name")) body.name = B.value(form, "name");
      if (B.value(form, "strategy_id")) body.strategy_id = Number(B.value(form, "strategy_id"));
      const created = await QL.api.send("POST", "backtests/", body);
      location.assign("/backtests/" + created.id + "/");
    } catch (failure) {
      if (!(failure instanceof QL.ApiError)) throw failure;
      B.showErrors(form, failure.errors, error, failure.message + " (" + failure.code + ")");
    } finally {
      button.disabled = false;
    }
  });

  /* ---------- upload ---------- */
  const upload = document.getElementById("upload-form");
  upload.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("upload-error");
    const problems = document.getElementById("upload-problems");
    error.hidden = true;
    problems.hidden = true;
    B.clearErrors(upload);
    const data = new FormData();
    const file = document.getElementById("up-file").files[0];
    if (file) data.append("file", file);
    data.append("symbol", B.value(upload, "symbol"));
    const response = await fetch(QL.API + "backtests/datasets/", {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": QL.csrfToken() },
      body: data,
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      error.textContent = (body.message || "The upload was refused.") + " (" + (body.code || response.status) + ")";
      error.hidden = false;
      if (body.code === "invalid_ohlcv_data") {
        problems.replaceChildren(...((body.errors && body.errors.file) || []).map((p) => el("li", null, p)));
        problems.hidden = false;
      } else {
        B.showErrors(upload, body.errors, null);
      }
      return;
    }
    upload.reset();
    loadDatasets();
  });

  /* ---------- optimization form ---------- */
  const optimize = document.getElementById("optimization-form");
  optimize.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("optimization-form-error");
    error.hidden = true;
    B.clearErrors(optimize);
    try {
      const body = {
        strategy_type: B.value(optimize, "strategy_type"),
        method: B.value(optimize, "method"),
        metric: B.value(optimize, "metric"),
        space: B.jsonField(optimize, "space"),
        ...B.dataBody(optimize),
        settings: B.settingsBody(optimize),
      };
      if (body.method === "random") body.samples = Number(B.value(optimize, "samples"));
      if (B.value(optimize, "train") && B.value(optimize, "test")) {
        body.walk_forward = { train: Number(B.value(optimize, "train")), test: Number(B.value(optimize, "test")) };
      }
      const created = await QL.api.send("POST", "backtests/optimizations/", body);
      location.assign("/backtests/optimizations/" + created.id + "/");
    } catch (failure) {
      if (!(failure instanceof QL.ApiError)) throw failure;
      B.showErrors(optimize, failure.errors, error, failure.message + " (" + failure.code + ")");
    }
  });

  /* ---------- lists ---------- */
  function renderBacktests(body) {
    const runs = resultsOf(body);
    setText("backtests-count", body.count !== undefined ? body.count : runs.length);
    rows.clear();
    const tbody = tbodyOf("backtests-table");
    if (!runs.length) {
      tbody.replaceChildren(emptyRow(11, "No backtest yet: run one with the form."));
      return;
    }
    tbody.replaceChildren(
      ...runs.map((run) => {
        const row = el("tr", { dataset: { backtestId: run.id } });
        const link = el("a", { href: "/backtests/" + run.id + "/" }, String(run.id));
        const metrics = run.metrics || {};
        const status = el("td", null);
        status.appendChild(B.statusBadge(run.status));
        const progress = el("td", null);
        progress.append(B.progressBar(run.progress), el("span", { class: "mono small" }, " " + B.percent(run.progress)));
        const actions = B.cancelCell(run, "backtests/" + run.id + "/cancel/", loadBacktests);
        const first = el("td", null);
        first.appendChild(link);
        row.append(
          first,
          td(run.name || "—"),
          td(run.strategy_type),
          td(B.dataText(run)),
          status,
          progress,
          td(run.final_equity ? fmtMoney(dec(run.final_equity)) : "—", "num mono"),
          td(metrics.total_return !== undefined && metrics.total_return !== null ? fmtPercent(dec(metrics.total_return), { sign: true }) : "—", "num mono"),
          td(metrics.trades !== undefined ? String(metrics.trades) : "—", "num"),
          td(fmtDateTime(run.created_at)),
          actions,
        );
        rows.set(run.id, { progress, status });
        return row;
      }),
    );
  }

  function renderOptimizations(body) {
    const runs = resultsOf(body);
    setText("optimizations-count", body.count !== undefined ? body.count : runs.length);
    const tbody = tbodyOf("optimizations-table");
    if (!runs.length) {
      tbody.replaceChildren(emptyRow(10, "No optimization yet."));
      return;
    }
    tbody.replaceChildren(
      ...runs.map((run) => {
        const first = el("td", null);
        first.appendChild(el("a", { href: "/backtests/optimizations/" + run.id + "/" }, String(run.id)));
        const status = el("td", null);
        status.appendChild(B.statusBadge(run.status));
        const progress = el("td", null);
        progress.append(B.progressBar(run.progress), el("span", { class: "mono small" }, " " + B.percent(run.progress)));
        const best = run.ranking && run.ranking.length ? B.paramsText(run.ranking[0].parameters) : "—";
        const row = el("tr", { dataset: { optimizationId: run.id } });
        const actions = B.cancelCell(run, "backtests/optimizations/" + run.id + "/cancel/", loadOptimizations);
        row.append(first, td(run.strategy_type), td(B.dataText(run)), td(run.metric), status, progress, td(run.candidates_done + " / " + run.candidates_total, "num"), td(best), td(fmtDateTime(run.created_at)), actions);
        return row;
      }),
    );
  }

  function renderDatasets(body) {
    const sets = resultsOf(body);
    setText("datasets-count", body.count !== undefined ? body.count : sets.length);
    const tbody = tbodyOf("datasets-table");
    for (const select of document.querySelectorAll(".dataset-select")) {
      select.replaceChildren(el("option", { value: "" }, "—"), ...sets.map((d) => el("option", { value: d.id }, d.name + " (" + d.symbol + ", " + d.rows + " rows)")));
    }
    if (!sets.length) {
      tbody.replaceChildren(emptyRow(8, "No dataset yet: upload a CSV or Parquet file."));
      return;
    }
    tbody.replaceChildren(
      ...sets.map((d) => {
        const gaps = (d.report && d.report.gaps) || [];
        const row = el("tr", null);
        row.append(td(String(d.id)), td(d.name), td(d.symbol), td(d.file_format), td(String(d.rows), "num"), td(fmtDate(d.start)), td(fmtDate(d.end)), td(gaps.length ? gaps.length + " gaps" : "none"));
        return row;
      }),
    );
  }

  const fail = (id, colspan) => (error) => {
    if (error instanceof QL.ApiError) tbodyOf(id).replaceChildren(emptyRow(colspan, error.message + " (" + error.code + ")", "unavailable"));
  };
  const loadBacktests = () => QL.api.get("backtests/?limit=100").then(renderBacktests).catch(fail("backtests-table", 11));
  const loadOptimizations = () => QL.api.get("backtests/optimizations/?limit=50").then(renderOptimizations).catch(fail("optimizations-table", 10));
  const loadDatasets = () => QL.api.get("backtests/datasets/?limit=100").then(renderDatasets).catch(fail("datasets-table", 8));
  const loadSources = () =>
    QL.api.get("backtests/sources/").then((sources) => {
      document.getElementById("bar-symbols").replaceChildren(...(sources.bar_symbols || []).map((s) => el("option", { value: s })));
    }).catch(() => {});
  const reloadLists = QL.debounce(() => {
    loadBacktests();
    loadOptimizations();
  }, 300);

  function onEvent(event) {
    if (event.type === "backtest.progress") {
      const row = rows.get(event.backtest_id);
      if (!row || B.FINISHED.has(event.status)) return reloadLists();
      row.progress.replaceChildren(B.progressBar(event.progress), el("span", { class: "mono small" }, " " + B.percent(event.progress)));
      row.status.replaceChildren(B.statusBadge(event.status));
    } else if (event.type === "optimization.progress") {
      reloadLists();
    }
  }

  B.live(onEvent, () => {
    loadBacktests();
    loadOptimizations();
  });
  loadBacktests();
  loadOptimizations();
  loadDatasets();
  loadSources();
})();

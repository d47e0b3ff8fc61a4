/* /backtests/optimizations/<id>/: progress live, then the ranking (with out-of-sample figures), the heat map
 * of two parameters (a table colored by value, best outlined) and the walk-forward windows. */
(function () {
  "use strict";

  const root = document.getElementById("optimization-page");
  if (!root) return;
  const ID = Number(root.dataset.optimizationId);
  const BASE = "backtests/optimizations/" + ID + "/";
  const B = QL.backtests;
  const { el, td, dec, fmtMoney, fmtRatio, tbodyOf, emptyRow, setText } = QL;

  const figure = (value) => (value === null || value === undefined ? "—" : fmtRatio(dec(value)));

  function renderProgress(run) {
    document.getElementById("optimization-status").replaceWith(Object.assign(B.statusBadge(run.status), { id: "optimization-status" }));
    document.getElementById("optimization-progress").value = Number(run.progress || 0);
    setText("optimization-progress-text", B.percent(run.progress));
    setText("optimization-candidates", run.candidates_done + " of " + run.candidates_total + " candidates");
    root.dataset.status = run.status;
    document.getElementById("optimization-cancel").hidden = B.FINISHED.has(run.status);
  }

  function renderHeatmap(heat, best) {
    const table = document.getElementById("heatmap-table");
    if (!heat) return;
    setText("heatmap-caption", heat.metric + " by " + heat.x + " (columns) and " + heat.y + " (rows)");
    const values = heat.cells.flat().filter((v) => v !== null).map(Number);
    const low = Math.min(...values);
    const high = Math.max(...values);
    const head = el("tr", null);
    head.append(el("th", { class: "axis" }, heat.y + " \\ " + heat.x), ...heat.xs.map((x) => el("th", { class: "num" }, x)));
    table.tHead.replaceChildren(head);
    tbodyOf("heatmap-table").replaceChildren(
      ...heat.ys.map((y, j) => {
        const row = el("tr", null);
        row.appendChild(el("th", { class: "axis" }, y));
        heat.xs.forEach((x, i) => {
          const value = heat.cells[j][i];
          // Ten color classes from the lowest to the highest value (no inline style: CSP).
          const bucket = value === null ? "none" : high === low ? 9 : Math.min(9, Math.floor(((Number(value) - low) / (high - low)) * 10));
          const cell = td(figure(value), "cell heat-" + bucket);
          cell.dataset.x = x;
          cell.dataset.y = y;
          if (best && String(best[heat.x]) === x && String(best[heat.y]) === y) cell.classList.add("best");
          row.appendChild(cell);
        });
        return row;
      }),
    );
  }

  function renderRanking(ranking) {
    setText("ranking-count", ranking.length);
    if (!ranking.length) return;
    tbodyOf("ranking-table").replaceChildren(
      ...ranking.map((r) => {
        const row = el("tr", null);
        const pnl = r.evaluation.metrics.total_pnl;
        row.append(td(String(r.rank), "num"), td(B.paramsText(r.parameters)), td(figure(r.value), "num mono"), td(pnl ? fmtMoney(dec(pnl), { sign: true }) : "—", "num mono"), td(String(r.evaluation.trades), "num"), td(figure(r.out_of_sample.mean), "num mono"), td(fmtMoney(dec(r.out_of_sample.total_pnl), { sign: true }), "num mono"), td(String(r.out_of_sample.windows), "num"));
        return row;
      }),
    );
  }

  function renderWalk(walk, metric) {
    if (!walk || !walk.windows.length) return;
    setText("walk-summary", "out-of-sample P&L " + fmtMoney(dec(walk.out_of_sample_pnl), { sign: true }) + (walk.efficiency !== null ? " · efficiency " + figure(walk.efficiency) : ""));
    tbodyOf("walk-table").replaceChildren(
      ...walk.windows.map((w) => {
        const row = el("tr", null);
        const outPnl = w.out_of_sample.metrics.total_pnl;
        row.append(td(String(w.index), "num"), td(w.train[0] + "–" + w.train[1]), td(w.test[0] + "–" + w.test[1]), td(B.paramsText(w.best.parameters)), td(figure(w.best.metrics[metric]), "num mono"), td(figure(w.out_of_sample.metrics[metric]), "num mono"), td(outPnl ? fmtMoney(dec(outPnl), { sign: true }) : "—", "num mono"));
        return row;
      }),
    );
  }

  function render(run) {
    renderProgress(run);
    setText("optimization-space", JSON.stringify(run.space));
    const walk = run.walk_forward || {};
    setText("optimization-walk", walk.train ? walk.train + " bars in sample, " + walk.test + " out of sample" + (walk.anchored ? ", anchored" : "") : "none");
    const error = document.getElementById("optimization-error");
    error.textContent = run.error || "";
    error.hidden = !run.error;
    if (run.status !== "completed") return;
    renderRanking(run.ranking || []);
    renderHeatmap(run.heatmap, run.ranking && run.ranking.length ? run.ranking[0].parameters : null);
    renderWalk(run.walk_forward_result, run.metric);
  }

  const load = () => QL.api.get(BASE).then(render).catch((error) => {
    if (error instanceof QL.ApiError) {
      const box = document.getElementById("optimization-error");
      box.textContent = error.message + " (" + error.code + ")";
      box.hidden = false;
    }
  });
  document.getElementById("optimization-cancel").addEventListener("click", () => QL.api.send("POST", BASE + "cancel/").then(load));
  const poll = setInterval(() => {
    if (B.FINISHED.has(root.dataset.status)) clearInterval(poll);
    else load();
  }, 3000);
  B.live((event) => {
    if (event.type === "optimization.progress" && event.optimization_id === ID) load();
  }, load);
  load();
})();

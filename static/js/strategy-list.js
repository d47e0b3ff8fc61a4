/* The dashboard's strategy list: status (with "entries stopped" for paused states), capital, and the
 * lifecycle buttons the API allows now (allowed_actions). Loaded from GET strategies/ and reloaded when
 * a strategy.* event is pushed (dashboard.js forwards them as ql:event) or after a person's action. */
(function () {
  "use strict";

  const table = document.getElementById("strategies-table");
  if (!table || !document.getElementById("dashboard")) return;
  const { el, td, dec, fmtMoney, emptyRow } = QL;
  const body = table.querySelector("tbody");
  const COLUMNS = 5;

  const state = {
    strategies: null, // null until the API answered: the server-rendered rows stay until then
    labels: new Map(), // strategy type -> its label
    killSwitches: [],
  };

  // The server-rendered rows already know each type's label: keep them while the types are being asked for.
  for (const row of body.querySelectorAll("tr[data-strategy-type]")) {
    const cell = row.querySelector(".type");
    if (cell) state.labels.set(row.dataset.strategyType, cell.textContent.trim());
  }

  function killSwitchFor(strategy) {
    return state.killSwitches.find((k) => k.scope === "STRATEGY" && (k.strategy === strategy.id || k.strategy_id === strategy.id));
  }

  function row(strategy, before) {
    const tr = el("tr", { dataset: { strategyId: String(strategy.id), strategyType: strategy.strategy_type, status: strategy.status } });
    if (before && before !== strategy.status) tr.classList.add("row-changed");
    const name = el("td", { class: "strong name" });
    name.appendChild(el("a", { href: "/strategies/" + encodeURIComponent(strategy.id) + "/", title: "Performance, trades, versions and signals" }, strategy.name));
    const status = el("td", { class: "status-cell" });
    status.append(...QL.strategies.statusNodes(strategy, killSwitchFor(strategy)));
    const actions = el("td", { class: "actions" });
    actions.appendChild(QL.strategies.actionButtons(strategy));
    tr.append(
      name,
      td(state.labels.get(strategy.strategy_type) || strategy.strategy_type, "muted type"),
      status,
      td(fmtMoney(dec(strategy.capital)), "num capital"),
      actions,
    );
    return tr;
  }

  function render() {
    if (!state.strategies) return;
    const before = new Map(Array.from(body.querySelectorAll("tr[data-strategy-id]"), (tr) => [tr.dataset.strategyId, tr.dataset.status]));
    const sorted = state.strategies.slice().sort((a, b) => String(a.name).localeCompare(String(b.name)) || a.id - b.id);
    const rows = sorted.map((s) => row(s, before.get(String(s.id))));
    if (!rows.length) rows.push(emptyRow(COLUMNS, "No strategies yet: create one with New strategy."));
    body.replaceChildren(...rows);
    QL.setText("strategies-count", sorted.length);
    QL.emit("strategies-rendered", sorted.length);
  }

  function showError(error) {
    let note = document.getElementById("strategies-error");
    if (!error) {
      if (note) note.remove();
      return;
    }
    if (!note) {
      note = el("div", { class: "alert alert-error panel-alert", role: "alert", id: "strategies-error" });
      table.closest(".table-wrap").before(note);
    }
    note.replaceChildren(el("strong", { class: "error-code" }, error.code || "error"), el("span", null, " The strategies could not be loaded: " + error.message));
  }

  // Every strategy, a page of PAGE at a time (the API gives at most 500 a page; a user may run 1,000).
  const PAGE = 500;
  async function allStrategies() {
    const strategies = [];
    for (let offset = 0; ; offset += PAGE) {
      const answer = await QL.api.get("strategies/?limit=" + PAGE + "&offset=" + offset);
      const page = QL.resultsOf(answer);
      strategies.push(...page);
      if (Array.isArray(answer) || !answer || !answer.next || page.length < PAGE) return strategies;
    }
  }

  let ticket = 0;
  function load() {
    const mine = ++ticket;
    allStrategies()
      .then((answer) => {
        if (mine !== ticket) return; // a newer load was started: its answer is the one to show
        state.strategies = answer;
        showError(null);
        render();
      })
      .catch((error) => {
        if (mine !== ticket || error instanceof QL.AuthError) return; // dashboard.js tells of an ended session
        showError(error);
      });
  }
  const reload = QL.debounce(load, 100);

  QL.on("event", (event) => {
    if (String(event.type).startsWith("strategy.")) reload();
  });
  QL.on("refresh", reload);
  QL.on("killswitches", (list) => {
    state.killSwitches = list || [];
    render();
  });
  // A person's action answered with the strategy: show it at once (the pushed event reloads the list too).
  QL.on("strategy-changed", (strategy) => {
    if (!state.strategies) return reload();
    const index = state.strategies.findIndex((s) => s.id === strategy.id);
    if (index >= 0) state.strategies[index] = strategy;
    else state.strategies.push(strategy);
    render();
  });
  QL.on("strategy-deleted", ({ id }) => {
    if (state.strategies) state.strategies = state.strategies.filter((s) => s.id !== id);
    render();
  });

  // Labels the server-rendered rows did not give (a strategy created since): asked for once, when needed.
  let typesAsked = false;
  function labelsComplete() {
    if (typesAsked || !state.strategies || state.strategies.every((s) => state.labels.has(s.strategy_type))) return;
    typesAsked = true;
    QL.strategies
      .types()
      .then((types) => {
        for (const t of types) state.labels.set(t.type, t.label);
        render();
      })
      .catch(() => {
        typesAsked = false; // the raw type stays meanwhile; the form reports the failure when opened
      });
  }
  QL.on("strategies-rendered", labelsComplete);
  load();
})();

/* What the dashboard's strategy list and the strategy page share: how a status reads, the strategy types,
 * and the lifecycle controls (deploy, pause, resume, stop, delete) with their confirmation dialog
 * (templates/strategies/_action_dialog.html). Adds QL.strategies. Data via textContent only. */
(function () {
  "use strict";

  const { el, fmtMoney, dec } = QL;

  /* ---------- statuses: "entries stopped", never "trading stopped" (pausing never stops protection) ---------- */
  const STATUS_NOTES = {
    DRAFT: ["not deployed", "Created, never deployed: it takes no signal until deployed."],
    RUNNING: ["taking entries", "Running: new entries are taken within its capital and your risk limits."],
    PAUSED: [
      "entries stopped",
      "Paused by a person: no new entries. Open positions stay protected (stop-loss, take-profit and trailing stops keep working) and signals that only reduce a position are still taken.",
    ],
    AUTO_PAUSED: [
      "entries stopped by an auto-pause rule",
      "An auto-pause rule (drawdown, losing streak, Sharpe below the benchmark, or the day's loss) stopped new entries. Open positions stay protected. Resuming needs your re-approval with a one-time password.",
    ],
    STOPPED: [
      "entries stopped",
      "Stopped: no new entries. Positions it did not flatten stay protected by their stop-loss and take-profit orders. It may be redeployed.",
    ],
  };

  // [badge, note] for a strategy; a STRATEGY-scope emergency stop is shown beside the status, never instead of it.
  function statusNodes(strategy, killSwitch) {
    const status = String(strategy.status || "");
    const [short, long] = STATUS_NOTES[status] || ["", ""];
    const nodes = [el("span", { class: "badge status status-" + status.toLowerCase(), title: long || null }, status)];
    if (killSwitch) {
      const why = "Entries stopped by an emergency stop" + (killSwitch.reason ? ": " + killSwitch.reason : "");
      nodes.push(el("span", { class: "badge state-kill_switch kill-switch", title: why }, "KILL SWITCH"));
    }
    const note = killSwitch ? "entries stopped" : short;
    if (note) nodes.push(el("span", { class: "status-note", title: long || null }, note));
    return nodes;
  }

  /* ---------- strategy types (GET strategies/types/), asked once per page ---------- */
  let typesPromise = null;
  function types() {
    if (!typesPromise) {
      typesPromise = QL.api.get("strategies/types/").then((body) => QL.resultsOf(body).map(typeOf));
      // A failure is not remembered: the next caller asks again.
      typesPromise.catch(() => {
        typesPromise = null;
      });
    }
    return typesPromise;
  }

  // The contract names them type/generator; the core's StrategyTypeInfo.as_dict name/has_generator: take either.
  function typeOf(raw) {
    return {
      type: raw.type || raw.name,
      label: raw.label || raw.type || raw.name,
      description: raw.description || "",
      generator: Boolean(raw.generator !== undefined ? raw.generator : raw.has_generator),
      parameters: Array.isArray(raw.parameters) ? raw.parameters : [],
    };
  }

  /* ---------- lifecycle actions ---------- */
  const ACTION_ORDER = ["deploy", "resume", "pause", "stop", "delete"];

  function needsOtp(strategy, action) {
    if (Array.isArray(strategy.otp_required_for)) return strategy.otp_required_for.includes(action);
    return action === "deploy" || (action === "resume" && strategy.status === "AUTO_PAUSED");
  }

  function actionSpec(strategy, action) {
    const name = strategy.name;
    const capital = fmtMoney(dec(strategy.capital));
    switch (action) {
      case "deploy":
        return {
          label: "Deploy",
          title: "Deploy " + name,
          text: "Deploying lets " + name + " take new entries, with up to " + capital + " of capital, within your risk limits.",
          reason: false,
          danger: false,
        };
      case "resume":
        return {
          label: "Resume",
          title: "Resume " + name,
          text:
            strategy.status === "AUTO_PAUSED"
              ? "An auto-pause rule stopped its entries. Resuming re-approves it: it takes new entries again."
              : "Resuming lets it take new entries again.",
          reason: true,
          danger: false,
        };
      case "pause":
        return {
          label: "Pause",
          title: "Pause " + name,
          text: "Pausing stops new entries. Open positions stay protected: stop-loss, take-profit and trailing stops keep working, and signals that only reduce a position are still taken.",
          reason: true,
          danger: false,
        };
      case "stop":
        return {
          label: "Stop",
          title: "Stop " + name,
          text: "Stopping ends this run: no new entries. Choose whether to close its open positions now.",
          reason: true,
          flatten: true,
          danger: true,
        };
      case "delete":
        return {
          label: "Delete",
          title: "Delete " + name,
          text: "Delete " + name + "? Only a draft or a stopped strategy may be deleted.",
          reason: false,
          danger: true,
        };
      default:
        return null;
    }
  }

  function actionBody(action, fields) {
    const body = {};
    if (fields.otp !== null) body.otp = fields.otp;
    if (fields.reason && action !== "deploy") body.reason = fields.reason;
    if (action === "stop") body.flatten = fields.flatten;
    return body;
  }

  /* ---------- the confirmation dialog ---------- */
  let current = null; // {strategy, action, spec, askOtp, onDone}

  function dialogParts() {
    const dialog = document.getElementById("strategy-action-dialog");
    if (!dialog) return null;
    const q = (id) => document.getElementById(id);
    return {
      dialog: dialog,
      form: q("action-form"),
      title: q("action-dialog-title"),
      text: q("action-dialog-text"),
      otpField: q("action-otp-field"),
      otp: q("action-otp"),
      enrol: q("action-enrol-hint"),
      flattenField: q("action-flatten-field"),
      flatten: q("action-flatten"),
      reasonField: q("action-reason-field"),
      reason: q("action-reason"),
      error: q("action-error"),
      confirm: q("action-confirm"),
      cancel: q("action-cancel"),
    };
  }

  function showError(parts, error) {
    parts.error.replaceChildren(el("strong", { class: "error-code" }, error.code || "error"), el("span", { class: "error-message" }, " " + error.message));
    parts.error.hidden = false;
  }

  function showOtp(parts, visible) {
    parts.otpField.hidden = !visible;
    parts.otp.required = visible;
  }

  function open(strategy, action, onDone) {
    const parts = dialogParts();
    const spec = actionSpec(strategy, action);
    if (!parts || !spec) return;
    current = { strategy: strategy, action: action, spec: spec, askOtp: needsOtp(strategy, action), onDone: onDone };
    parts.dialog.dataset.action = action;
    parts.dialog.dataset.strategyId = String(strategy.id);
    parts.title.textContent = spec.title;
    parts.text.textContent = spec.text;
    parts.form.reset();
    showOtp(parts, current.askOtp);
    parts.enrol.hidden = true;
    parts.flattenField.hidden = !spec.flatten;
    parts.reasonField.hidden = !spec.reason;
    parts.error.hidden = true;
    parts.error.replaceChildren();
    parts.confirm.textContent = spec.label;
    parts.confirm.disabled = false;
    parts.confirm.classList.toggle("btn-danger", Boolean(spec.danger));
    parts.confirm.classList.toggle("btn-primary", !spec.danger);
    parts.dialog.showModal();
    (current.askOtp ? parts.otp : parts.confirm).focus();
  }

  async function confirm(parts) {
    if (!current) return;
    const { strategy, action } = current;
    const otp = parts.otpField.hidden ? null : parts.otp.value.trim();
    if (otp !== null && !/^\d{6,8}$/.test(otp)) {
      showError(parts, { code: "otp_required", message: "Enter the code your authenticator app shows now (6 digits)." });
      parts.otp.focus();
      return;
    }
    const fields = { otp: otp, reason: parts.reason.value.trim(), flatten: parts.flatten.checked };
    parts.confirm.disabled = true;
    parts.error.hidden = true;
    try {
      const path = "strategies/" + strategy.id + "/";
      const answer =
        action === "delete" ? await QL.api.send("DELETE", path) : await QL.api.send("POST", path + action + "/", actionBody(action, fields));
      const done = current;
      current = null;
      parts.dialog.close("done");
      if (action === "delete") QL.emit("strategy-deleted", { id: strategy.id });
      else if (answer && answer.id !== undefined) QL.emit("strategy-changed", answer);
      if (done.onDone) done.onDone(action, answer);
    } catch (error) {
      if (error instanceof QL.AuthError) error = { code: "not_authenticated", message: "Your session has ended: sign in again." };
      showError(parts, error);
      if (error.code === "otp_required" || error.code === "otp_invalid") {
        showOtp(parts, true);
        parts.otp.select();
        parts.otp.focus();
      } else if (error.code === "otp_not_enrolled") {
        parts.enrol.hidden = false;
      }
      parts.confirm.disabled = false;
    }
  }

  function wire() {
    const parts = dialogParts();
    if (!parts) return;
    parts.form.addEventListener("submit", (event) => {
      event.preventDefault();
      confirm(parts);
    });
    parts.cancel.addEventListener("click", () => {
      current = null;
      parts.dialog.close("cancel");
    });
    parts.dialog.addEventListener("close", () => {
      current = null;
    });
  }

  // The buttons for what the API allows now (allowed_actions), in a fixed order; unknown actions are left out.
  function actionButtons(strategy, onDone) {
    const box = el("span", { class: "lifecycle" });
    const allowed = Array.isArray(strategy.allowed_actions) ? strategy.allowed_actions : [];
    for (const action of ACTION_ORDER) {
      if (!allowed.includes(action)) continue;
      const spec = actionSpec(strategy, action);
      const button = el(
        "button",
        { type: "button", class: "action lifecycle-" + action + (spec.danger ? " action-danger" : ""), dataset: { action: action } },
        spec.label,
      );
      button.addEventListener("click", () => open(strategy, action, onDone));
      box.appendChild(button);
    }
    return box;
  }

  wire();

  QL.strategies = Object.freeze({ STATUS_NOTES, statusNodes, types, typeOf, actionButtons, open, needsOtp });
})();

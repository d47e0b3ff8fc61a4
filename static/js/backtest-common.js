/* Shared by the backtester's pages (templates/backtests/): status badges, progress, forms and their field
 * errors, the live socket (/ws/backtests/) that pushes each run's progress. Text via textContent only. */
(function () {
  "use strict";

  const { el } = QL;
  const FINISHED = new Set(["completed", "canceled", "failed"]);

  function statusBadge(status) {
    const kinds = { completed: "status-running", running: "status-paused", queued: "status-draft", canceled: "status-stopped", failed: "status-stopped" };
    return el("span", { class: "badge status " + (kinds[status] || ""), dataset: { status: status } }, status);
  }

  function percent(progress) {
    return Math.floor(Number(progress || 0) * 100) + " %";
  }

  function progressBar(progress) {
    const bar = el("progress", { max: "1", "aria-label": "Progress" });
    bar.value = Number(progress || 0);
    return bar;
  }

  function dataText(run) {
    if (run.source === "sample") return "sample " + run.sample;
    if (run.source === "dataset") return "dataset " + run.dataset_id + " (" + run.symbol + ")";
    return "stored bars of " + run.symbol;
  }

  function paramsText(values) {
    const entries = Object.entries(values || {}).filter(([, v]) => v !== null && v !== undefined);
    return entries.length ? entries.map(([k, v]) => k + " " + (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ") : "none";
  }

  /* A table cell holding Cancel while a run or an optimization has not finished; POSTs path, then reload(). */
  function cancelCell(run, path, reload) {
    const cell = el("td", null);
    if (!FINISHED.has(run.status)) {
      const cancel = el("button", { type: "button", class: "btn btn-small" }, "Cancel");
      cancel.addEventListener("click", () => QL.api.send("POST", path).then(reload));
      cell.appendChild(cancel);
    }
    return cell;
  }

  /* ---------- forms ---------- */
  function clearErrors(form) {
    for (const field of form.querySelectorAll(".field, fieldset")) {
      field.classList.remove("invalid");
      const message = field.querySelector(":scope > .field-error");
      if (message) {
        message.textContent = "";
        message.hidden = true;
      }
    }
  }

  function sentences(value) {
    if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(" ");
    if (value && typeof value === "object") return Object.entries(value).map(([k, v]) => k + ": " + sentences(v)).join("; ");
    return String(value);
  }

  // errors.settings.commission appears beside the field data-field="settings.commission", else its group's.
  function showErrors(form, errors, alertBox, message) {
    const left = [];
    const place = (name, value) => {
      const field = form.querySelector('[data-field="' + name + '"]');
      if (field) {
        field.classList.add("invalid");
        const box = field.querySelector(":scope > .field-error");
        if (box) {
          box.textContent = sentences(value);
          box.hidden = false;
          return;
        }
      }
      left.push(name + ": " + sentences(value));
    };
    for (const [name, value] of Object.entries(errors || {})) {
      if (value && typeof value === "object" && !Array.isArray(value) && form.querySelector('[data-field^="' + name + '."]')) {
        for (const [inner, text] of Object.entries(value)) place(name + "." + inner, text);
      } else if (name === "non_field_errors") {
        left.push(sentences(value));
      } else {
        place(name, value);
      }
    }
    if (alertBox) {
      alertBox.textContent = [message, ...left].filter(Boolean).join(" ");
      alertBox.hidden = false;
    }
  }

  function value(form, name) {
    const input = form.elements.namedItem(name);
    return input ? String(input.value || "").trim() : "";
  }

  function dataBody(form) {
    const body = { source: value(form, "source") };
    if (body.source === "sample") body.sample = value(form, "sample");
    if (body.source === "dataset" && value(form, "dataset_id")) body.dataset_id = Number(value(form, "dataset_id"));
    if (value(form, "symbol")) body.symbol = value(form, "symbol");
    if (value(form, "start")) body.start = value(form, "start") + "T00:00:00Z";
    if (value(form, "end")) body.end = value(form, "end") + "T00:00:00Z";
    return body;
  }

  function settingsBody(form) {
    const settings = {};
    for (const name of ["initial_cash", "fill_timing", "commission_model", "commission", "slippage_model", "slippage", "sizing_value"]) {
      if (value(form, name) !== "") settings[name] = value(form, name);
    }
    if (value(form, "sizing") !== "") settings.sizing = value(form, "sizing");
    return settings;
  }

  // A JSON textarea read into an object; a field error when it is not one.
  function jsonField(form, name) {
    const text = value(form, name);
    if (!text) return {};
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new QL.ApiError(400, "invalid", "The request is not valid.", { [name]: ["Write a JSON object: " + error.message] });
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new QL.ApiError(400, "invalid", "The request is not valid.", { [name]: ["Write a JSON object."] });
    }
    return parsed;
  }

  function live(onEvent, onReopen) {
    QL.live({
      path: "/ws/backtests/",
      probe: "backtests/",
      onEvent: onEvent,
      onReopen: onReopen,
      onSignedOut: () => {
        const box = el("div", { class: "alert alert-error notice", role: "alert" }, "Your session has ended. ");
        box.appendChild(el("a", { href: "/accounts/login/?next=" + encodeURIComponent(location.pathname) }, "Sign in again"));
        document.querySelector("main").prepend(box);
      },
    });
  }

  QL.backtests = { FINISHED, statusBadge, percent, progressBar, dataText, paramsText, cancelCell, clearErrors, showErrors, value, dataBody, settingsBody, jsonField, live };
})();

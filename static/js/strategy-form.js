/* The dashboard's "New strategy" form (templates/strategies/_new_strategy_dialog.html).
 *
 * The type list and each type's parameter inputs come from GET strategies/types/ (the core's
 * ParamSpec.as_dict: name, type int|decimal|bool, default, min, max, min_exclusive, max_exclusive,
 * nullable, decimal_places, help). Values are sent as the text typed (decimals as strings, never
 * through a float); a 400 answer's field errors are shown next to their fields, a 409 next to the capital. */
(function () {
  "use strict";

  const dialog = document.getElementById("strategy-form-dialog");
  const opener = document.getElementById("new-strategy");
  if (!dialog || !opener) return;
  const { el, group3 } = QL;

  const form = document.getElementById("strategy-form");
  const typeSelect = document.getElementById("sf-type");
  const typeHelp = document.getElementById("sf-type-help");
  const paramBox = document.getElementById("sf-parameter-fields");
  const paramSet = document.getElementById("sf-parameters");
  const symbolsField = document.getElementById("sf-symbols-field");
  const formError = document.getElementById("strategy-form-error");
  const submit = document.getElementById("sf-submit");

  let types = [];
  let chosen = null; // the chosen type

  /* ---------- parameter inputs from the spec ---------- */
  function humanize(name) {
    const words = String(name).replace(/_pct$/, "").split("_").join(" ");
    return words.charAt(0).toUpperCase() + words.slice(1) + (/_pct$/.test(name) ? " (fraction)" : "");
  }

  function bound(value) {
    const text = String(value);
    return /^-?\d+$/.test(text) ? group3(text) : text;
  }

  // "2 to 10,000", "more than 0, at most 1": the accepted range, in words.
  function rangeText(spec) {
    const hasMin = spec.min !== null && spec.min !== undefined;
    const hasMax = spec.max !== null && spec.max !== undefined;
    if (hasMin && hasMax && !spec.min_exclusive && !spec.max_exclusive) return bound(spec.min) + " to " + bound(spec.max);
    const parts = [];
    if (hasMin) parts.push((spec.min_exclusive ? "more than " : "at least ") + bound(spec.min));
    if (hasMax) parts.push((spec.max_exclusive ? "less than " : "at most ") + bound(spec.max));
    return parts.join(", ");
  }

  function step(spec) {
    if (spec.type === "int") return "1";
    const places = spec.decimal_places;
    return Number.isInteger(places) && places > 0 ? "0." + "0".repeat(places - 1) + "1" : "any";
  }

  function paramField(spec) {
    const id = "sf-param-" + spec.name;
    const field = el("div", { class: "field param", dataset: { field: "parameters." + spec.name, param: spec.name, kind: spec.type } });
    const help = [spec.help || "", rangeText(spec) ? "Range: " + rangeText(spec) + "." : ""].filter(Boolean).join(" ");
    if (spec.type === "bool") {
      const label = el("label", { class: "check", for: id });
      const box = el("input", { type: "checkbox", id: id, name: spec.name, "aria-describedby": id + "-help" });
      box.checked = spec.default === true || spec.default === "true";
      label.append(box, document.createTextNode(" " + humanize(spec.name)));
      field.appendChild(label);
    } else {
      field.appendChild(el("label", { for: id }, humanize(spec.name)));
      const input = el("input", {
        id: id,
        name: spec.name,
        type: "number",
        inputmode: spec.type === "int" ? "numeric" : "decimal",
        step: step(spec),
        min: spec.min !== null && spec.min !== undefined ? spec.min : null,
        max: spec.max !== null && spec.max !== undefined ? spec.max : null,
        placeholder: spec.nullable ? "none" : null,
        "aria-describedby": id + "-help",
      });
      input.value = spec.default === null || spec.default === undefined ? "" : String(spec.default);
      field.appendChild(input);
    }
    field.appendChild(el("p", { class: "field-help", id: id + "-help" }, help));
    field.appendChild(el("p", { class: "field-error", hidden: true }));
    return field;
  }

  function choose(typeName) {
    chosen = types.find((t) => t.type === typeName) || null;
    typeHelp.textContent = chosen ? chosen.description : "";
    const specs = chosen ? chosen.parameters : [];
    paramBox.replaceChildren(...specs.map(paramField));
    paramSet.hidden = !specs.length;
    // A generator watches the symbols it is given; an external producer names the symbol in each signal.
    symbolsField.hidden = !(chosen && chosen.generator);
    clearErrors();
  }

  /* ---------- errors ---------- */
  function fieldOf(key) {
    const direct = form.querySelector('[data-field="' + CSS.escape(key) + '"]');
    if (direct) return direct;
    // A parameter's error may come under its bare name.
    return chosen && chosen.parameters.some((p) => p.name === key) ? form.querySelector('[data-field="parameters.' + CSS.escape(key) + '"]') : null;
  }

  function sentences(value, label) {
    if (value === null || value === undefined) return [];
    if (Array.isArray(value)) return value.flatMap((item) => sentences(item, label));
    if (typeof value === "object") {
      return Object.entries(value).flatMap(([key, inner]) => sentences(inner).map((s) => (label ? label(key) : key) + ": " + s));
    }
    return [String(value)];
  }

  function setFieldError(field, texts) {
    const node = field.querySelector(":scope > .field-error");
    node.textContent = texts.join(" ");
    node.hidden = false;
    field.classList.add("invalid");
    for (const input of field.querySelectorAll("input, select")) input.setAttribute("aria-invalid", "true");
  }

  function clearErrors() {
    formError.hidden = true;
    formError.replaceChildren();
    for (const node of form.querySelectorAll(".field-error")) {
      node.hidden = true;
      node.textContent = "";
    }
    for (const node of form.querySelectorAll(".invalid")) node.classList.remove("invalid");
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }

  function showFormError(code, message, extra) {
    formError.replaceChildren(el("strong", { class: "error-code" }, code), el("span", { class: "error-message" }, " " + message));
    if (extra.length) {
      const list = el("ul", { class: "error-list" });
      for (const line of extra) list.appendChild(el("li", null, line));
      formError.appendChild(list);
    }
    formError.hidden = false;
  }

  function showErrors(error, symbols) {
    const leftovers = [];
    const place = (key, value) => {
      const field = fieldOf(key);
      const texts = key === "symbols" ? sentences(value, (i) => symbols[Number(i)] || "item " + i) : sentences(value);
      if (field) setFieldError(field, texts);
      else leftovers.push(...texts.map((text) => (key === "non_field_errors" ? text : key + ": " + text)));
    };
    // Only a 400 answer's errors are field errors; a 409's "errors" are the figures behind its sentence.
    const fieldErrors = error.status === 400 || error.code === "invalid" ? error.errors || {} : {};
    for (const [key, value] of Object.entries(fieldErrors)) {
      if (key === "parameters" && value && typeof value === "object" && !Array.isArray(value)) {
        for (const [name, inner] of Object.entries(value)) place(name === "non_field_errors" ? "parameters" : "parameters." + name, inner);
      } else {
        place(key, value);
      }
    }
    if (error.code === "capital_exceeds_equity") place("capital", [error.message]);
    showFormError(error.code || "error", error.message, leftovers);
    const first = form.querySelector(".invalid input, .invalid select");
    if (first) first.focus();
  }

  /* ---------- the request ---------- */
  function collect() {
    const local = {};
    const body = {
      name: form.elements.name.value.trim(),
      strategy_type: typeSelect.value,
      capital: form.elements.capital.value.trim(),
    };
    if (form.elements.capital.validity.badInput) local.capital = ["Enter an amount."];
    const parameters = {};
    for (const spec of chosen ? chosen.parameters : []) {
      const input = document.getElementById("sf-param-" + spec.name);
      if (spec.type === "bool") {
        parameters[spec.name] = input.checked;
        continue;
      }
      if (input.validity.badInput) local["parameters." + spec.name] = ["Enter a number."];
      const text = input.value.trim();
      // Empty means "none" where the spec allows it; otherwise the API says it may not be empty.
      parameters[spec.name] = text === "" && spec.nullable ? null : text;
    }
    if (chosen && chosen.parameters.length) body.parameters = parameters;
    const symbols = symbolsField.hidden
      ? []
      : form.elements.symbols.value
          .split(/[\s,;]+/)
          .map((s) => s.trim().toUpperCase())
          .filter(Boolean);
    if (symbols.length) body.symbols = symbols;
    return { body, local, symbols };
  }

  async function create() {
    clearErrors();
    const { body, local, symbols } = collect();
    if (Object.keys(local).length) {
      showErrors({ code: "invalid", message: "Some values are not numbers.", errors: local }, symbols);
      return;
    }
    submit.disabled = true;
    try {
      const strategy = await QL.api.send("POST", "strategies/", body);
      dialog.close("created");
      form.reset();
      if (strategy && strategy.id !== undefined) QL.emit("strategy-changed", strategy);
      QL.emit("strategy-created", strategy);
    } catch (error) {
      if (error instanceof QL.AuthError) showErrors({ code: "not_authenticated", message: "Your session has ended: sign in again." }, symbols);
      else showErrors(error, symbols);
    } finally {
      submit.disabled = false;
    }
  }

  /* ---------- opening ---------- */
  async function openForm() {
    clearErrors();
    if (!dialog.open) dialog.showModal();
    if (types.length) {
      submit.disabled = false;
      form.elements.name.focus();
      return;
    }
    submit.disabled = true;
    paramBox.replaceChildren(el("p", { class: "muted" }, "Loading the strategy types…"));
    try {
      types = await QL.strategies.types();
    } catch (error) {
      paramBox.replaceChildren();
      showFormError(error.code || "error", "The strategy types could not be loaded: " + error.message, []);
      return;
    }
    typeSelect.replaceChildren(...types.map((t) => el("option", { value: t.type }, t.label)));
    choose(types.length ? types[0].type : "");
    submit.disabled = !types.length;
    form.elements.name.focus();
  }

  opener.addEventListener("click", openForm);
  typeSelect.addEventListener("change", () => choose(typeSelect.value));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    create();
  });
  document.getElementById("sf-cancel").addEventListener("click", () => dialog.close("cancel"));
  form.addEventListener("reset", () => setTimeout(() => choose(typeSelect.value), 0));
})();

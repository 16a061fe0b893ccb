// The dashboard's behaviour, for every page (no inline scripts: the CSP forbids them).
//
// Forms with data-api send JSON to the REST API, so every rule, permission and error is the
// API's own:
//   <form data-api="/v1/orders/{id}/hold" data-method="POST" data-confirm="Hold this order?"
//         data-if-match="3" data-success="Order on hold" data-then="reload">
// Field names are JSON paths: "reason", "lines.0.quantity" (a list index), "to.location".
// Inputs of type number send numbers; empty optional fields are left out; data-json="true"
// on a field sends its value parsed as JSON. A problem+json answer is shown in the form's
// [role=alert] element, with the fields it names marked invalid.
"use strict";

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

function setPath(target, path, value) {
  const keys = path.split(".");
  let node = target;
  keys.forEach((key, index) => {
    const last = index === keys.length - 1;
    const nextIsIndex = !last && /^\d+$/.test(keys[index + 1]);
    if (last) {
      node[key] = value;
    } else {
      node[key] ??= nextIsIndex ? [] : {};
      node = node[key];
    }
  });
}

function formBody(form) {
  const body = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled || field.type === "submit") continue;
    if ((field.type === "checkbox" || field.type === "radio") && !field.checked) continue;
    let value = field.value;
    if (value === "" && !field.required) continue;
    if (field.type === "number") value = Number(value);
    else if (field.type === "checkbox") value = field.value === "on" ? true : field.value;
    else if (field.dataset.json === "true") value = JSON.parse(value);
    setPath(body, field.name, value);
  }
  // Sparse lists (a line left out) are compacted: the API wants only the lines given.
  const compact = (node) => {
    if (Array.isArray(node)) return node.filter((item) => item !== undefined).map(compact);
    if (node && typeof node === "object") {
      for (const key of Object.keys(node)) node[key] = compact(node[key]);
    }
    return node;
  };
  return compact(body);
}

function showProblem(form, problem, status) {
  const alert = form.querySelector("[role=alert]");
  form.querySelectorAll("[aria-invalid]").forEach((field) => field.removeAttribute("aria-invalid"));
  for (const error of problem.errors || []) {
    const name = String(error.field).replace(/^\$\./, "").replace(/\[(\d+)\]/g, ".$1");
    form.elements[name]?.setAttribute("aria-invalid", "true");
  }
  if (alert) {
    alert.textContent = problem.detail || `The request failed (${status}).`;
    alert.dataset.code = problem.code || "";
  }
}

async function submitToApi(form) {
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
  const alert = form.querySelector("[role=alert]");
  if (alert) alert.textContent = "";
  const status = form.querySelector("[role=status]");
  const method = (form.dataset.method || "POST").toUpperCase();
  const headers = {
    Accept: "application/json",
    "X-CSRF-Token": csrfToken(),
    "Idempotency-Key": crypto.randomUUID(),
  };
  if (form.dataset.ifMatch) headers["If-Match"] = `"${form.dataset.ifMatch}"`;
  const init = { method, headers };
  if (method !== "DELETE" && method !== "GET") {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(formBody(form));
  }
  form.setAttribute("aria-busy", "true");
  form.querySelectorAll("button").forEach((button) => (button.disabled = true));
  try {
    const response = await fetch(form.dataset.api, init);
    if (response.status === 401) {
      location.assign(`/dashboard/login?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    const payload = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (!response.ok) {
      showProblem(form, payload, response.status);
      return;
    }
    if (status) status.textContent = form.dataset.success || "Done";
    form.dispatchEvent(new CustomEvent("api:done", { bubbles: true, detail: payload }));
    const then = form.dataset.then || "reload";
    if (then === "reload") location.reload();
    else if (then.startsWith("/")) {
      location.assign(then.replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(payload[key])));
    } else if (then === "reset") form.reset();
  } catch {
    showProblem(form, { detail: "The server cannot be reached. Try again." }, 0);
  } finally {
    form.removeAttribute("aria-busy");
    form.querySelectorAll("button").forEach((button) => (button.disabled = false));
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.api) {
    event.preventDefault();
    submitToApi(form);
  }
});

let signingOut = false;

document.addEventListener("click", async (event) => {
  const button = event.target.closest?.("[data-logout]");
  if (!button) return;
  // A live refresh racing the sign-out would be redirected to the login page on its own.
  signingOut = true;
  await fetch("/v1/session", { method: "DELETE", headers: { "X-CSRF-Token": csrfToken() } });
  location.assign("/dashboard/login");
});

document.addEventListener("DOMContentLoaded", () => {
  document.documentElement.classList.add("js");
  // htmx fragment requests carry the session's CSRF token too (harmless on GETs).
  document.body.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (signingOut) event.preventDefault();
  });
});

document.addEventListener("click", (event) => {
  if (event.target.closest?.("[data-print]")) window.print();
});

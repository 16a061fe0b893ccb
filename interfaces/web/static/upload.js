// File uploads to the REST API (no inline scripts: the CSP forbids them).
//   <form data-upload="/v1/reconciliation/payouts" data-success="Payout imported">
// File inputs and text fields go as multipart/form-data (files) and query parameters (the
// rest), with the session's CSRF token and an Idempotency-Key; a problem+json answer is shown
// in the form's [role=alert]; success reloads the page.
"use strict";

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.upload) return;
  event.preventDefault();
  const alert = form.querySelector("[role=alert]");
  const status = form.querySelector("[role=status]");
  if (alert) alert.textContent = "";
  const body = new FormData();
  const query = new URLSearchParams();
  for (const field of form.elements) {
    if (!field.name) continue;
    if (field.type === "file") {
      for (const file of field.files) body.append(field.name, file);
    } else if (field.value !== "") {
      query.append(field.name, field.value);
    }
  }
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  form.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(`${form.dataset.upload}?${query}`, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf, "Idempotency-Key": crypto.randomUUID() },
      body,
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      if (alert) alert.textContent = problem.detail || `The upload failed (${response.status}).`;
      return;
    }
    if (status) status.textContent = form.dataset.success || "Uploaded";
    location.reload();
  } catch {
    if (alert) alert.textContent = "The server cannot be reached. Try again.";
  } finally {
    form.removeAttribute("aria-busy");
  }
});

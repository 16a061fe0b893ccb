// Settings: secrets the API returns once (a new API key, a webhook signing secret) are shown
// in the form's [data-revealed] box instead of reloading the page, and the list beside the
// form is refreshed (data-refresh names the event its htmx fragment listens to). A store
// picker can point its form at another store (data-sets-api: the API path before the code).
"use strict";

document.addEventListener("api:done", (event) => {
  const form = event.target;
  const field = form.dataset.reveal;
  if (!field) return;
  const box = form.querySelector("[data-revealed]");
  box.querySelector("[data-secret]").textContent = event.detail[field];
  box.hidden = false;
  if (form.dataset.refresh) document.body.dispatchEvent(new CustomEvent(form.dataset.refresh));
});

document.addEventListener("change", (event) => {
  const picker = event.target.closest?.("[data-sets-api]");
  if (picker) picker.form.dataset.api = picker.dataset.setsApi + encodeURIComponent(picker.value);
});

// Sign-in: POST /v1/session as JSON; a second step asks for a one-time code when the account
// needs one. The account id is remembered in this browser to save typing it again.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  const otpField = document.getElementById("otp-field");
  const tenant = form.elements.tenant_id;
  const params = new URLSearchParams(location.search);
  tenant.value = params.get("account") || localStorage.getItem("kontor.account") || "";
  (tenant.value ? form.elements.email : tenant).focus();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const body = {
      tenant_id: tenant.value.trim(),
      email: form.elements.email.value.trim(),
      password: form.elements.password.value,
    };
    const code = form.elements.otp.value.trim();
    if (code) {
      body[/^\d{6}$/.test(code) ? "otp" : "recovery_code"] = code;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const response = await fetch("/v1/session", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      if (response.ok) {
        localStorage.setItem("kontor.account", body.tenant_id);
        location.assign(form.dataset.next || "/dashboard");
        return;
      }
      const problem = await response.json().catch(() => ({}));
      if (problem.code === "mfa_required") {
        otpField.hidden = false;
        form.elements.otp.focus();
        error.textContent = "Enter the code from your authenticator app.";
      } else if (problem.code === "validation_failed") {
        error.textContent = "Check the account ID: it is the UUID your administrator gave you.";
      } else {
        error.textContent = problem.detail || `Sign-in failed (${response.status}).`;
      }
    } catch {
      error.textContent = "The server cannot be reached. Check your connection and try again.";
    } finally {
      button.disabled = false;
    }
  });
});

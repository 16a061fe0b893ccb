// Live updates: one EventSource on /dashboard/live. A `change` names the kinds of record that
// changed; each becomes a `live-<kind>` event on <body>, which the page's htmx fragments listen
// to (hx-trigger="live-order from:body"). `*` (after a reconnect that missed something) means
// refresh everything. EventSource reconnects by itself and sends the last id it saw; the
// first connection starts from the position the page was rendered at (`since`).
"use strict";
(() => {
  const KINDS = ["order", "stock", "shipment", "return", "invoice", "payment"];
  const status = document.getElementById("live-status");
  if (!status || !window.EventSource) {
    return;
  }
  const show = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
  };
  // The position the page was read at: anything announced since is sent at once.
  const since = document.body.dataset.liveSince || "";
  const source = new EventSource(`/dashboard/live?since=${encodeURIComponent(since)}`);
  let lost = null; // shown only if a reconnect takes long: streams end every 20 s by design
  source.addEventListener("ready", () => {
    clearTimeout(lost);
    show("live", "Live");
  });
  source.addEventListener("change", (message) => {
    const { kinds } = JSON.parse(message.data);
    const fire = kinds.includes("*") ? KINDS : kinds;
    for (const kind of fire) {
      document.body.dispatchEvent(new CustomEvent(`live-${kind}`));
    }
    show("live", "Live");
  });
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) {
      show("reconnecting", "Offline");
      setTimeout(() => location.reload(), 5000); // e.g. the session ended: the login page follows
      return;
    }
    clearTimeout(lost);
    lost = setTimeout(() => show("reconnecting", "Reconnecting…"), 3000);
  });
})();

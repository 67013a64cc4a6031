// Keyboard review: digits pick an option (0 = blank; Shift+digit adds one), Enter confirms,
// arrows move between items, P opens the whole page, N starts the queue.
(function () {
  "use strict";
  const form = document.getElementById("decision");
  const value = document.getElementById("value");
  const item = document.getElementById("item");
  const multi = form && form.dataset.multi === "1";
  const mustChoose = form && form.dataset.choose === "1";
  const LEASE_RENEW_MS = 60 * 1000;

  function chosen() {
    return Array.from(document.querySelectorAll(".option.chosen")).map((b) => b.dataset.value).filter((v) => v);
  }

  function pick(button, add) {
    if (!button) return;
    const buttons = document.querySelectorAll(".option");
    if (button.dataset.value === "" || (!multi && !add)) {
      buttons.forEach((b) => b.classList.remove("chosen"));
      button.classList.add("chosen");
    } else {
      document.querySelector('.option[data-value=""]')?.classList.remove("chosen");
      button.classList.toggle("chosen");
    }
    value.value = chosen().join(";");
    form.dataset.picked = "1";
  }

  document.querySelectorAll(".option").forEach((b) => b.addEventListener("click", () => pick(b)));

  function submit() {
    if (!form) return;
    if (mustChoose && form.dataset.picked !== "1") return;  // nothing chosen yet: Enter does nothing
    form.submit();
  }

  // Keep the item leased while it is open; a closed page lets the lease lapse.
  const token = form && form.querySelector('input[name="csrf_token"]');
  if (item && item.dataset.ident && token) {
    setInterval(() => {
      const body = new FormData();
      body.append("id", item.dataset.ident);
      body.append("csrf_token", token.value);
      fetch(item.dataset.lease, {method: "POST", body: body, credentials: "same-origin"});
    }, LEASE_RENEW_MS);
  }

  document.addEventListener("keydown", (event) => {
    const active = document.activeElement;
    const typing = active && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName);
    if (active && active.id === "comment") {
      // In the comment box keys type text; Escape leaves it for the item keys.
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); if (!event.repeat) submit(); }
      if (event.key === "Escape") active.blur();
      return;
    }
    if (typing) {
      if (event.key === "Enter" && active.id === "note") { event.preventDefault(); submit(); }
      return;
    }
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    // Options 1-9 by digit, 10 on by letter (a = 10); Shift adds a second
    // mark to a single-choice answer (recorded as read, scored as spoiled).
    const code = /^(?:Digit|Numpad|Key)([0-9A-M])$/.exec(event.code || "");
    const option = code && document.querySelector(`.option[data-key="${code[1].toLowerCase()}"]`);
    if (option && value) {
      event.preventDefault();
      pick(option, event.shiftKey);
    } else if (event.key === "Enter" && form) {
      event.preventDefault();
      if (!event.repeat) submit();  // a key held down must not confirm the next item too
    } else if (event.key === "ArrowRight" && item && item.dataset.next) {
      window.location = item.dataset.next;
    } else if (event.key === "ArrowLeft" && item && item.dataset.prev) {
      window.location = item.dataset.prev;
    } else if ((event.key === "p" || event.key === "P") && item && item.dataset.page) {
      window.open(item.dataset.page, "_blank");
    } else if ((event.key === "n" || event.key === "N") && document.getElementById("start")) {
      window.location = document.getElementById("start").href;
    }
  });
})();

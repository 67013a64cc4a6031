// Keyboard review: digits pick or unpick an option (0 = blank; Shift+digit adds a second
// mark to a single choice), Enter confirms what was chosen, arrows move between items,
// P opens the whole page, N goes to the next item (from the overview or a dead end).
//
// Enter confirms only from the item itself (nothing focused, or the note or comment box):
// on a focused link or button it does that element's own action, never the decision.
// A doubtful answer comes with nothing chosen, so Enter does nothing until the reviewer
// chooses; what is chosen is always spelled out, and a key that unpicks a choice says so.
// Keys pressed while an input method composes (Telex, VNI) belong to the input method.
(function () {
  "use strict";
  const form = document.getElementById("decision");
  const value = document.getElementById("value");
  const item = document.getElementById("item");
  const selection = document.getElementById("selection");
  const multi = form && form.dataset.multi === "1";
  const mustChoose = form && form.dataset.choose === "1";
  const LEASE_RENEW_MS = 60 * 1000;

  function chosenButtons() {
    return Array.from(document.querySelectorAll(".option.chosen"));
  }

  function labels(buttons) {
    return buttons.map((b) => b.dataset.label || b.textContent.trim()).join("; ");
  }

  function showSelection(removed) {
    if (!selection) return;
    const text = document.getElementById("selection-text");
    const gone = document.getElementById("selection-removed");
    const chosen = chosenButtons();
    text.textContent = chosen.length ? `${selection.dataset.chosen}: ${labels(chosen)}` : selection.dataset.none;
    selection.classList.toggle("empty", !chosen.length);
    if (removed.length) {
      gone.textContent = `(${selection.dataset.removed}: ${labels(removed)})`;
      gone.hidden = false;
    } else {
      gone.textContent = "";
      gone.hidden = true;
    }
  }

  function pick(button, add) {
    if (!button || !value) return;
    const before = chosenButtons();
    const buttons = document.querySelectorAll(".option");
    if (button.dataset.value === "" || (!multi && !add)) {
      buttons.forEach((b) => b.classList.remove("chosen"));
      button.classList.add("chosen");
    } else {
      document.querySelector('.option[data-value=""]')?.classList.remove("chosen");
      button.classList.toggle("chosen");
    }
    const after = chosenButtons();
    value.value = after.map((b) => b.dataset.value).filter((v) => v).join(";");
    form.dataset.picked = after.length ? "1" : "";
    // A choice replaced by another single choice is the reviewer's plain intent; one
    // that a key took away from a set (or blank clearing a set) is spelled out.
    const removed = before.filter((b) => !after.includes(b) && (multi || add || before.length > 1));
    showSelection(removed);
  }

  document.querySelectorAll(".option").forEach((b) => b.addEventListener("click", (event) => {
    // A mouse click leaves no focus behind: Enter then confirms, it does not pick again.
    pick(b, event.shiftKey);
    b.blur();
  }));

  function ready() {
    return !mustChoose || form.dataset.picked === "1";
  }

  function refuse() {
    if (!selection) return;
    selection.classList.remove("nudge");
    void selection.offsetWidth;  // restart the animation
    selection.classList.add("nudge");
  }

  if (form) {
    // The confirm button, or Enter in the note: nothing is sent before a choice.
    form.addEventListener("submit", (event) => {
      if (!ready()) {
        event.preventDefault();
        refuse();
      }
    });
  }

  function submit() {
    if (!form) return;
    if (!ready()) {
      refuse();
      return;
    }
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

  function isComposing(event) {
    // keyCode 229: the key went to an input method (browsers that do not set isComposing on it).
    return event.isComposing || event.keyCode === 229;
  }

  document.addEventListener("keydown", (event) => {
    if (isComposing(event)) return;
    const active = document.activeElement;
    const tag = active ? active.tagName : "";
    if (active && active.id === "comment") {
      // In the comment box keys type text; Escape leaves it for the item keys.
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        if (!event.repeat) submit();
      }
      if (event.key === "Escape") active.blur();
      return;
    }
    if (["INPUT", "TEXTAREA", "SELECT"].includes(tag)) {
      // The note belongs to the decision; any other field (assigning a page) to its own form.
      if (event.key === "Enter" && active.id === "note") {
        event.preventDefault();
        if (!event.repeat) submit();
      }
      return;
    }
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    const focusedControl = active && active !== document.body && active.closest("a, button, summary, [role=button]");
    if (event.key === "Enter") {
      // A focused link or button does its own thing (the browser's default).
      if (focusedControl || !form) return;
      event.preventDefault();
      if (!event.repeat) submit();  // a key held down must not confirm the next item too
      return;
    }
    // Options 1-9 by digit, 10 on by letter (a = 10); Shift adds a second
    // mark to a single-choice answer (recorded as read, scored as spoiled).
    const code = /^(?:Digit|Numpad|Key)([0-9A-M])$/.exec(event.code || "");
    const option = code && document.querySelector(`.option[data-key="${code[1].toLowerCase()}"]`);
    if (option && value) {
      event.preventDefault();
      pick(option, event.shiftKey);
    } else if (event.key === "ArrowRight" && item && item.dataset.next) {
      window.location = item.dataset.next;
    } else if (event.key === "ArrowLeft" && item && item.dataset.prev) {
      window.location = item.dataset.prev;
    } else if ((event.key === "p" || event.key === "P") && item && item.dataset.page) {
      window.open(item.dataset.page, "_blank");
    } else if (event.key === "n" || event.key === "N") {
      const next = document.querySelector('a[data-key="n"]');
      if (next) window.location = next.href;
    }
  });
})();

// Bookshelf's only script of its own. The strict CSP forbids inline scripts and
// handlers, so all behaviour is attached here, listening to DOM and htmx events.
(function () {
  "use strict";

  // Marks the page as scripted: without this class the CSS shows messages statically
  // (Bootstrap's toasts need this script) and hides what only works with it.
  document.documentElement.classList.add("js");

  // Errors stay until dismissed; other outcomes fade after a few seconds.
  const TOAST_DELAY_MS = 5000;

  function showToast(element) {
    if (element.dataset.shown) return;
    element.dataset.shown = "true";
    // Errors, and toasts offering an action (Undo), stay until dismissed.
    const sticky = element.dataset.level === "danger" || !!element.querySelector("form");
    const toast = bootstrap.Toast.getOrCreateInstance(element, {
      autohide: !sticky,
      delay: TOAST_DELAY_MS,
    });
    element.addEventListener("hidden.bs.toast", () => element.remove(), { once: true });
    toast.show();
  }

  function addToast(text, level) {
    const template = document.getElementById("toast-template");
    const container = document.getElementById("toasts");
    if (!template || !container) return;
    const element = template.content.firstElementChild.cloneNode(true);
    const safeLevel = /^[a-z]+$/.test(level) ? level : "info";
    element.classList.remove("text-bg-info");
    element.classList.add("text-bg-" + safeLevel);
    element.dataset.level = safeLevel;
    element.setAttribute("role", safeLevel === "danger" ? "alert" : "status");
    // textContent, never innerHTML: messages may quote user input.
    element.querySelector(".toast-body").textContent = text;
    container.appendChild(element);
    showToast(element);
  }

  // After a swap, put keyboard focus somewhere sensible: the first invalid field, the
  // first field of a form that just opened, or an element the server marked with
  // data-focus. (Not autofocus: htmx focuses [autofocus] itself after the settle delay,
  // which would take focus back from wherever the user had moved it meanwhile.)
  // Invalid fields are found by aria-invalid (Django sets it on every field with errors),
  // not by .is-invalid: until htmx settles, an element that kept its id still wears its
  // old class attribute (attributesToSettle in base.html), so the class can be stale.
  // A swapped-in row (saved, cancelled, or changed by an action in its menu) gets focus on
  // its ⋯ menu button, [data-row-focus], so the keyboard user carries on from that row; a
  // swapped members list puts it in the search box, ready to add the next person.
  function focusAfterSwap(root) {
    const target =
      root.querySelector("[aria-invalid=true]") ||
      root.querySelector("[data-focus]") ||
      root.querySelector(
        "[data-inline-edit] input:not([type=hidden]), [data-inline-edit] textarea",
      ) ||
      (root.matches("tr") && root.querySelector("[data-row-focus]")) ||
      (root.id === "members" && root.querySelector("#member-search"));
    if (target) target.focus();
  }

  // Where focus goes when a row disappears (deleted, or a new-book row dismissed): the
  // next row's menu button, else the previous row's, else ``fallback``.
  function focusNear(next, previous, fallback) {
    const target =
      [next, previous]
        .filter((row) => row && row.isConnected)
        .map((row) => row.querySelector("[data-row-focus]"))
        .find(Boolean) || fallback;
    if (target) target.focus();
  }

  // Messages rendered with the page.
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("#toasts .toast").forEach(showToast);
  });

  // Messages sent with an htmx response (HX-Trigger: {"bookshelf:messages": …}).
  document.addEventListener("bookshelf:messages", (event) => {
    (event.detail.messages || []).forEach((m) => addToast(m.message, m.level));
  });

  // Toasts the server rendered into a response (refusals).
  document.addEventListener("htmx:load", (event) => {
    const root = event.detail.elt;
    if (root.matches && root.matches(".toast")) showToast(root);
  });

  // Focus after a swap is decided once, in htmx:afterSwap: htmx fires it in the same task
  // that inserts the new content, so no keystroke or click can come in between. (htmx:load
  // comes later, after the settle delay; moving focus then took it away from a field the
  // user had already put it in, and their typing landed in another field.) Focus moves
  // only if it is not somewhere the user chose: still on the element that made the request,
  // lost to <body> because that element was swapped out, or inside the new content.
  function focusIsUnclaimed(root, requestElt) {
    const active = document.activeElement;
    return (
      !active ||
      active === document.body ||
      root.contains(active) ||
      (requestElt instanceof Element && requestElt.contains(active))
    );
  }

  document.addEventListener("htmx:afterSwap", (event) => {
    const root = event.detail.elt;
    const requestElt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!(root instanceof Element) || root === document.body) return;
    if (focusIsUnclaimed(root, requestElt)) focusAfterSwap(root);
  });

  // A row swapped for nothing (a delete) leaves the page after its fade-out; htmx fires
  // afterSwap on the detached row, out of reach of these listeners, so the removal itself
  // is watched, with the neighbours read while the row is still there.
  // "Nothing" may come with out-of-band swaps for elsewhere on the page (the sessions page
  // drops "Sign out everywhere else" with the last other session): still nothing for the row.
  function isNothingForTheTarget(response) {
    if (response.trim() === "") return true;
    const body = new DOMParser().parseFromString(response, "text/html").body; // inert
    return [...body.childNodes].every((node) =>
      node.nodeType === Node.ELEMENT_NODE
        ? node.hasAttribute("hx-swap-oob")
        : node.textContent.trim() === "",
    );
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    const row = event.detail.target;
    if (!(row instanceof HTMLTableRowElement)) return;
    if (!isNothingForTheTarget(event.detail.serverResponse || "")) return;
    const body = row.parentElement;
    if (!body) return;
    const next = row.nextElementSibling;
    const previous = row.previousElementSibling;
    const observer = new MutationObserver(() => {
      if (row.isConnected) return;
      observer.disconnect();
      const active = document.activeElement;
      if (active && active !== document.body && active.isConnected) return; // moved on
      // The page's own fallback (the review queue's heading), else the book search.
      const fallback =
        document.querySelector("[data-focus-fallback]") || document.getElementById("book-search");
      focusNear(next, previous, fallback);
    });
    observer.observe(body, { childList: true });
  });

  // Responses htmx does not swap (5xx) and requests that got no response at all.
  document.addEventListener("htmx:responseError", () => {
    addToast("Something went wrong on our side. Please try again in a moment.", "danger");
  });
  document.addEventListener("htmx:sendError", () => {
    addToast("The server could not be reached. Check your connection and try again.", "danger");
  });

  // One "New book" form at a time: a second click goes to the open one.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    if (elt.matches("[data-new-book]")) {
      const open = document.getElementById("book-new");
      if (open) {
        event.preventDefault();
        focusAfterSwap(open);
      }
    }
  });

  // Cancel of a form that only exists in the page (a new row): remove it.
  document.addEventListener("click", (event) => {
    const dismiss = event.target.closest("[data-dismiss-row]");
    if (dismiss) {
      event.preventDefault();
      dismiss.closest("tr").remove();
      // Back to the button that opened it.
      const opener = document.querySelector("[data-new-book]");
      if (opener) opener.focus();
    }
  });

  // Links that act as buttons (the rows' ⋯ menus, links so they work without JavaScript)
  // answer the Space key as buttons do.
  document.addEventListener("keydown", (event) => {
    if (event.key !== " ") return;
    const link = event.target.closest && event.target.closest("a[role=button]");
    if (link) {
      event.preventDefault();
      link.click();
    }
  });

  // Escape cancels an inline form.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const form = event.target.closest && event.target.closest("[data-inline-edit]");
    if (!form) return;
    const cancel = form.querySelector("[data-cancel], [data-dismiss-row]");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  });

  // The desk (/circulation/): a scanner types a barcode and Enter, and the next one may
  // come before the answer to the last. So each scan is sent with the values it had
  // (htmx.ajax with values, queued in order by the form's hx-sync="this:queue all"), and
  // the barcode field is emptied at once, keeping the focus. htmx's own submit would drop
  // or merge scans made while a request is in flight (its default queue keeps only the
  // last, and reads the field when it finally sends).
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.matches("[data-desk]") || !window.htmx) {
        return;
      }
      event.preventDefault();
      event.stopPropagation(); // capture phase: htmx's listener on the form never sees it
      const values = {
        member: form.elements.member.value,
        barcode: form.elements.barcode.value,
      };
      form.elements.barcode.value = "";
      form.elements.barcode.focus();
      window.htmx.ajax("POST", form.action, {
        source: form,
        target: "#desk-results",
        swap: "afterbegin",
        values: values,
      });
    },
    true,
  );

  // A scan's answer: the row on top. A problem with the member sends the focus there, with
  // the barcode back in its field to send again; otherwise the barcode field keeps it.
  document.addEventListener("htmx:afterSwap", (event) => {
    const results = event.detail.target;
    if (!(results instanceof Element) || results.id !== "desk-results") return;
    const form = document.querySelector("[data-desk]");
    const row = results.firstElementChild;
    if (!form || !row) return;
    if (row.dataset.field === "member") {
      if (!form.elements.barcode.value) form.elements.barcode.value = row.dataset.barcode || "";
      form.elements.member.focus();
      form.elements.member.select();
    } else if (document.activeElement !== form.elements.member) {
      form.elements.barcode.focus();
    }
  });

  window.bookshelf = { addToast };
})();

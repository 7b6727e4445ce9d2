// Bookshelf's only script of its own. The strict CSP forbids inline scripts and
// handlers, so all behaviour is attached here, listening to DOM and htmx events.
(function () {
  "use strict";

  // Errors stay until dismissed; other outcomes fade after a few seconds.
  const TOAST_DELAY_MS = 5000;

  function showToast(element) {
    const sticky = element.dataset.level === "danger";
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

  // Messages rendered with the page.
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("#toasts .toast").forEach(showToast);
  });

  // Messages sent with an htmx response (HX-Trigger: {"bookshelf:messages": …}).
  document.addEventListener("bookshelf:messages", (event) => {
    (event.detail.messages || []).forEach((m) => addToast(m.message, m.level));
  });

  // A request that failed without a response (server down, network lost).
  document.addEventListener("htmx:sendError", () => {
    addToast("The server could not be reached. Check your connection and try again.", "danger");
  });

  window.bookshelf = { addToast };
})();

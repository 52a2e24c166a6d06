// Cost Code Portal: dialogs and htmx error display. No inline scripts (the CSP forbids them).
(function () {
  "use strict";
  let opener = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    const target = event.detail.target;
    if (target && target.id === "modal-root") opener = event.detail.elt;
  });

  // A partial swapped into #modal-root brings its own <dialog>: open it as a modal, which keeps
  // Tab inside it and makes Escape close it.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "modal-root") return;
    const dialog = event.detail.target.querySelector("dialog");
    if (!dialog) return;
    dialog.addEventListener("close", function () {
      document.getElementById("modal-root").replaceChildren();
      if (opener && document.contains(opener)) opener.focus();
    }, { once: true });
    dialog.showModal();
    const first = dialog.querySelector("[autofocus], .modal-close");
    if (first) first.focus();
  });

  // Closing a dialog throws away what was typed in it (a half-typed reject reason): Escape, ×
  // and Cancel ask first. Sending the form is not closing it, so it never asks then.
  function typedText(dialog) {
    return Array.from(dialog.querySelectorAll("textarea, input[type=text]")).some(function (field) {
      return field.value.trim() !== "" && field.value !== field.defaultValue;
    });
  }

  function mayDiscard(dialog) {
    return !typedText(dialog) || window.confirm("Discard what you typed? It has not been sent.");
  }

  document.addEventListener("click", function (event) {
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog && mayDiscard(dialog)) dialog.close();
    }
  });

  // A page whose sections save on their own (a user's page in the Directory): a section's form
  // marked data-guard-unsaved has changes that another section's button, or leaving the page,
  // would throw away. The page asks first, naming what is not saved.
  function changed(form) {
    return Array.from(form.elements).some(function (field) {
      if (field.type === "hidden" || field.disabled) return false;
      if (field.tagName === "SELECT") {
        return Array.from(field.options).some(function (option) { return option.selected !== option.defaultSelected; });
      }
      if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
      return "defaultValue" in field && field.value !== field.defaultValue;
    });
  }

  function unsavedSections(except) {
    return Array.from(document.querySelectorAll("form[data-guard-unsaved]")).filter(function (form) {
      return form !== except && changed(form);
    }).map(function (form) { return form.dataset.guardUnsaved; });
  }

  document.addEventListener("submit", function (event) {
    const unsaved = unsavedSections(event.target);
    if (!unsaved.length) return;
    const question = "You changed " + unsaved.join(" and ") + " without saving. Continue, and lose those changes?";
    if (!window.confirm(question)) event.preventDefault();
  }, true);

  window.addEventListener("beforeunload", function (event) {
    if (unsavedSections(null).length && !event.defaultPrevented && !window.portalSubmitting) event.preventDefault();
  });

  document.addEventListener("submit", function (event) {
    if (!event.defaultPrevented) window.portalSubmitting = true;
  });

  // Escape on a modal dialog fires its "cancel" event first; stopping it keeps the dialog open.
  document.addEventListener("cancel", function (event) {
    const dialog = event.target;
    if (dialog instanceof HTMLDialogElement && !mayDiscard(dialog)) event.preventDefault();
  }, true);

  // Error answers (4xx/5xx) are swapped into the flash area by htmx itself (responseHandling in
  // base.html's htmx-config). An answer that did not come from the portal (a proxy's error page)
  // has no message in it: say what happened instead.
  document.addEventListener("htmx:responseError", function (event) {
    const area = document.getElementById("flash-area");
    if (!area || area.querySelector(".flash")) return;
    area.innerHTML = '<div class="flash flash-error" role="alert">The request failed (' + event.detail.xhr.status + "). Reload the page and try again.</div>";
  });

  document.addEventListener("htmx:sendError", function () {
    const area = document.getElementById("flash-area");
    if (area) area.innerHTML = '<div class="flash flash-error" role="alert">The portal could not be reached. Check the connection and try again.</div>';
  });

  // hx-disabled-elt disables the pressed button while its request runs, and the browser then
  // drops its focus. When the answer leaves the button in place (a refusal), focus returns to it.
  let pressed = null;
  document.addEventListener("htmx:beforeRequest", function () {
    pressed = document.activeElement;
  });
  document.addEventListener("htmx:afterRequest", function () {
    const element = pressed;
    pressed = null;
    setTimeout(function () {
      if (document.activeElement && document.activeElement !== document.body) return;
      if (element && element !== document.body && document.contains(element) && !element.disabled) element.focus();
    }, 0);
  });

  // A swapped answer may name where focus belongs after it (data-focus-after-swap): the button
  // the user pressed is gone, and focus must not fall back to the page's start.
  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.detail.target;
    if (!target || !target.querySelector) return;
    if (document.activeElement && document.activeElement !== document.body) return;
    const next = target.querySelector("[data-focus-after-swap]");
    if (next) next.focus();
  });

  // --- ERP Integrations: Update, Reject and the filters replace the Jobs panel, and with it the
  // button that had focus. Keyboard and screen reader users continue from the panel's heading.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.target || event.detail.target.id !== "jobs-panel") return;
    if (document.activeElement && document.activeElement !== document.body) return;
    const heading = document.getElementById("jobs-heading");
    if (heading) heading.focus();
  });
})();

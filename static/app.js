// One-click actions with Undo: marking a follow-up done, postponing it, moving an ask on.
//
// Without this script every such button is an ordinary form post that comes back to the same
// place on the page. With it, a click changes the page in place at once and offers Undo for a
// few seconds; the request is sent only when that time is up. Nothing is done and then
// reverted: an undone action never reaches the server, so it leaves no event, follow-up,
// notification or webhook behind. When the page is left or hidden while an action waits, the
// action is sent straight away (a keepalive request outlives the page), so nothing is lost.
//
// Markup: a submit button with `data-undo="message"` takes part. The nearest element with
// `data-undo-item` is hidden while the action waits (or, with `data-undo-item="dim"`, dimmed).
// After the server answers, every element with `data-region` and an id is replaced by the
// element with the same id in the page the server returned.
(function () {
  "use strict";

  var WAIT_MS = 5000;
  var SHOW_RESULT_MS = 4000;
  var pending = null;
  var hideTimer = null;

  function toast() {
    return document.getElementById("toast");
  }

  function showToast(message, kind, withUndo) {
    var box = toast();
    if (!box) return;
    clearTimeout(hideTimer);
    box.querySelector(".toast-message").textContent = message;
    box.className = "toast toast-" + kind;
    var undo = box.querySelector(".toast-undo");
    undo.hidden = !withUndo;
    box.hidden = false;
    if (!withUndo) {
      hideTimer = setTimeout(function () { box.hidden = true; }, SHOW_RESULT_MS);
    }
  }

  function restore(action) {
    if (action.item) {
      action.item.hidden = false;
      action.item.classList.remove("is-pending");
    }
  }

  function swapRegions(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var regions = document.querySelectorAll("[data-region][id]");
    var swapped = 0;
    for (var i = 0; i < regions.length; i++) {
      var fresh = doc.getElementById(regions[i].id);
      if (fresh) {
        regions[i].replaceWith(document.importNode(fresh, true));
        swapped++;
      }
    }
    // An action still waiting keeps its item hidden in the new copy.
    if (pending && pending.item && pending.item.id) {
      var again = document.getElementById(pending.item.id);
      if (again && again !== pending.item) {
        pending.item = again;
        hide(again);
      }
    }
    var flash = doc.querySelector("main .flash");
    var kind = "success";
    if (flash && flash.classList.contains("flash-error")) kind = "error";
    else if (flash && flash.classList.contains("flash-info")) kind = "info";
    return { swapped: swapped, flash: flash ? { message: flash.textContent.trim(), kind: kind } : null };
  }

  function hide(item) {
    if (item.getAttribute("data-undo-item") === "dim") item.classList.add("is-pending");
    else item.hidden = true;
  }

  function send(action, leaving) {
    clearTimeout(action.timer);
    if (pending === action) pending = null;
    var request = fetch(action.url, {
      method: "POST",
      body: action.body,
      credentials: "same-origin",
      keepalive: leaving,
      headers: { "X-Requested-With": "fetch" }
    });
    if (leaving) return;
    request
      .then(function (response) {
        return response.text().then(function (html) {
          if (response.status >= 500) throw new Error("status " + response.status);
          // A page without the regions (the sign-in page after a lost session, an error
          // page) means the action was not applied.
          var result = swapRegions(html);
          if (result.swapped === 0) throw new Error("status " + response.status);
          var flash = result.flash;
          var message = flash ? flash.message : action.message;
          showToast(message, flash ? flash.kind : "success", false);
          var active = document.activeElement;
          if (!active || active === document.body || !document.contains(active)) {
            var region = document.querySelector("[data-region][id]");
            if (region) {
              region.setAttribute("tabindex", "-1");
              region.focus({ preventScroll: true });
            }
          }
        });
      })
      .catch(function () {
        restore(action);
        showToast("Not saved: " + action.message + " Check your connection and try again.", "error", false);
      });
  }

  function flush(leaving) {
    if (pending) send(pending, leaving);
  }

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || !button.hasAttribute("data-undo") || !toast()) return;
    var form = event.target;
    if (!form.checkValidity()) return;
    event.preventDefault();
    flush(false);
    var item = form.closest("[data-undo-item]");
    var action = {
      url: form.action.split("#")[0],
      body: new URLSearchParams(new FormData(form, button)),
      message: button.getAttribute("data-undo"),
      item: item,
      button: button,
      timer: null
    };
    if (item) hide(item);
    pending = action;
    action.timer = setTimeout(function () { send(action, false); }, WAIT_MS);
    showToast(action.message, "pending", true);
    toast().querySelector(".toast-undo").focus({ preventScroll: true });
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("#toast .toast-undo") || !pending) return;
    var action = pending;
    pending = null;
    clearTimeout(action.timer);
    restore(action);
    showToast("Undone: " + action.message, "info", false);
    if (document.contains(action.button)) action.button.focus();
  });

  // Leaving or hiding the page sends what waits rather than dropping it.
  window.addEventListener("pagehide", function () { flush(true); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush(true);
  });
})();

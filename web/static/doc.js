/* 环保咨询助手 — scroll the cited article of /doc/<id> into view and focus it for screen readers. */
(function () {
  "use strict";

  function target() {
    var hl = document.querySelector(".passage.hl");
    if (hl) {
      return hl;
    }
    var anchor = document.body.getAttribute("data-highlight") || "";
    if (!anchor && window.location.hash.length > 1) {
      try {
        anchor = decodeURIComponent(window.location.hash.slice(1));
      } catch (e) {
        anchor = window.location.hash.slice(1);
      }
    }
    if (!anchor) {
      return null;
    }
    var node = document.getElementById(anchor);
    if (node && node.classList.contains("passage")) {
      node.classList.add("hl");
      return node;
    }
    return null;
  }

  function show() {
    var node = target();
    if (!node) {
      return;
    }
    if (!node.hasAttribute("tabindex")) {
      node.setAttribute("tabindex", "-1");
    }
    var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    try {
      node.scrollIntoView({ block: "center", behavior: reduce ? "auto" : "smooth" });
    } catch (e) {
      node.scrollIntoView();
    }
    try {
      node.focus({ preventScroll: true });
    } catch (e) {
      /* ignore */
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", show);
  } else {
    show();
  }
})();

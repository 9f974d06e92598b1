/*
 * 环保咨询助手 — chat client: the suggested questions (GET /suggestions) shown under the greeting of an empty chat.
 */

import { api } from "./api.js";
import { el } from "./dom.js";
import { log } from "./view.js";

var suggestionsEl = null;

export function showSuggestions(onAsk) {
  removeSuggestions();
  var box = el("div", { className: "suggestions", "data-testid": "suggestions" });
  suggestionsEl = box;
  api("GET", "/suggestions").then(function (res) {
    if (suggestionsEl !== box) {
      return;
    }
    var qs = Array.isArray(res.questions) ? res.questions.filter(function (q) {
      return typeof q === "string" && q.trim();
    }).slice(0, 4) : [];
    if (!qs.length) {
      box.remove();
      return;
    }
    box.appendChild(el("p", { className: "section-title", text: "您可以这样问：" }));
    var chips = el("div", { className: "chips" });
    qs.forEach(function (q) {
      var chip = el("button", { type: "button", className: "chip", "data-testid": "suggestion-chip", text: q });
      chip.addEventListener("click", function () {
        onAsk(q);
      });
      chips.appendChild(chip);
    });
    box.appendChild(chips);
    log.appendChild(box);
  }, function () {
    /* suggestions are optional */
  });
}

export function removeSuggestions() {
  if (suggestionsEl) {
    suggestionsEl.remove();
    suggestionsEl = null;
  }
}

/** The log was emptied (with the suggestions in it): forget them without removing anything. */
export function forgetSuggestions() {
  suggestionsEl = null;
}

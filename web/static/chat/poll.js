/*
 * 环保咨询助手 — chat client: staff answers to handed-off questions. When the page opens or is shown again (at most
 * once a minute) each handed-off entry of the history is looked up (GET /questions/<token>); an answer is shown under
 * its question and kept in the history.
 */

import { api } from "./api.js";
import { str } from "./dom.js";
import { staffMessage } from "./render.js";
import { history, saveHistory } from "./store.js";
import { appendMessage, entryNodes, scrollToBottom } from "./view.js";

function staffToken(entry) {
  var token = entry.handoff_token || entry.token;
  return typeof token === "string" && token ? token : "";
}

/** A handed-off question (转人工, 没帮助 passed to staff, or not answered) still waiting for the staff answer. */
export function awaitsStaff(entry) {
  return entry.role === "bot" && !!entry.handoff && !entry.staff_answer && !entry.handoff_gone && !!staffToken(entry);
}

function pollStaffAnswers() {
  history.forEach(function (entry) {
    if (!awaitsStaff(entry)) {
      return;
    }
    var token = staffToken(entry);
    api("GET", "/questions/" + encodeURIComponent(token)).then(function (res) {
      if (res.status === "answered" && res.answer && typeof res.answer.text === "string" && res.answer.text) {
        entry.staff_answer = { text: res.answer.text, answered_at: str(res.answer.answered_at) };
        saveHistory();
        var node = entryNodes.get(entry);
        var staff = staffMessage(entry.staff_answer);
        appendMessage(staff, node || null);
        if (!node) {
          scrollToBottom();
        }
      }
    }, function (e) {
      if (e.status === 404 || e.status === 410) {
        entry.handoff_gone = true;
        saveHistory();
      }
    });
  });
}

var lastPoll = 0;
export function maybePoll() {
  var now = Date.now();
  if (now - lastPoll < 60000) {
    return;
  }
  lastPoll = now;
  pollStaffAnswers();
}

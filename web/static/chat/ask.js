/*
 * 环保咨询助手 — chat client: asking a question (POST /ask): the question and its answer go into the log and the
 * history; a failed request shows the error and leaves the question out of the stored history.
 */

import { api, NET_MSG } from "./api.js";
import { CHANNEL, MAX_CHARS } from "./config.js";
import { str } from "./dom.js";
import { renderBot, simpleBotMessage, userMessage } from "./render.js";
import { history, saveHistory, sessionId } from "./store.js";
import { removeSuggestions } from "./suggestions.js";
import { isSubscriptionCommand, runSubscriptionCommand } from "./updates.js";
import { appendMessage, entryNodes, loading, log, scrollToBottom, scrollToMessage, sendBtn } from "./view.js";

var busy = false;
var SESSION = null;

/** Reads (or makes) the session id sent with every question; called once at start-up. */
export function startSession() {
  SESSION = sessionId();
}

/** The conversation's session id (after startSession). */
export function currentSession() {
  return SESSION;
}

export function isBusy() {
  return busy;
}

function setBusy(on) {
  busy = on;
  sendBtn.disabled = on;
  log.setAttribute("aria-busy", on ? "true" : "false");
  if (loading) {
    loading.hidden = !on;
    loading.setAttribute("aria-busy", on ? "true" : "false");
  }
  if (on) {
    scrollToBottom();
  }
}

function summaryText(a) {
  if (a.curated && a.curated.question) {
    return "■ " + str(a.curated.question);
  }
  if (a.notice) {
    return str(a.notice);
  }
  if (Array.isArray(a.citations) && a.citations.length) {
    return a.citations.map(function (c) {
      return str(c && c.label);
    }).join("；");
  }
  return "";
}

/** The id of the answer whose 您是不是想问 was tapped, as the API takes it (a positive integer), else null. */
function suggestionOf(extra) {
  var id = extra && typeof extra === "object" ? extra.suggestion_of : null;
  if (typeof id === "string" && /^[1-9][0-9]{0,15}$/.test(id)) {
    id = Number(id);
  }
  return typeof id === "number" && id > 0 && Math.floor(id) === id ? id : null;
}

/** Asks ``question``; ``extra.suggestion_of`` = the question_id of the answer that offered it as 您是不是想问;
 * ``extra.standalone`` = true: answered on its own, without the conversation (单独提问). */
export function ask(question, extra) {
  var q = str(question).trim();
  if (!q || busy) {
    return;
  }
  if (q.length > MAX_CHARS) {
    q = q.slice(0, MAX_CHARS);
  }
  if (isSubscriptionCommand(q)) {  // 订阅 危废 / 退订: a command, not a question
    runSubscriptionCommand(q, SESSION);
    return;
  }
  removeSuggestions();
  var userEntry = { role: "user", text: q, ts: Date.now() };
  history.push(userEntry);
  saveHistory();
  appendMessage(userMessage(q, userEntry.ts));
  scrollToBottom();
  setBusy(true);
  var payload = { question: q, session: SESSION, channel: CHANNEL };
  var of = suggestionOf(extra);
  if (of !== null) {
    payload.suggestion_of = of;
  }
  if (extra && typeof extra === "object" && extra.standalone === true) {  // 单独提问: without the conversation
    payload.standalone = true;
  }
  api("POST", "/ask", payload).then(function (res) {
    var entry = {
      role: "bot",
      text: summaryText(res),
      answer: res,
      question: q,
      question_id: typeof res.question_id === "number" || typeof res.question_id === "string" ? res.question_id : null,
      token: typeof res.token === "string" ? res.token : null,
      handoff: res.decision === "abstain" || !!(res.meta && res.meta.queued === true),
      ts: Date.now()
    };
    history.push(entry);
    saveHistory();
    var node = renderBot(entry, ask);
    entryNodes.set(entry, node);
    setBusy(false);
    appendMessage(node);
    scrollToMessage(node);
  }, function (err) {
    setBusy(false);
    // An unanswered question is not kept in the stored history (it would reappear without its answer).
    var at = history.indexOf(userEntry);
    if (at >= 0) {
      history.splice(at, 1);
      saveHistory();
    }
    var node = simpleBotMessage(err.message || NET_MSG, "msg-error");
    node.setAttribute("data-error-code", str(err.code));
    appendMessage(node);
    scrollToBottom();
  });
}

/*
 * 环保咨询助手 — chat client for /chat (full page) and /widget/frame (embedded in the widget iframe): the entry
 * module (loaded by chat.html with <script type="module">), which wires the composer, the clear button, the messages
 * from / to widget.js, the first render, the question from the URL and the staff-answer polling.
 *
 * Security rules followed throughout: every server or user string is inserted with textContent / setAttribute;
 * the only HTML ever inserted is curated.answer_html, and only after a client-side allowlist pass (sanitize.js).
 *
 * Modules: config (page settings, brand colour), store (history, session), dom (helpers), sanitize (allowlist),
 * highlight (<mark> in snippets), api (requests, errors), view (page elements, the log), render (messages and
 * answers), feedback (answer actions), handoff + contact (转人工 form and its server rules), poll (staff answers),
 * suggestions, ask, confirm (the dialog before clearing a history with questions awaiting staff), updates (政策速递:
 * 订阅/退订 commands, notices sent to this conversation).
 */

import { EMBEDDED, GREETING, MAX_CHARS } from "./config.js";
import { ask, currentSession, isBusy, startSession } from "./ask.js";
import { confirmDialog } from "./confirm.js";
import { str } from "./dom.js";
import { awaitsStaff, maybePoll } from "./poll.js";
import { renderBot, simpleBotMessage, staffMessage, userMessage } from "./render.js";
import { clearHistory, history } from "./store.js";
import { forgetSuggestions, showSuggestions } from "./suggestions.js";
import { showNotices } from "./updates.js";
import { clearBtn, counter, entryNodes, form, input, log, resetEntryNodes, scrollToBottom, sendBtn } from "./view.js";

// ------------------------------------------------------------------ composer

function updateCounter() {
  var n = input.value.length;
  if (counter) {
    counter.textContent = n + "/" + MAX_CHARS;
    counter.classList.toggle("over", n >= MAX_CHARS);
  }
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight + 2, 140) + "px";
}

function submitInput() {
  var q = input.value.trim();
  if (!q || isBusy()) {
    if (!q) {
      input.focus();
    }
    return;
  }
  input.value = "";
  updateCounter();
  ask(q);
  input.focus();
}

// ------------------------------------------------------------------ the log, from the history

function renderAll() {
  while (log.firstChild) {
    log.removeChild(log.firstChild);
  }
  forgetSuggestions();
  log.appendChild(simpleBotMessage(GREETING, "msg-greeting"));
  history.forEach(function (entry) {
    if (entry.role === "user") {
      log.appendChild(userMessage(str(entry.text), entry.ts));
    } else if (entry.role === "bot") {
      var node = renderBot(entry, ask);
      entryNodes.set(entry, node);
      log.appendChild(node);
      if (entry.staff_answer && entry.staff_answer.text) {
        log.appendChild(staffMessage(entry.staff_answer));
      }
    }
  });
  if (!history.length) {
    showSuggestions(ask);
  }
  scrollToBottom();
}

function start() {
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    submitInput();
  });

  input.addEventListener("keydown", function (ev) {
    // Enter sends; Shift+Enter inserts a newline; never send while an IME (拼音输入法) is composing.
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      submitInput();
    }
  });
  input.addEventListener("input", updateCounter);

  if (clearBtn) {
    clearBtn.addEventListener("click", function () {
      // the tokens of handed-off questions live only in this history: clearing it loses the staff answers
      var waiting = history.filter(awaitsStaff).length;
      var go = waiting ? confirmDialog("清空对话记录？",
        "您有 " + waiting + " 个问题已转人工，正在等待工作人员答复。清空记录后，本页面将无法再显示这些答复。",
        "仍然清空") : Promise.resolve(true);
      go.then(function (yes) {
        if (!yes) {
          clearBtn.focus();
          return;
        }
        clearHistory();
        resetEntryNodes();
        renderAll();
        input.focus();
      });
    });
  }

  // ---------------------------------------------------------------- embedding (messages from / to widget.js)

  if (EMBEDDED) {
    document.addEventListener("keydown", function (ev) {
      if ((ev.key === "Escape" || ev.key === "Esc") && !ev.defaultPrevented) {
        try {
          window.parent.postMessage({ type: "zsenv-close" }, "*");
        } catch (e) {
          /* ignore */
        }
      }
    });
    window.addEventListener("message", function (ev) {
      if (ev.source !== window.parent) {
        return;
      }
      var d = ev.data;
      if (d && typeof d === "object" && d.type === "zsenv-focus") {
        input.focus();
      }
    });
  }

  // ---------------------------------------------------------------- initial render

  startSession();
  renderAll();
  updateCounter();
  maybePoll();
  showNotices(currentSession());
  // Links from WeChat replies (/chat?q=…) open the chat with that question asked once.
  (function askFromUrl() {
    var q = "";
    try {
      q = (new URLSearchParams(window.location.search).get("q") || "").trim().slice(0, 2000);
    } catch (e) {
      q = "";
    }
    var key = "zsenv-asked-" + q;
    var already = false;
    try {
      already = window.sessionStorage.getItem(key) === "1";
      window.sessionStorage.setItem(key, "1");
    } catch (e) {
      already = false;
    }
    if (q && !EMBEDDED && !already) {
      ask(q);
    }
  })();
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      maybePoll();
    }
  });
  // Focus the input on desktop (not on phones, where it would pop up the keyboard over the greeting).
  var wide = !window.matchMedia || window.matchMedia("(min-width: 481px)").matches;
  if (wide && (!EMBEDDED || document.hasFocus())) {
    input.focus({ preventScroll: true });
  }
}

if (log && form && input && sendBtn) {
  start();
}

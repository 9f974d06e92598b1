/*
 * 环保咨询助手 — chat client: the page's elements (from chat.html) and the message log (appending, scrolling, and
 * which message node shows which history entry).
 */

export var log = document.getElementById("messages");
export var form = document.getElementById("composer");
export var input = document.getElementById("chat-input");
export var sendBtn = document.getElementById("chat-send");
export var counter = document.getElementById("chat-counter");
export var loading = document.getElementById("chat-loading");
export var clearBtn = document.getElementById("chat-clear");

/** history entry -> its bot message node (a live binding: resetEntryNodes replaces it when the log is cleared) */
export var entryNodes = new Map();

export function resetEntryNodes() {
  entryNodes = new Map();
}

export function scrollToBottom() {
  log.scrollTop = log.scrollHeight;
}

/**
 * Shows the START of a (possibly long) new answer: its top goes to the top of the log (the browser stops at the
 * end of the log, so a short answer simply ends up fully visible at the bottom). The log was at its bottom while
 * the answer loaded, so without this only the answer's first line would peek in under the question.
 */
export function scrollToMessage(node) {
  var logBox = log.getBoundingClientRect();
  var top = log.scrollTop + (node.getBoundingClientRect().top - logBox.top) - 8;
  log.scrollTop = Math.max(0, top);
}

export function appendMessage(node, after) {
  if (after && after.parentNode === log) {
    log.insertBefore(node, after.nextSibling);
  } else {
    log.appendChild(node);
  }
  return node;
}

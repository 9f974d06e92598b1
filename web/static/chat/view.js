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

export function scrollToMessage(node) {
  // Show the start of a (possibly long) answer rather than its end.
  var top = node.offsetTop - 8;
  if (top < log.scrollTop || top > log.scrollTop + log.clientHeight - 40) {
    log.scrollTop = Math.max(0, top);
  }
}

export function appendMessage(node, after) {
  if (after && after.parentNode === log) {
    log.insertBefore(node, after.nextSibling);
  } else {
    log.appendChild(node);
  }
  return node;
}

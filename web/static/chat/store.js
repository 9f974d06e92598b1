/*
 * 环保咨询助手 — chat client: the local store (the conversation history and the session id, kept in localStorage,
 * or in memory where localStorage is blocked, e.g. in some third-party iframes).
 */

var HISTORY_KEY = "zsenv-history-v1";
var SESSION_KEY = "zsenv-session";
var MAX_HISTORY = 50;

var memoryStore = {};
var storage = (function () {
  try {
    var ls = window.localStorage;
    var probe = "zsenv-probe";
    ls.setItem(probe, "1");
    ls.removeItem(probe);
    return ls;
  } catch (e) {
    return null;
  }
})();

function storeGet(key) {
  try {
    return storage ? storage.getItem(key) : (key in memoryStore ? memoryStore[key] : null);
  } catch (e) {
    return null;
  }
}

function storeSet(key, value) {
  try {
    if (storage) {
      storage.setItem(key, value);
    } else {
      memoryStore[key] = value;
    }
  } catch (e) {
    memoryStore[key] = value;
  }
}

function storeRemove(key) {
  try {
    if (storage) {
      storage.removeItem(key);
    }
  } catch (e) {
    /* ignore */
  }
  delete memoryStore[key];
}

function randomId() {
  var bytes = new Uint8Array(16);
  if (window.crypto && window.crypto.getRandomValues) {
    window.crypto.getRandomValues(bytes);
  } else {
    for (var i = 0; i < bytes.length; i++) {
      bytes[i] = Math.floor(Math.random() * 256);
    }
  }
  return Array.prototype.map.call(bytes, function (x) {
    return ("0" + x.toString(16)).slice(-2);
  }).join("");
}

export function sessionId() {
  var s = storeGet(SESSION_KEY);
  if (!s || !/^[A-Za-z0-9_-]{8,100}$/.test(s)) {
    s = randomId();
    storeSet(SESSION_KEY, s);
  }
  return s;
}
function loadHistory() {
  var raw = storeGet(HISTORY_KEY);
  if (!raw) {
    return [];
  }
  try {
    var list = JSON.parse(raw);
    if (!Array.isArray(list)) {
      return [];
    }
    return list.filter(function (e) {
      return e && typeof e === "object" && (e.role === "user" || e.role === "bot");
    }).slice(-MAX_HISTORY);
  } catch (e) {
    return [];
  }
}

/** The conversation: user and bot entries, oldest first (a live binding: saveHistory and clearHistory replace it). */
export var history = loadHistory();

export function saveHistory() {
  if (history.length > MAX_HISTORY) {
    history = history.slice(-MAX_HISTORY);
  }
  var data = JSON.stringify(history);
  try {
    storeSet(HISTORY_KEY, data);
  } catch (e) {
    /* quota: drop the oldest half and retry once */
    history = history.slice(-Math.floor(MAX_HISTORY / 2));
    storeSet(HISTORY_KEY, JSON.stringify(history));
  }
}

export function clearHistory() {
  history = [];
  storeRemove(HISTORY_KEY);
}

var NOTICES_KEY = "zsenv-notices-seen";

/** The ids of the 政策速递 notices already shown in this browser. */
export function seenNotices() {
  var raw = storeGet(NOTICES_KEY);
  var list = [];
  try {
    list = JSON.parse(raw || "[]");
  } catch (e) {
    list = [];
  }
  return Array.isArray(list) ? list.filter(function (x) { return typeof x === "number"; }) : [];
}

export function markNoticesSeen(ids) {
  var all = seenNotices().concat(ids).slice(-200);
  storeSet(NOTICES_KEY, JSON.stringify(all));
}

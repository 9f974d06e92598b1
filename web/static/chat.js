/*
 * 环保咨询助手 — chat client for /chat (full page) and /widget/frame (embedded in the widget iframe).
 *
 * Security rules followed throughout: every server or user string is inserted with textContent / setAttribute;
 * the only HTML ever inserted is curated.answer_html, and only after a client-side allowlist pass (sanitizeInto).
 */
(function () {
  "use strict";

  // ------------------------------------------------------------------ configuration

  var body = document.body;
  var DEFAULT_GREETING = "您好！我是舟山市生态环境局环保咨询助手，可以咨询环评、排污许可、危废、环保税等问题。";
  var COLOR_RE = /^#[0-9a-fA-F]{6}$/;
  var HISTORY_KEY = "zsenv-history-v1";
  var SESSION_KEY = "zsenv-session";
  var MAX_HISTORY = 50;
  var MAX_CHARS = 2000;
  var REQUEST_TIMEOUT_MS = 30000;
  var NET_MSG = "网络异常，请稍后重试";
  var SAFE_URL_RE = /^(https?:\/\/|\/(?![\/\\]))/i;

  function apiBase() {
    var a = (body.getAttribute("data-api") || "/api/v1").trim();
    // Same-origin API only: a path starting with a single "/".
    if (!/^\/(?![\/\\])/.test(a)) {
      a = "/api/v1";
    }
    return a.replace(/\/+$/, "");
  }

  var API = apiBase();
  var GREETING = (body.getAttribute("data-greeting") || "").trim() || DEFAULT_GREETING;
  var EMBEDDED = body.getAttribute("data-embedded") === "true";
  var CHANNEL = EMBEDDED ? "widget" : "chat";

  function applyColor(color) {
    if (!COLOR_RE.test(color || "")) {
      return;
    }
    var root = document.documentElement.style;
    root.setProperty("--brand", color);
    // Keep text readable on light brand colours (WCAG contrast against white text / white background).
    var r = parseInt(color.substr(1, 2), 16) / 255;
    var g = parseInt(color.substr(3, 2), 16) / 255;
    var b = parseInt(color.substr(5, 2), 16) / 255;
    var lin = function (c) {
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    var lum = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    var contrastWhite = 1.05 / (lum + 0.05);
    if (contrastWhite < 4.5) {
      root.setProperty("--brand-contrast", "#1f2328");
      root.setProperty("--brand-ink", "#1f2328");
    } else {
      root.setProperty("--brand-contrast", "#ffffff");
      root.setProperty("--brand-ink", color);
    }
  }
  applyColor(body.getAttribute("data-color"));

  // ------------------------------------------------------------------ storage (localStorage may be blocked in iframes)

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

  function sessionId() {
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

  var history = loadHistory();

  function saveHistory() {
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

  // ------------------------------------------------------------------ small DOM helpers (no innerHTML anywhere)

  function el(tag, opts, children) {
    var node = document.createElement(tag);
    if (opts) {
      Object.keys(opts).forEach(function (k) {
        var v = opts[k];
        if (v === undefined || v === null || v === false) {
          return;
        }
        if (k === "text") {
          node.textContent = String(v);
        } else if (k === "className") {
          node.className = v;
        } else if (k === "hidden") {
          node.hidden = true;
        } else {
          node.setAttribute(k, v === true ? "" : String(v));
        }
      });
    }
    if (children) {
      children.forEach(function (c) {
        if (c === null || c === undefined || c === false) {
          return;
        }
        node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
      });
    }
    return node;
  }

  function str(v) {
    return typeof v === "string" ? v : (v === null || v === undefined ? "" : String(v));
  }

  var uid = 0;
  function nextId(prefix) {
    uid += 1;
    return prefix + "-" + uid;
  }

  // ------------------------------------------------------------------ sanitiser for curated.answer_html

  var ALLOWED_TAGS = { P: 1, BR: 1, B: 1, STRONG: 1, EM: 1, UL: 1, OL: 1, LI: 1, A: 1 };
  // Elements whose content is dropped entirely (not unwrapped).
  var DROP_TAGS = {
    SCRIPT: 1, STYLE: 1, TEMPLATE: 1, IFRAME: 1, FRAME: 1, FRAMESET: 1, OBJECT: 1, EMBED: 1, NOSCRIPT: 1,
    TEXTAREA: 1, TITLE: 1, HEAD: 1, SVG: 1, MATH: 1, SELECT: 1, OPTION: 1, BUTTON: 1, INPUT: 1, FORM: 1,
    META: 1, LINK: 1, BASE: 1, IMG: 1, VIDEO: 1, AUDIO: 1, SOURCE: 1, CANVAS: 1, XMP: 1, PLAINTEXT: 1, NOEMBED: 1,
    NOFRAMES: 1, APPLET: 1
  };

  function safeHref(href) {
    var h = str(href).trim();
    // reject control characters / whitespace inside the URL
    if (!h || /[\u0000-\u001f\u007f\s]/.test(h)) {
      return null;
    }
    return SAFE_URL_RE.test(h) ? h : null;
  }

  function copySafe(src, dst, depth) {
    if (depth > 30) {
      return;
    }
    var nodes = Array.prototype.slice.call(src.childNodes);
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i];
      if (n.nodeType === 3) {
        dst.appendChild(document.createTextNode(n.nodeValue));
      } else if (n.nodeType === 1) {
        var tag = String(n.nodeName).toUpperCase();
        if (ALLOWED_TAGS[tag] === 1) {
          var out = document.createElement(tag.toLowerCase());
          if (tag === "A") {
            var href = safeHref(n.getAttribute("href"));
            if (href) {
              out.setAttribute("href", href);
              out.setAttribute("rel", "noopener noreferrer");
              out.setAttribute("target", "_blank");
            }
          }
          copySafe(n, out, depth + 1);
          dst.appendChild(out);
        } else if (DROP_TAGS[tag] !== 1) {
          // unknown but harmless container (div, span, table…): keep its text, drop the element itself
          copySafe(n, dst, depth + 1);
        }
      }
      // comments, processing instructions, etc. are dropped
    }
  }

  function sanitizeInto(target, html) {
    var doc;
    try {
      // DOMParser documents are inert: no script runs, no image loads.
      doc = new DOMParser().parseFromString("<!doctype html><html><body>" + str(html) + "</body></html>", "text/html");
    } catch (e) {
      target.textContent = str(html).replace(/<[^>]*>/g, "");
      return;
    }
    copySafe(doc.body, target, 0);
  }

  // ------------------------------------------------------------------ highlighting (text split, no HTML)

  function normChar(ch) {
    var n = ch;
    try {
      n = ch.normalize("NFKC");
    } catch (e) {
      n = ch;
    }
    return n.toLowerCase();
  }

  /** Append `text` to `parent`, wrapping occurrences of `terms` in <mark>. Matching is on an NFKC + lowercase
   *  version of the text (the server's highlights are normalised), mapped back to the original characters. */
  function appendHighlighted(parent, text, terms) {
    text = str(text);
    var list = (Array.isArray(terms) ? terms : []).map(str).map(function (t) {
      return normChar(t).trim();
    }).filter(function (t) {
      return t.length > 0;
    });
    if (!list.length || !text) {
      parent.appendChild(document.createTextNode(text));
      return;
    }
    var norm = "";
    var map = []; // index in norm -> [start, end) in text
    var pos = 0;
    var chars = Array.from(text);
    for (var i = 0; i < chars.length; i++) {
      var ch = chars[i];
      var nc = normChar(ch);
      var end = pos + ch.length;
      if (/\s/.test(nc)) {
        nc = " ";
        if (norm.length && norm.charAt(norm.length - 1) === " ") {
          pos = end;
          continue;
        }
      }
      for (var k = 0; k < nc.length; k++) {
        norm += nc.charAt(k);
        map.push([pos, end]);
      }
      pos = end;
    }
    var ranges = [];
    list.sort(function (a, b) {
      return b.length - a.length;
    }).forEach(function (t) {
      var from = 0;
      var guard = 0;
      while (guard++ < 200) {
        var idx = norm.indexOf(t, from);
        if (idx < 0) {
          break;
        }
        ranges.push([map[idx][0], map[idx + t.length - 1][1]]);
        from = idx + t.length;
      }
    });
    if (!ranges.length) {
      parent.appendChild(document.createTextNode(text));
      return;
    }
    ranges.sort(function (a, b) {
      return a[0] - b[0] || b[1] - a[1];
    });
    var merged = [];
    ranges.forEach(function (r) {
      var last = merged[merged.length - 1];
      if (last && r[0] < last[1]) {
        last[1] = Math.max(last[1], r[1]);
      } else {
        merged.push([r[0], r[1]]);
      }
    });
    var cursor = 0;
    merged.forEach(function (r) {
      if (r[0] > cursor) {
        parent.appendChild(document.createTextNode(text.slice(cursor, r[0])));
      }
      parent.appendChild(el("mark", { text: text.slice(r[0], r[1]) }));
      cursor = r[1];
    });
    if (cursor < text.length) {
      parent.appendChild(document.createTextNode(text.slice(cursor)));
    }
  }

  // ------------------------------------------------------------------ API

  function ApiError(code, message, status) {
    this.code = code;
    this.message = message;
    this.status = status || 0;
  }

  function api(method, path, payload) {
    var ctrl = typeof AbortController === "function" ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () {
      ctrl.abort();
    }, REQUEST_TIMEOUT_MS) : null;
    var init = {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      cache: "no-store"
    };
    if (payload !== undefined) {
      init.body = JSON.stringify(payload);
    }
    if (ctrl) {
      init.signal = ctrl.signal;
    }
    return fetch(API + path, init).then(function (res) {
      return res.text().then(function (txt) {
        var data = null;
        try {
          data = txt ? JSON.parse(txt) : null;
        } catch (e) {
          data = null;
        }
        if (!res.ok) {
          var msg = data && typeof data.message === "string" && data.message ? data.message
            : "服务暂时不可用（" + res.status + "），请稍后重试";
          throw new ApiError(data && typeof data.error_code === "string" ? data.error_code : "http_" + res.status,
            msg, res.status);
        }
        if (!data || typeof data !== "object") {
          throw new ApiError("bad_response", "服务返回内容异常，请稍后重试", res.status);
        }
        return data;
      });
    }, function () {
      throw new ApiError("network", NET_MSG, 0);
    }).then(function (data) {
      if (timer) {
        clearTimeout(timer);
      }
      return data;
    }, function (err) {
      if (timer) {
        clearTimeout(timer);
      }
      if (err instanceof ApiError) {
        throw err;
      }
      throw new ApiError("network", NET_MSG, 0);
    });
  }

  // ------------------------------------------------------------------ page elements

  var log = document.getElementById("messages");
  var form = document.getElementById("composer");
  var input = document.getElementById("chat-input");
  var sendBtn = document.getElementById("chat-send");
  var counter = document.getElementById("chat-counter");
  var loading = document.getElementById("chat-loading");
  var clearBtn = document.getElementById("chat-clear");

  if (!log || !form || !input || !sendBtn) {
    return;
  }

  var busy = false;
  var suggestionsEl = null;

  function scrollToBottom() {
    log.scrollTop = log.scrollHeight;
  }

  function scrollToMessage(node) {
    // Show the start of a (possibly long) answer rather than its end.
    var top = node.offsetTop - 8;
    if (top < log.scrollTop || top > log.scrollTop + log.clientHeight - 40) {
      log.scrollTop = Math.max(0, top);
    }
  }

  function appendMessage(node, after) {
    if (after && after.parentNode === log) {
      log.insertBefore(node, after.nextSibling);
    } else {
      log.appendChild(node);
    }
    return node;
  }

  function formatTime(ts) {
    if (!ts) {
      return "";
    }
    var d = new Date(ts);
    if (isNaN(d.getTime())) {
      return "";
    }
    var pad = function (n) {
      return (n < 10 ? "0" : "") + n;
    };
    var today = new Date();
    var hm = pad(d.getHours()) + ":" + pad(d.getMinutes());
    if (d.toDateString() === today.toDateString()) {
      return hm;
    }
    return (d.getMonth() + 1) + "月" + d.getDate() + "日 " + hm;
  }

  function userMessage(text, ts) {
    var time = formatTime(ts);
    return el("div", { className: "msg msg-user", "data-testid": "user-message" }, [
      el("div", { className: "bubble" }, [
        el("span", { className: "visually-hidden", text: "我：" }),
        el("p", { className: "msg-text", text: text }),
        time ? el("span", { className: "msg-meta", text: time }) : null
      ])
    ]);
  }

  function simpleBotMessage(text, extraClass) {
    return el("div", { className: "msg msg-bot msg-simple" + (extraClass ? " " + extraClass : ""), "data-testid": "bot-message" }, [
      el("div", { className: "bubble" }, [
        el("span", { className: "visually-hidden", text: "助手：" }),
        el("p", { className: "msg-text", text: text })
      ])
    ]);
  }

  function staffMessage(staff) {
    var time = str(staff.answered_at);
    var shown = formatTime(time) || time;
    return el("div", { className: "msg msg-bot msg-simple msg-staff", "data-testid": "bot-message", "data-kind": "staff" }, [
      el("div", { className: "bubble" }, [
        el("p", { className: "msg-text" }, [
          el("span", { className: "staff-label", text: "工作人员答复：" }),
          str(staff.text)
        ]),
        shown ? el("span", { className: "msg-meta", text: "答复时间：" + shown }) : null
      ])
    ]);
  }

  // ------------------------------------------------------------------ status badges

  function statusClass(status) {
    if (status === "现行有效") {
      return "badge-ok";
    }
    if (/废止|失效/.test(status)) {
      return "badge-bad";
    }
    if (/修改|修订|修正/.test(status)) {
      return "badge-warn";
    }
    return "badge-other";
  }

  function statusBadge(status) {
    status = str(status).trim();
    if (!status) {
      return null;
    }
    return el("span", { className: "badge " + statusClass(status), text: status });
  }

  // ------------------------------------------------------------------ bot answer rendering

  function renderCitation(c) {
    var status = str(c.status);
    var label = str(c.label) || (c.title ? "《" + str(c.title) + "》" : str(c.id));
    var repealed = /废止/.test(status);
    var details = el("details", {
      className: "citation" + (repealed ? " is-repealed" : ""),
      "data-testid": "citation-card",
      "data-citation-id": str(c.id)
    });
    var summary = el("summary", null, [el("span", { className: "citation-label", text: label }), statusBadge(status)]);
    details.appendChild(summary);
    var bodyEl = el("div", { className: "citation-body" });
    var snippet = el("p", { className: "citation-snippet" });
    appendHighlighted(snippet, str(c.snippet), c.highlights);
    bodyEl.appendChild(snippet);
    var foot = el("div");
    if (c.kind) {
      foot.appendChild(el("span", { className: "citation-kind", text: str(c.kind) }));
    }
    var url = safeHref(c.url);
    if (url) {
      foot.appendChild(el("a", {
        className: "citation-link",
        href: url,
        target: "_blank",
        rel: "noopener",
        "data-testid": "citation-link",
        text: "查看原文"
      }));
    }
    if (foot.childNodes.length) {
      bodyEl.appendChild(foot);
    }
    details.appendChild(bodyEl);
    return details;
  }

  function renderCurated(cur) {
    var box = el("div", { className: "curated", "data-testid": "curated-answer" });
    box.appendChild(el("p", { className: "curated-q" }, [
      el("span", { className: "curated-mark", "aria-hidden": "true", text: "■" }),
      str(cur.question)
    ]));
    var ans = el("div", { className: "curated-a" });
    if (typeof cur.answer_html === "string" && cur.answer_html.trim()) {
      sanitizeInto(ans, cur.answer_html);
    } else {
      ans.className += " plain";
      ans.textContent = str(cur.answer);
    }
    box.appendChild(ans);
    if (cur.lead_unit) {
      box.appendChild(el("p", { className: "curated-unit", text: "答复部门：" + str(cur.lead_unit) }));
    }
    return box;
  }

  function renderRelated(related) {
    var items = related.filter(function (r) {
      return r && typeof r.question === "string" && r.question.trim();
    });
    if (!items.length) {
      return null;
    }
    var wrap = el("div", { className: "related" }, [el("p", { className: "section-title", text: "相关问题" })]);
    var chips = el("div", { className: "chips" });
    items.forEach(function (r) {
      var chip = el("button", { type: "button", className: "chip", "data-testid": "related-chip", text: r.question });
      chip.addEventListener("click", function () {
        ask(r.question);
      });
      chips.appendChild(chip);
    });
    wrap.appendChild(chips);
    return wrap;
  }

  function renderBot(entry) {
    var a = entry.answer && typeof entry.answer === "object" ? entry.answer : {};
    var decision = str(a.decision);
    var msg = el("div", {
      className: "msg msg-bot",
      "data-testid": "bot-message",
      "data-decision": decision || null,
      "data-question-id": entry.question_id !== undefined && entry.question_id !== null ? String(entry.question_id) : null
    });
    var bubble = el("div", { className: "bubble" }, [el("span", { className: "visually-hidden", text: "助手：" })]);
    msg.appendChild(bubble);

    if (a.notice) {
      bubble.appendChild(el("p", {
        className: "notice" + (decision === "caution" ? " notice-caution" : ""),
        "data-testid": "answer-notice",
        text: str(a.notice)
      }));
    }
    if (a.curated && typeof a.curated === "object") {
      bubble.appendChild(renderCurated(a.curated));
    }
    var cites = Array.isArray(a.citations) ? a.citations.filter(function (c) {
      return c && typeof c === "object";
    }) : [];
    if (cites.length) {
      bubble.appendChild(el("p", { className: "section-title", text: a.curated ? "依据" : "相关法规条文" }));
      cites.forEach(function (c) {
        bubble.appendChild(renderCitation(c));
      });
    }
    if (!a.notice && !a.curated && !cites.length) {
      bubble.appendChild(el("p", { className: "msg-text", text: entry.text || "暂未找到相关内容。" }));
    }
    var rel = Array.isArray(a.related) ? renderRelated(a.related) : null;
    if (rel) {
      bubble.appendChild(rel);
    }
    if (a.footer) {
      bubble.appendChild(el("p", { className: "footer-note", text: str(a.footer) }));
    }
    if (entry.question_id !== undefined && entry.question_id !== null && entry.token) {
      bubble.appendChild(renderActions(entry));
    }
    return msg;
  }

  // ------------------------------------------------------------------ feedback and handoff

  function renderActions(entry) {
    var wrap = el("div", { className: "answer-actions" });
    var row = el("div", { className: "actions", role: "group", "aria-label": "回答反馈" });
    var yes = el("button", { type: "button", className: "btn", "aria-pressed": "false", "data-testid": "fb-helpful", text: "有帮助" });
    var no = el("button", { type: "button", className: "btn", "aria-pressed": "false", "data-testid": "fb-unhelpful", text: "没帮助" });
    var hand = el("button", { type: "button", className: "btn", "aria-expanded": "false", "data-testid": "handoff-open", text: "转人工留言" });
    row.appendChild(yes);
    row.appendChild(no);
    row.appendChild(hand);
    wrap.appendChild(row);

    var fbStatus = el("p", { className: "form-ok", role: "status", "data-testid": "fb-status" });
    var fbError = el("p", { className: "form-error", role: "alert" });
    var reasonBox = null;
    var handoffBox = null;

    function markFeedback(val) {
      yes.setAttribute("aria-pressed", val === true ? "true" : "false");
      no.setAttribute("aria-pressed", val === false ? "true" : "false");
    }

    function feedbackDone(helpful, queued) {
      entry.feedback = helpful;
      if (queued) {
        entry.handoff = true;
      }
      entry.feedback_queued = !!queued;
      saveHistory();
      markFeedback(helpful);
      yes.disabled = true;
      no.disabled = true;
      if (reasonBox) {
        reasonBox.remove();
        reasonBox = null;
      }
      fbStatus.textContent = queued ? "感谢反馈，已转交工作人员" : "感谢反馈";
    }

    function sendFeedback(helpful, reason, btn) {
      fbError.textContent = "";
      var payload = { question_id: entry.question_id, token: entry.token, helpful: helpful };
      if (reason) {
        payload.reason = reason;
      }
      if (btn) {
        btn.disabled = true;
      }
      return api("POST", "/feedback", payload).then(function (res) {
        feedbackDone(helpful, !!res.queued);
      }, function (err) {
        if (btn) {
          btn.disabled = false;
        }
        fbError.textContent = err.message || NET_MSG;
      });
    }

    if (entry.feedback === true || entry.feedback === false) {
      markFeedback(entry.feedback);
      yes.disabled = true;
      no.disabled = true;
      fbStatus.textContent = entry.feedback_queued ? "感谢反馈，已转交工作人员" : "感谢反馈";
    }

    yes.addEventListener("click", function () {
      if (reasonBox) {
        reasonBox.remove();
        reasonBox = null;
      }
      markFeedback(true);
      sendFeedback(true, "", yes).then(function () {
        if (entry.feedback !== true) {
          markFeedback(null);
        }
      });
    });

    no.addEventListener("click", function () {
      markFeedback(false);
      if (reasonBox) {
        reasonBox.querySelector("input").focus();
        return;
      }
      var rid = nextId("fb-reason");
      var reasonInput = el("input", { id: rid, type: "text", maxlength: "500", autocomplete: "off", "data-testid": "fb-reason",
        placeholder: "例如：没有回答我的问题、依据过时等" });
      var submit = el("button", { type: "submit", className: "btn btn-primary", "data-testid": "fb-submit", text: "提交" });
      reasonBox = el("form", { className: "fb-reason", novalidate: true }, [
        el("label", { "for": rid, text: "哪里没帮助？（选填）" }),
        el("div", { className: "row" }, [reasonInput, submit])
      ]);
      reasonBox.addEventListener("submit", function (ev) {
        ev.preventDefault();
        sendFeedback(false, reasonInput.value.trim().slice(0, 500), submit);
      });
      reasonInput.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape") {
          ev.stopPropagation();
        }
      });
      row.after(reasonBox);
      reasonInput.focus();
    });

    function showHandoffDone(message) {
      hand.disabled = true;
      hand.setAttribute("aria-expanded", "false");
      if (handoffBox) {
        handoffBox.remove();
        handoffBox = null;
      }
      var ok = el("p", { className: "form-ok", role: "status", "data-testid": "handoff-status", text: message });
      wrap.appendChild(ok);
    }

    if (entry.handoff_submitted) {
      hand.disabled = true;
      wrap.appendChild(el("p", { className: "form-ok", "data-testid": "handoff-status",
        text: "已转人工留言。您可稍后在本窗口查看答复。" }));
    }

    hand.addEventListener("click", function () {
      if (handoffBox) {
        handoffBox.remove();
        handoffBox = null;
        hand.setAttribute("aria-expanded", "false");
        return;
      }
      handoffBox = buildHandoffForm(entry, function (message) {
        showHandoffDone(message);
      }, function () {
        if (handoffBox) {
          handoffBox.remove();
          handoffBox = null;
        }
        hand.setAttribute("aria-expanded", "false");
        hand.focus();
      });
      hand.setAttribute("aria-expanded", "true");
      wrap.appendChild(handoffBox);
      handoffBox.querySelector("input").focus();
    });

    wrap.appendChild(fbError);
    wrap.appendChild(fbStatus);
    return wrap;
  }

  // The contact rules come from the server (GET /contact-rules: the patterns and the USCC check the server itself
  // applies), so the form refuses exactly what the server refuses. Until they arrive (or if they cannot be fetched)
  // the form checks nothing itself: the server still validates, and its error is shown on the right field.
  var contactRules = null;
  var contactRulesAsked = false;

  function loadContactRules() {
    if (contactRulesAsked) {
      return;
    }
    contactRulesAsked = true;
    api("GET", "/contact-rules").then(function (r) {
      try {
        contactRules = {
          mobile: new RegExp(r.mobile), landline: new RegExp(r.landline), email: new RegExp(r.email),
          emailMax: +r.email_max || 200, usccChars: String(r.uscc_chars || ""),
          usccWeights: Array.isArray(r.uscc_weights) ? r.uscc_weights : []
        };
      } catch (e) {
        contactRules = null;
      }
    }, function () {
      contactRulesAsked = false; // try again when the form is opened next time
    });
  }

  function usccValid(code) {
    var R = contactRules;
    if (!R) {
      return true;
    }
    if (code.length !== 18 || R.usccWeights.length !== 17) {
      return false;
    }
    var total = 0;
    for (var i = 0; i < 18; i++) {
      if (R.usccChars.indexOf(code.charAt(i)) < 0) {
        return false;
      }
      if (i < 17) {
        total += R.usccChars.indexOf(code.charAt(i)) * R.usccWeights[i];
      }
    }
    return R.usccChars.charAt((31 - total % 31) % 31) === code.charAt(17);
  }

  function phoneValid(phone) {
    var R = contactRules;
    return !R || R.mobile.test(phone) || R.landline.test(phone);
  }

  function emailValid(email) {
    var R = contactRules;
    return !R || (R.email.test(email) && email.length <= R.emailMax);
  }

  function field(labelText, opts, hint) {
    var id = nextId("ho");
    var attrs = { id: id, type: opts.type || "text", autocomplete: opts.autocomplete || "off" };
    Object.keys(opts).forEach(function (k) {
      if (k !== "type" && k !== "autocomplete") {
        attrs[k] = opts[k];
      }
    });
    var hintId = hint ? id + "-hint" : null;
    if (hintId) {
      attrs["aria-describedby"] = hintId;
    }
    var inputEl = el("input", attrs);
    var wrap = el("div", { className: "field" }, [
      el("label", { "for": id, text: labelText }),
      inputEl,
      hint ? el("span", { className: "hint", id: hintId, text: hint }) : null
    ]);
    return { wrap: wrap, input: inputEl };
  }

  function buildHandoffForm(entry, onDone, onCancel) {
    loadContactRules();
    var formEl = el("form", { className: "handoff", novalidate: true, "data-testid": "handoff-form", "aria-label": "转人工留言" });
    formEl.appendChild(el("p", { className: "handoff-title", text: "转人工留言" }));
    formEl.appendChild(el("p", { className: "handoff-intro",
      text: "工作人员将人工答复您的问题。联系方式均为选填，不填写也可以匿名提交。" }));
    var name = field("姓名", { name: "name", maxlength: "50", autocomplete: "name" });
    var company = field("企业名称", { name: "company", maxlength: "100", autocomplete: "organization" });
    var uscc = field("统一社会信用代码", { name: "uscc", maxlength: "18", inputmode: "text", autocapitalize: "characters",
      spellcheck: "false" }, "18 位，由数字和大写字母组成");
    var contact = field("手机或邮箱", { name: "contact", maxlength: "100", autocomplete: "tel" });
    [name, company, uscc, contact].forEach(function (f) {
      formEl.appendChild(f.wrap);
    });
    var cid = nextId("ho-consent");
    var consent = el("input", { id: cid, type: "checkbox", name: "consent", "data-testid": "handoff-consent" });
    formEl.appendChild(el("div", { className: "consent" }, [
      consent,
      el("label", { "for": cid, text: "我同意本局保存上述联系方式，仅用于答复本问题" })
    ]));
    var err = el("p", { className: "form-error", role: "alert", "data-testid": "handoff-error" });
    var submit = el("button", { type: "submit", className: "btn btn-primary", "data-testid": "handoff-submit", text: "提交" });
    var cancel = el("button", { type: "button", className: "btn", text: "取消" });
    formEl.appendChild(el("div", { className: "actions" }, [submit, cancel]));
    formEl.appendChild(err);

    cancel.addEventListener("click", onCancel);
    formEl.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") {
        ev.stopPropagation();
        onCancel();
      }
    });

    function invalid(f, on) {
      if (on) {
        f.input.setAttribute("aria-invalid", "true");
      } else {
        f.input.removeAttribute("aria-invalid");
      }
    }

    formEl.addEventListener("submit", function (ev) {
      ev.preventDefault();
      err.textContent = "";
      [name, company, uscc, contact].forEach(function (f) {
        invalid(f, false);
      });
      var vName = name.input.value.trim();
      var vCompany = company.input.value.trim();
      var vUscc = uscc.input.value.replace(/\s+/g, "").toUpperCase();
      var vContact = contact.input.value.trim();
      var any = !!(vName || vCompany || vUscc || vContact);
      if (vUscc && !usccValid(vUscc)) {
        invalid(uscc, true);
        err.textContent = "统一社会信用代码无效（应为 18 位且校验位正确），请核对。";
        uscc.input.focus();
        return;
      }
      var phone = "";
      var email = "";
      if (vContact) {
        if (vContact.indexOf("@") >= 0) {
          email = vContact;
          if (!emailValid(email)) {
            invalid(contact, true);
            err.textContent = "邮箱格式不正确，请核对。";
            contact.input.focus();
            return;
          }
        } else {
          phone = vContact.replace(/[\s()（）]/g, "");
          if (!phoneValid(phone)) {
            invalid(contact, true);
            err.textContent = "手机号码格式不正确，请填写 11 位手机号或带区号的固定电话。";
            contact.input.focus();
            return;
          }
        }
      }
      if (any && !consent.checked) {
        err.textContent = "填写联系方式时，请勾选同意本局保存上述联系方式。";
        consent.focus();
        return;
      }
      var payload = { consent: consent.checked };
      if (entry.question_id !== undefined && entry.question_id !== null) {
        payload.question_id = entry.question_id;
      }
      if (entry.token) {
        payload.token = entry.token;
      }
      if (payload.question_id === undefined && entry.question) {
        payload.question = entry.question;
      }
      if (any) {
        payload.contact = { name: vName, company: vCompany, uscc: vUscc, phone: phone, email: email };
      }
      submit.disabled = true;
      api("POST", "/handoff", payload).then(function (res) {
        entry.handoff = true;
        entry.handoff_submitted = true;
        if (res && typeof res.token === "string" && res.token) {
          entry.handoff_token = res.token;
        }
        saveHistory();
        onDone("已提交，工作人员将尽快答复。您可稍后在本窗口查看答复。");
      }, function (e) {
        submit.disabled = false;
        err.textContent = e.message || NET_MSG;
        var map = { invalid_uscc: uscc, invalid_phone: contact, invalid_email: contact, invalid_contact: contact };
        if (map[e.code]) {
          invalid(map[e.code], true);
          map[e.code].input.focus();
        } else if (e.code === "consent_required") {
          consent.focus();
        }
      });
    });
    return formEl;
  }

  // ------------------------------------------------------------------ staff answers (handed-off questions)

  var entryNodes = new Map(); // history entry -> its bot message node

  function pollStaffAnswers() {
    history.forEach(function (entry) {
      if (entry.role !== "bot" || !entry.handoff || entry.staff_answer || entry.handoff_gone) {
        return;
      }
      var token = entry.handoff_token || entry.token;
      if (!token || typeof token !== "string") {
        return;
      }
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
  function maybePoll() {
    var now = Date.now();
    if (now - lastPoll < 60000) {
      return;
    }
    lastPoll = now;
    pollStaffAnswers();
  }

  // ------------------------------------------------------------------ suggestions

  function showSuggestions() {
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
          ask(q);
        });
        chips.appendChild(chip);
      });
      box.appendChild(chips);
      log.appendChild(box);
    }, function () {
      /* suggestions are optional */
    });
  }

  function removeSuggestions() {
    if (suggestionsEl) {
      suggestionsEl.remove();
      suggestionsEl = null;
    }
  }

  // ------------------------------------------------------------------ asking

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

  function ask(question) {
    var q = str(question).trim();
    if (!q || busy) {
      return;
    }
    if (q.length > MAX_CHARS) {
      q = q.slice(0, MAX_CHARS);
    }
    removeSuggestions();
    var userEntry = { role: "user", text: q, ts: Date.now() };
    history.push(userEntry);
    saveHistory();
    appendMessage(userMessage(q, userEntry.ts));
    scrollToBottom();
    setBusy(true);
    api("POST", "/ask", { question: q, session: SESSION, channel: CHANNEL }).then(function (res) {
      var entry = {
        role: "bot",
        text: summaryText(res),
        answer: res,
        question: q,
        question_id: typeof res.question_id === "number" || typeof res.question_id === "string" ? res.question_id : null,
        token: typeof res.token === "string" ? res.token : null,
        handoff: res.decision === "abstain",
        ts: Date.now()
      };
      history.push(entry);
      saveHistory();
      var node = renderBot(entry);
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
    if (!q || busy) {
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
      history = [];
      storeRemove(HISTORY_KEY);
      entryNodes = new Map();
      renderAll();
      input.focus();
    });
  }

  // ------------------------------------------------------------------ embedding (messages from / to widget.js)

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

  // ------------------------------------------------------------------ initial render

  var SESSION = sessionId();

  function renderAll() {
    while (log.firstChild) {
      log.removeChild(log.firstChild);
    }
    suggestionsEl = null;
    log.appendChild(simpleBotMessage(GREETING, "msg-greeting"));
    history.forEach(function (entry) {
      if (entry.role === "user") {
        log.appendChild(userMessage(str(entry.text), entry.ts));
      } else if (entry.role === "bot") {
        var node = renderBot(entry);
        entryNodes.set(entry, node);
        log.appendChild(node);
        if (entry.staff_answer && entry.staff_answer.text) {
          log.appendChild(staffMessage(entry.staff_answer));
        }
      }
    });
    if (!history.length) {
      showSuggestions();
    }
    scrollToBottom();
  }

  renderAll();
  updateCounter();
  maybePoll();
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
})();

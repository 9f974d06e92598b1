/*
 * 环保咨询助手 — chat client: rendering of messages — the user's questions, simple bot messages, staff answers, and
 * bot answers (the earlier question it took into account, notice, 您是不是想问, curated answer, citation cards with
 * status badges, related questions, footer, actions).
 * All text goes in as text; the curated answer's markup goes through the allowlist (sanitize.js).
 */

import { el, formatTime, str } from "./dom.js";
import { renderActions } from "./feedback.js";
import { appendHighlighted } from "./highlight.js";
import { isLimit, limitRowsTable, limitTable } from "./limits.js";
import { safeHref, sanitizeInto } from "./sanitize.js";

export function userMessage(text, ts) {
  var time = formatTime(ts);
  return el("div", { className: "msg msg-user", "data-testid": "user-message" }, [
    el("div", { className: "bubble" }, [
      el("span", { className: "visually-hidden", text: "我：" }),
      el("p", { className: "msg-text", text: text }),
      time ? el("span", { className: "msg-meta", text: time }) : null
    ])
  ]);
}

export function simpleBotMessage(text, extraClass) {
  return el("div", { className: "msg msg-bot msg-simple" + (extraClass ? " " + extraClass : ""), "data-testid": "bot-message" }, [
    el("div", { className: "bubble" }, [
      el("span", { className: "visually-hidden", text: "助手：" }),
      el("p", { className: "msg-text", text: text })
    ])
  ]);
}

export function staffMessage(staff) {
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

function isReply(c) {
  return c.section === "reply" || c.kind === "官方答复";
}

function citationLink(url) {
  url = safeHref(url);
  return url ? el("a", {
    className: "citation-link",
    href: url,
    target: "_blank",
    rel: "noopener",
    "data-testid": "citation-link",
    text: "查看原文"
  }) : null;
}

// A limit-table row ({caption, unit, cells: [[column, value]]}) as a two-column table under its caption.
// One card per document: its passages (`parts`: 第十四条, 5.2.1, 表1 …), each with its snippet and its own link when
// there are several. Answers stored before grouping have no `parts`: the card is its one passage.
function renderCitation(c) {
  var status = str(c.status);
  var label = str(c.label) || (c.title ? "《" + str(c.title) + "》" : str(c.id));
  if (isReply(c) && !c.section) { // a reply kept in the history from before: named by its topic, not its record id
    label = "部长信箱答复：" + str(c.title).replace(/^部长信箱[·・:：]\s*/, "")
      .replace(/\s*[（(][A-Za-z][A-Za-z0-9_]*-\d+[）)]\s*$/, "");
  }
  var repealed = /废止/.test(status);
  var parts = (Array.isArray(c.parts) ? c.parts : []).filter(function (p) {
    return p && typeof p === "object";
  });
  if (!parts.length) {
    parts = [c];
  }
  var details = el("details", {
    className: "citation" + (repealed ? " is-repealed" : ""),
    "data-testid": "citation-card",
    "data-citation-id": str(c.id),
    "data-section": isReply(c) ? "reply" : "regulation"
  });
  // a ministry reply is an answer, not a rule: no 现行有效 badge, which would read as "this reply is in force"
  var summary = el("summary", null, [el("span", { className: "citation-label", text: label }),
    isReply(c) ? null : statusBadge(status)]);
  var revised = c.revised && typeof c.revised === "object" ? c.revised : null;
  if (revised) { // 政策速递 recorded a change of this article: the card shows the current text and says so
    summary.appendChild(el("span", { className: "badge badge-warn citation-revised", "data-testid": "citation-revised",
      text: "本条已" + (str(revised.kind) === "替代" ? "被新法替代" : "修订") + (revised.label ? "（" + str(revised.label) + "）" : "") }));
  }
  if (c.answer_sentence) { // the sentence that answers the question, shown first; the article stays collapsed
    summary.appendChild(el("strong", { className: "citation-answer", "data-testid": "citation-answer",
      text: str(c.answer_sentence) }));
  }
  details.appendChild(summary);
  var bodyEl = el("div", { className: "citation-body" });
  var byCaption = {}; // limit rows of the same table, shown together where the first of them is
  parts.forEach(function (p) {
    if (isLimit(p.limit)) {
      (byCaption[str(p.limit.caption)] = byCaption[str(p.limit.caption)] || []).push(p.limit);
    }
  });
  parts.forEach(function (p) {
    var group = isLimit(p.limit) ? byCaption[str(p.limit.caption)] : null;
    if (group && group.length > 1) {
      if (group[0] === p.limit) {
        bodyEl.appendChild(limitRowsTable(group));
        var toTable = citationLink(p.url);
        if (toTable) {
          bodyEl.appendChild(el("p", { className: "citation-part" }, [toTable]));
        }
      }
      return;
    }
    if (parts.length > 1) {
      bodyEl.appendChild(el("p", { className: "citation-part", "data-testid": "citation-part" }, [
        el("span", { className: "citation-part-name", text: str(p.part) || "相关段落" }), citationLink(p.url)
      ]));
    }
    var limit = limitTable(p.limit);
    if (limit) { // a limit-table row: its columns and values as a small table, not a cut line of numbers
      bodyEl.appendChild(limit);
      return;
    }
    var snippet = el("p", { className: "citation-snippet" });
    appendHighlighted(snippet, str(p.snippet), p.highlights);
    bodyEl.appendChild(snippet);
  });
  if (c.ocr) { // a scanned standard read by OCR: a digit may be misread
    bodyEl.appendChild(el("p", { className: "citation-ocr", "data-testid": "citation-ocr",
      text: "本文由扫描件识别，数字可能有误，请以正式文本为准。" }));
  }
  var foot = el("div");
  if (c.kind) {
    foot.appendChild(el("span", { className: "citation-kind", text: str(c.kind) + (c.dates ? "（" + str(c.dates) + "）" : "") }));
  }
  var link = parts.length > 1 ? null : citationLink(c.url);
  if (link) {
    foot.appendChild(link);
  }
  var changeHref = revised ? safeHref(revised.url) : null;
  if (changeHref) {
    foot.appendChild(el("a", { className: "citation-link", href: changeHref, target: "_blank", rel: "noopener",
      "data-testid": "citation-change-link", text: "查看修改内容" }));
  }
  if (foot.childNodes.length) {
    bodyEl.appendChild(foot);
  }
  details.appendChild(bodyEl);
  return details;
}

function citationGroup(title, cards, testid) {
  var box = el("div", { className: "citations", "data-testid": testid }, [el("p", { className: "section-title", text: title })]);
  cards.forEach(function (c) {
    box.appendChild(renderCitation(c));
  });
  return box;
}

// 依据 (a curated answer's own, staff-checked citations) or the retrieved articles; ministry replies apart; and,
// under a curated answer, what retrieval found besides: collapsed, never as its 依据.
function appendCitations(bubble, a, cites) {
  var others = Array.isArray(a.related_articles) ? a.related_articles.filter(function (c) {
    return c && typeof c === "object";
  }) : [];
  var own = a.curated && !Array.isArray(a.related_articles) && Array.isArray(a.curated.citations) ?
    a.curated.citations : null;
  if (own) { // an answer kept in the history from before related_articles: its appended cards move apart
    others = cites.filter(function (c) {
      return own.indexOf(c.id) < 0;
    });
    cites = cites.filter(function (c) {
      return own.indexOf(c.id) >= 0;
    });
  }
  var regs = cites.filter(function (c) {
    return !isReply(c);
  });
  var replies = cites.filter(isReply);
  if (regs.length) {
    bubble.appendChild(citationGroup(a.curated ? "依据" : "相关法规条文", regs, "citations-basis"));
  }
  if (replies.length) {
    bubble.appendChild(citationGroup("生态环境部答复（供参考）", replies, "citations-replies"));
  }
  if (others.length) {
    var more = el("details", { className: "related-articles", "data-testid": "related-articles" }, [
      el("summary", { className: "section-title", text: "其他可能相关的条文（" + others.length + "）" }),
      el("p", { className: "related-articles-note", text: "系统检索所得，不是上述答复的依据，未经工作人员核对，仅供参考。" })
    ]);
    others.forEach(function (c) {
      more.appendChild(renderCitation(c));
    });
    bubble.appendChild(more);
  }
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

function renderRelated(related, onAsk) {
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
      onAsk(r.question);
    });
    chips.appendChild(chip);
  });
  wrap.appendChild(chips);
  return wrap;
}

// ------------------------------------------------------------------ conversation context and "did you mean"

var CONTEXT_MAX = 40;

function shorten(text, max) {
  var chars = Array.from(text.replace(/\s+/g, " ").trim());  // by code point: never half a character
  return chars.length > max ? chars.slice(0, max).join("") + "…" : chars.join("");
}

/** meta.context = {used: true, turn: "<the earlier question>", turns: [...], shown: [...]}: the answer took the earlier
 * question(s) into account. */
/** "单独提问" under a context line: the conversation was read wrongly ("船厂的X光探伤机要办什么证" is a new question),
 * one tap asks the same words on their own. */
function renderAskAlone(entry, onAsk) {
  var q = entry && typeof entry.question === "string" ? entry.question.trim() : "";
  if (!q || typeof onAsk !== "function") {
    return null;
  }
  var alone = el("button", { type: "button", className: "context-alone", "data-testid": "ask-alone",
    text: "不是接着问？单独提问", title: "不结合前面的消息，单独回答这个问题" });
  alone.addEventListener("click", function () { onAsk(q, { standalone: true }); });
  return alone;
}

function renderContext(meta) {
  var ctx = meta && typeof meta === "object" ? meta.context : null;
  if (!ctx || typeof ctx !== "object" || ctx.used !== true || typeof ctx.turn !== "string" || !ctx.turn.trim()) {
    return null;
  }
  // a case told in several messages: every earlier message the answer was searched with, oldest first
  var turns = Array.isArray(ctx.turns) ? ctx.turns.filter(function (t) {
    return typeof t === "string" && t.trim();
  }) : [];
  // shown[i]: how message i is named — a long letter by its question sentences, not its greeting
  var shown = Array.isArray(ctx.shown) && ctx.shown.length === turns.length &&
    ctx.shown.every(function (t) { return typeof t === "string" && t.trim(); }) ? ctx.shown : turns;
  if (turns.length > 1) {
    var per = Math.max(12, Math.floor(CONTEXT_MAX / turns.length));
    return el("p", { className: "context-note", "data-testid": "answer-context", title: turns.join("\n"),
      text: "结合您前面的消息：" + shown.map(function (t) { return shorten(t, per); }).join(" / ") });
  }
  return el("p", { className: "context-note", "data-testid": "answer-context", title: ctx.turn,
    text: "结合您上一个问题：" + shorten(turns.length === 1 ? shown[0] : ctx.turn, CONTEXT_MAX) });
}

/** suggestion = {id, question}: a curated question close to an unanswered one, asked again with one tap. */
function renderSuggestion(entry, onAsk) {
  var sug = entry.answer && entry.answer.suggestion;
  if (!sug || typeof sug !== "object" || typeof sug.question !== "string" || !sug.question.trim()) {
    return null;
  }
  var q = sug.question.trim();
  var btn = el("button", { type: "button", className: "did-you-mean", "data-testid": "did-you-mean",
    "data-suggestion-id": str(sug.id) || null }, [
    el("span", { className: "did-you-mean-label", text: "您是不是想问：" }),
    el("span", { className: "did-you-mean-q", text: q })
  ]);
  btn.addEventListener("click", function () {
    var extra = entry.question_id !== undefined && entry.question_id !== null ? { suggestion_of: entry.question_id } : {};
    onAsk(q, extra);
  });
  return btn;
}

export function renderBot(entry, onAsk) {
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

  var context = renderContext(a.meta);
  if (context) {
    bubble.appendChild(context);
    var alone = renderAskAlone(entry, onAsk);
    if (alone) {
      bubble.appendChild(alone);
    }
  }
  if (a.notice) {
    bubble.appendChild(el("p", {
      className: "notice" + (decision === "caution" ? " notice-caution" : ""),
      "data-testid": "answer-notice",
      text: str(a.notice)
    }));
  }
  var suggestion = renderSuggestion(entry, onAsk);
  if (suggestion) {
    bubble.appendChild(suggestion);
  }
  if (a.curated && typeof a.curated === "object") {
    bubble.appendChild(renderCurated(a.curated));
  }
  var cites = Array.isArray(a.citations) ? a.citations.filter(function (c) {
    return c && typeof c === "object";
  }) : [];
  appendCitations(bubble, a, cites);
  if (!a.notice && !a.curated && !cites.length && !suggestion) {
    bubble.appendChild(el("p", { className: "msg-text", text: entry.text || "暂未找到相关内容。" }));
  }
  var rel = Array.isArray(a.related) ? renderRelated(a.related, onAsk) : null;
  if (rel) {
    bubble.appendChild(rel);
  }
  if (a.footer) {
    bubble.appendChild(el("p", { className: "footer-note", text: str(a.footer) }));
  }
  var courtesy = a.meta && typeof a.meta === "object" && a.meta.courtesy === true;  // "好的，谢谢" → "不客气"
  if (!courtesy && entry.question_id !== undefined && entry.question_id !== null && entry.token) {
    bubble.appendChild(renderActions(entry));
  }
  return msg;
}

/*
 * 环保咨询助手 — chat client: 政策速递. "订阅 危废" / "退订 危废" / "退订" / "订阅" typed in the composer manage this
 * conversation's topic subscriptions (they are commands, not questions: nothing is asked or stored as a question);
 * when the chat opens, notices sent to this conversation (a regulation it was answered from changed, or a subscribed
 * topic did) are shown once, each with a link to what changed.
 */

import { api, NET_MSG } from "./api.js";
import { el, str } from "./dom.js";
import { simpleBotMessage, userMessage } from "./render.js";
import { safeHref } from "./sanitize.js";
import { markNoticesSeen, seenNotices } from "./store.js";
import { appendMessage, scrollToBottom } from "./view.js";

var COMMAND = /^(订阅|退订)(?:[\s:：]+([\s\S]{1,100}))?$/;

/** True when ``text`` is a subscription command rather than a question. */
export function isSubscriptionCommand(text) {
  return COMMAND.test(str(text).trim());
}

function reply(text, extraClass) {
  appendMessage(simpleBotMessage(text, extraClass));
  scrollToBottom();
}

/** Runs 订阅 / 退订 for ``session`` and answers in the log. */
export function runSubscriptionCommand(text, session) {
  var m = COMMAND.exec(str(text).trim());
  if (!m) {
    return;
  }
  appendMessage(userMessage(str(text).trim(), Date.now()));
  var verb = m[1];
  var words = str(m[2]).trim();
  var done = function (res) {
    var have = Array.isArray(res.subscribed) ? res.subscribed.map(str) : [];
    if (verb === "订阅" && !words) {
      var all = Array.isArray(res.topics) ? res.topics.map(str) : [];
      reply("可订阅的主题：" + all.join("、") + "。输入“订阅 危废”等即可订阅，相关法规、标准有修订或废止时，打开本页面即可看到通知。" +
        (have.length ? "您已订阅：" + have.join("、") + "。" : ""));
    } else if (verb === "订阅") {
      reply("已订阅：" + (Array.isArray(res.added) ? res.added.map(str).join("、") : words) + "。当前订阅：" + have.join("、") +
        "。输入“退订”可取消。");
    } else {
      reply(have.length ? "已退订。仍订阅：" + have.join("、") + "。" : "已退订，您将不再收到政策速递通知。");
    }
  };
  var fail = function (err) {
    reply(str(err && err.message) || NET_MSG, "msg-error");
  };
  if (verb === "订阅" && !words) {
    api("GET", "/subscriptions?session=" + encodeURIComponent(session)).then(done, fail);
  } else if (verb === "订阅") {
    api("POST", "/subscriptions", { session: session, topics: words }).then(done, fail);
  } else {
    api("POST", "/subscriptions/cancel", { session: session, topics: words }).then(done, fail);
  }
}

function noticeMessage(n) {
  var href = safeHref(n.url);
  return el("div", { className: "msg msg-bot msg-simple msg-notice", "data-testid": "policy-notice" }, [
    el("div", { className: "bubble" }, [
      el("span", { className: "visually-hidden", text: "助手：" }),
      el("p", { className: "msg-text", text: str(n.text).replace(/修改内容及解读：\S+$/, "") }),
      href ? el("a", { href: href, target: "_blank", rel: "noopener", text: "查看修改内容及解读" }) : null
    ])
  ]);
}

/** Shows the notices sent to this conversation that this browser has not shown yet. */
export function showNotices(session) {
  api("GET", "/notices?session=" + encodeURIComponent(session)).then(function (res) {
    var seen = seenNotices();
    var fresh = (Array.isArray(res.notices) ? res.notices : []).filter(function (n) {
      return n && typeof n.id === "number" && seen.indexOf(n.id) < 0;
    }).reverse();
    fresh.forEach(function (n) {
      appendMessage(noticeMessage(n));
    });
    if (fresh.length) {
      markNoticesSeen(fresh.map(function (n) { return n.id; }));
      scrollToBottom();
    }
  }, function () {
    /* notices are a courtesy: the chat works without them */
  });
}

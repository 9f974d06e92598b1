/*
 * 环保咨询助手 — chat client: the actions under an answer — feedback (有帮助 / 没帮助 with an optional reason) and
 * the button that opens the handoff form (转人工留言, handoff.js).
 */

import { api, NET_MSG } from "./api.js";
import { el, nextId } from "./dom.js";
import { buildHandoffForm } from "./handoff.js";
import { saveHistory } from "./store.js";

export function renderActions(entry) {
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

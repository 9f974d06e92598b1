/*
 * 环保咨询助手 — chat client: the handoff form (转人工留言): optional contact details checked with the server's rules
 * (contact.js) before anything is sent, consent, POST /handoff, and the server's refusal shown on the right field.
 */

import { api, NET_MSG } from "./api.js";
import { emailValid, loadContactRules, phoneValid, usccValid } from "./contact.js";
import { el, nextId } from "./dom.js";
import { saveHistory } from "./store.js";

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

export function buildHandoffForm(entry, onDone, onCancel) {
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

/*
 * 环保咨询助手 — chat client: the contact rules of the handoff form.
 *
 * The contact rules come from the server (GET /contact-rules: the patterns and the USCC check the server itself
 * applies), so the form refuses exactly what the server refuses. Until they arrive (or if they cannot be fetched)
 * the form checks nothing itself: the server still validates, and its error is shown on the right field.
 */

import { api } from "./api.js";

var contactRules = null;
var contactRulesAsked = false;

export function loadContactRules() {
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

export function usccValid(code) {
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

export function phoneValid(phone) {
  var R = contactRules;
  return !R || R.mobile.test(phone) || R.landline.test(phone);
}

export function emailValid(email) {
  var R = contactRules;
  return !R || (R.email.test(email) && email.length <= R.emailMax);
}

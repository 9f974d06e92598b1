/*
 * 环保咨询助手 — chat client: small DOM helpers. No innerHTML anywhere: every server or user string is inserted with
 * textContent / setAttribute (the only markup ever inserted is curated.answer_html, through sanitize.js).
 */

export function el(tag, opts, children) {
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

export function str(v) {
  return typeof v === "string" ? v : (v === null || v === undefined ? "" : String(v));
}

var uid = 0;
export function nextId(prefix) {
  uid += 1;
  return prefix + "-" + uid;
}

/** China Standard Time (UTC+8, no daylight saving): the bureau's clock, whatever the browser's time zone is. */
var CHINA_OFFSET_MS = 8 * 3600 * 1000;

/** A timestamp (ms) or an ISO string as a Date; an ISO date-time without an offset is UTC (as the server stores). */
function toDate(ts) {
  if (typeof ts === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(ts.trim())) {
    ts = ts.trim() + "Z";
  }
  return new Date(ts);
}

/** "HH:MM" today, else "M月D日 HH:MM" — in China time. */
export function formatTime(ts) {
  if (!ts) {
    return "";
  }
  var d = toDate(ts);
  if (isNaN(d.getTime())) {
    return "";
  }
  var pad = function (n) {
    return (n < 10 ? "0" : "") + n;
  };
  // the UTC fields of the instant shifted by 8 hours are the wall-clock fields in Beijing
  var cn = new Date(d.getTime() + CHINA_OFFSET_MS);
  var today = new Date(Date.now() + CHINA_OFFSET_MS);
  var hm = pad(cn.getUTCHours()) + ":" + pad(cn.getUTCMinutes());
  if (cn.getUTCFullYear() === today.getUTCFullYear() && cn.getUTCMonth() === today.getUTCMonth() &&
      cn.getUTCDate() === today.getUTCDate()) {
    return hm;
  }
  return (cn.getUTCMonth() + 1) + "月" + cn.getUTCDate() + "日 " + hm;
}

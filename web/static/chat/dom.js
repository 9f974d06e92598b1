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

export function formatTime(ts) {
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

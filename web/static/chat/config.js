/*
 * 环保咨询助手 — chat client: page configuration (the data-* attributes of <body> set by chat.html) and the brand
 * colour.
 */

var body = document.body;
var DEFAULT_GREETING = "您好！我是舟山市生态环境局环保咨询助手，可以咨询环评、排污许可、危废、环保税等问题。";
var COLOR_RE = /^#[0-9a-fA-F]{6}$/;
export var MAX_CHARS = 2000;

function apiBase() {
  var a = (body.getAttribute("data-api") || "/api/v1").trim();
  // Same-origin API only: a path starting with a single "/".
  if (!/^\/(?![\/\\])/.test(a)) {
    a = "/api/v1";
  }
  return a.replace(/\/+$/, "");
}

export var API = apiBase();
export var GREETING = (body.getAttribute("data-greeting") || "").trim() || DEFAULT_GREETING;
export var EMBEDDED = body.getAttribute("data-embedded") === "true";
export var CHANNEL = EMBEDDED ? "widget" : "chat";

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
// Applied when the module is first evaluated (the first module the entry imports), as the old script did first.
applyColor(body.getAttribute("data-color"));

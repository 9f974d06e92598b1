/*
 * 环保咨询助手 — chat client: the client-side allowlist for curated.answer_html (the only markup ever inserted) and
 * the URL check for links (curated links and citation links).
 */

import { str } from "./dom.js";

var SAFE_URL_RE = /^(https?:\/\/|\/(?![\/\\]))/i;

var ALLOWED_TAGS = { P: 1, BR: 1, B: 1, STRONG: 1, EM: 1, UL: 1, OL: 1, LI: 1, A: 1 };
// Elements whose content is dropped entirely (not unwrapped).
var DROP_TAGS = {
  SCRIPT: 1, STYLE: 1, TEMPLATE: 1, IFRAME: 1, FRAME: 1, FRAMESET: 1, OBJECT: 1, EMBED: 1, NOSCRIPT: 1,
  TEXTAREA: 1, TITLE: 1, HEAD: 1, SVG: 1, MATH: 1, SELECT: 1, OPTION: 1, BUTTON: 1, INPUT: 1, FORM: 1,
  META: 1, LINK: 1, BASE: 1, IMG: 1, VIDEO: 1, AUDIO: 1, SOURCE: 1, CANVAS: 1, XMP: 1, PLAINTEXT: 1, NOEMBED: 1,
  NOFRAMES: 1, APPLET: 1
};

export function safeHref(href) {
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

export function sanitizeInto(target, html) {
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

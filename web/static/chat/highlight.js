/*
 * 环保咨询助手 — chat client: highlighting of the server's terms in citation snippets (text split into text nodes and
 * <mark> elements, no HTML).
 */

import { el, str } from "./dom.js";

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
export function appendHighlighted(parent, text, terms) {
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

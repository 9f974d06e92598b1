/*
 * 环保咨询助手 — chat client: a cited limit-table row as a small table (column | value), several rows of one table
 * as one table with the standard's header. All text goes in as text.
 */

import { el, str } from "./dom.js";

export function limitTable(limit) {
  if (!limit || typeof limit !== "object" || !Array.isArray(limit.cells) || !limit.cells.length) {
    return null;
  }
  var caption = str(limit.caption) + (limit.unit ? "（单位：" + str(limit.unit) + "）" : "");
  var body = el("tbody");
  limit.cells.forEach(function (cell) {
    if (!Array.isArray(cell)) {
      return;
    }
    body.appendChild(el("tr", null, [el("th", { scope: "row", text: str(cell[0]) || "—" }),
      el("td", { text: str(cell[1]) })]));
  });
  return el("table", { className: "citation-limit", "data-testid": "citation-limit" }, [
    el("caption", { text: caption }), body]);
}

// Several rows of one limit table on a card: one table, a column per header, a row per cited row (the values
// side by side, as in the standard). A column named "最高允许排放速率,kg/h·二级" is the standard's two-level header:
// the group over its columns (colspan), the last part over the column; a column without a group spans both rows.
export function limitRowsTable(limits) {
  var cols = [];
  limits.forEach(function (l) {
    l.cells.forEach(function (cell) {
      if (Array.isArray(cell) && cols.indexOf(str(cell[0])) < 0) {
        cols.push(str(cell[0]));
      }
    });
  });
  var body = el("tbody", null, limits.map(function (l) {
    var byCol = {};
    l.cells.forEach(function (cell) {
      if (Array.isArray(cell)) {
        byCol[str(cell[0])] = str(cell[1]);
      }
    });
    return el("tr", null, cols.map(function (c) { return el("td", { text: byCol[c] || "—" }); }));
  }));
  var first = limits[0];
  var caption = str(first.caption) + (first.unit ? "（单位：" + str(first.unit) + "）" : "");
  return el("div", { className: "limit-wrap" }, [el("table", { className: "citation-limit is-rows",
    "data-testid": "citation-limit-rows" }, [el("caption", { text: caption }), el("thead", null, headerRows(cols)), body])]);
}

function headerRows(cols) {
  var split = cols.map(function (c) {
    var i = c.lastIndexOf("·");
    return i > 0 ? { group: c.slice(0, i), name: c.slice(i + 1) } : { group: "", name: c };
  });
  if (!split.some(function (s) { return s.group; })) {
    return [el("tr", null, cols.map(function (c) { return el("th", { scope: "col", text: c || "—" }); }))];
  }
  var top = el("tr"), bottom = el("tr");
  split.forEach(function (s, i) {
    if (!s.group) {
      top.appendChild(el("th", { scope: "col", rowSpan: 2, text: s.name || "—" }));
    } else if (i === 0 || split[i - 1].group !== s.group) {
      var span = 1;
      while (i + span < split.length && split[i + span].group === s.group) { span++; }
      top.appendChild(el("th", { scope: "colgroup", colSpan: span, text: s.group }));
    }
    if (s.group) {
      bottom.appendChild(el("th", { scope: "col", text: s.name || "—" }));
    }
  });
  return [top, bottom];
}

export function isLimit(l) {
  return !!l && typeof l === "object" && Array.isArray(l.cells) && l.cells.length > 0;
}

/* 环保咨询助手 工作台: small progressive enhancements (every form also works without JavaScript). */
(function () {
  "use strict";

  // Hit-test: search without leaving the page; the server renders the (escaped) result fragment.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-hittest")) return;
    var panel = document.querySelector(form.getAttribute("data-hittest"));
    var q = (form.elements.namedItem("q") || {}).value || "";
    if (!panel || !window.fetch) return;
    ev.preventDefault();
    panel.classList.add("is-loading");
    fetch(form.action + "?partial=1&q=" + encodeURIComponent(q.trim()), {
      credentials: "same-origin", headers: { "X-Requested-With": "XMLHttpRequest" }
    }).then(function (r) {
      if (!r.ok) {
        return r.json().then(function (d) { throw new Error(d.message || "检索失败"); },
                             function () { throw new Error("检索失败（" + r.status + "）"); });
      }
      return r.text();
    }).then(function (html) {
      panel.innerHTML = html; // server-rendered, autoescaped fragment of the same origin
    }).catch(function (err) {
      var p = document.createElement("p");
      p.className = "flash flash-error";
      p.textContent = err.message;
      panel.replaceChildren(p);
    }).finally(function () {
      panel.classList.remove("is-loading");
    });
  });

  // 采用建议: copy the suggested category and lead unit into the answer editor.
  document.addEventListener("click", function (ev) {
    var btn = ev.target instanceof Element ? ev.target.closest("[data-apply-suggestion]") : null;
    if (!btn) return;
    var cat = document.querySelector("[data-field-category]");
    var unit = document.querySelector("[data-field-lead-unit]");
    var c = btn.getAttribute("data-category") || "";
    var u = btn.getAttribute("data-lead-unit") || "";
    if (cat && c) cat.value = c;
    if (unit && u) {
      if (!Array.prototype.some.call(unit.options, function (o) { return o.value === u; })) {
        var opt = document.createElement("option");
        opt.value = u; opt.textContent = u;
        unit.appendChild(opt);
      }
      unit.value = u;
    }
  });

  // 引用: append the passage id to the citations box (once).
  document.addEventListener("click", function (ev) {
    var btn = ev.target instanceof Element ? ev.target.closest("[data-cite]") : null;
    if (!btn) return;
    var box = document.getElementById("citations");
    if (!box) return;
    var id = btn.getAttribute("data-cite");
    var lines = box.value.split(/\r?\n/).map(function (s) { return s.trim(); }).filter(Boolean);
    if (lines.indexOf(id) === -1) lines.push(id);
    box.value = lines.join("\n");
    btn.textContent = "已引用";
    btn.classList.add("is-done");
  });

  // 关闭原因 “已转其他部门” requires the department.
  document.addEventListener("change", function (ev) {
    var sel = ev.target;
    if (!(sel instanceof HTMLSelectElement) || !sel.hasAttribute("data-close-reason")) return;
    var dep = sel.form && sel.form.querySelector("[data-department]");
    if (dep) dep.required = sel.value === "referred";
  });
})();

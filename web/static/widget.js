/*
 * 环保咨询助手 — embeddable launcher (舟山市生态环境局).
 *
 * Usage on a partner page:
 *   <script src="https://HOST/widget.js" data-title="环保咨询助手" data-color="#0b7a53"
 *           data-greeting="您好！…" data-position="right" async></script>
 *
 * Adds a round launcher button that toggles a panel containing an <iframe> pointing to HOST/widget/frame.
 * Everything is namespaced with the "zsenv-" prefix; no host-page styles are touched and no HTML strings are built
 * from attribute values (DOM is created with createElement / textContent / setAttribute only).
 */
(function () {
  "use strict";

  if (window.ZSEnvWidget) {
    return; // already initialised on this page
  }

  var DEFAULTS = {
    title: "环保咨询助手",
    color: "#0b7a53",
    greeting: "您好！我是舟山市生态环境局环保咨询助手，可以咨询环评、排污许可、危废、环保税等问题。",
    position: "right"
  };
  var COLOR_RE = /^#[0-9a-fA-F]{6}$/;
  var MAX_TITLE = 30;
  var MAX_GREETING = 300;

  function findScript() {
    var cur = document.currentScript;
    if (cur && cur.src && /\/widget\.js(\?.*)?(#.*)?$/.test(cur.src)) {
      return cur;
    }
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      var src = scripts[i].src || "";
      if (/\/widget\.js(\?.*)?(#.*)?$/.test(src)) {
        return scripts[i];
      }
    }
    return cur || null;
  }

  function attr(el, name, fallback, maxLen) {
    var v = el ? el.getAttribute(name) : null;
    if (v === null || v === undefined) {
      return fallback;
    }
    v = String(v).trim();
    if (!v) {
      return fallback;
    }
    return maxLen ? v.slice(0, maxLen) : v;
  }

  var script = findScript();
  var host = "";
  try {
    host = new URL(script && script.src ? script.src : "", window.location.href).origin;
  } catch (e) {
    host = "";
  }
  if (!host || host === "null") {
    host = window.location.origin;
  }

  var cfg = {
    title: attr(script, "data-title", DEFAULTS.title, MAX_TITLE),
    color: attr(script, "data-color", DEFAULTS.color),
    greeting: attr(script, "data-greeting", DEFAULTS.greeting, MAX_GREETING),
    position: attr(script, "data-position", DEFAULTS.position)
  };
  if (!COLOR_RE.test(cfg.color)) {
    cfg.color = DEFAULTS.color;
  }
  cfg.position = cfg.position === "left" ? "left" : "right";

  var frameUrl = host + "/widget/frame?title=" + encodeURIComponent(cfg.title) +
    "&color=" + encodeURIComponent(cfg.color) +
    "&greeting=" + encodeURIComponent(cfg.greeting);

  var CSS = [
    ".zsenv-root, .zsenv-root * { box-sizing: border-box; }",
    ".zsenv-launcher { position: fixed; bottom: 20px; z-index: 2147483646; width: 56px; height: 56px;",
    "  margin: 0; padding: 0; border: 0; border-radius: 50%; background: var(--zsenv-brand, #0b7a53); color: #fff;",
    "  cursor: pointer; display: flex; align-items: center; justify-content: center;",
    "  box-shadow: 0 4px 14px rgba(0,0,0,.25); transition: transform .15s ease; -webkit-tap-highlight-color: transparent; }",
    ".zsenv-launcher:hover { transform: scale(1.06); }",
    ".zsenv-launcher:focus { outline: none; }",
    ".zsenv-launcher:focus-visible { outline: 3px solid #1a1a1a; outline-offset: 3px; box-shadow: 0 0 0 6px #fff, 0 4px 14px rgba(0,0,0,.25); }",
    ".zsenv-launcher svg { width: 28px; height: 28px; display: block; fill: currentColor; pointer-events: none; }",
    ".zsenv-pos-right { right: 20px; }",
    ".zsenv-pos-left { left: 20px; }",
    ".zsenv-panel { position: fixed; bottom: 88px; z-index: 2147483647; width: 380px; height: 600px;",
    "  max-width: calc(100vw - 40px); max-height: calc(100vh - 108px); background: #fff; border-radius: 12px;",
    "  box-shadow: 0 10px 40px rgba(0,0,0,.28); overflow: hidden; display: none; flex-direction: column; }",
    ".zsenv-panel.zsenv-open { display: flex; }",
    ".zsenv-bar { flex: 0 0 auto; display: flex; align-items: center; justify-content: space-between; gap: 8px;",
    "  height: 44px; padding: 0 6px 0 14px; background: var(--zsenv-brand, #0b7a53); color: #fff;",
    "  font: 600 15px/1.2 -apple-system, \"PingFang SC\", \"Microsoft YaHei\", \"Noto Sans CJK SC\", \"WenQuanYi Micro Hei\", sans-serif; }",
    ".zsenv-bar-title { overflow: hidden; white-space: nowrap; text-overflow: ellipsis; min-width: 0; }",
    ".zsenv-close { flex: 0 0 auto; width: 36px; height: 36px; margin: 0; padding: 0; border: 0; border-radius: 6px;",
    "  background: transparent; color: #fff; cursor: pointer; display: flex; align-items: center; justify-content: center; }",
    ".zsenv-close:hover { background: rgba(255,255,255,.18); }",
    ".zsenv-close:focus { outline: none; }",
    ".zsenv-close:focus-visible { outline: 3px solid #fff; outline-offset: -3px; }",
    ".zsenv-close svg { width: 20px; height: 20px; fill: currentColor; pointer-events: none; }",
    ".zsenv-frame { flex: 1 1 auto; display: block; width: 100%; height: 100%; border: 0; margin: 0; padding: 0; background: #fff; }",
    "@media (max-width: 480px) {",
    "  .zsenv-panel { inset: 0; top: 0; right: 0; bottom: 0; left: 0; width: 100%; height: 100%;",
    "    max-width: 100%; max-height: 100%; border-radius: 0; }",
    "  .zsenv-root.zsenv-is-open .zsenv-launcher { display: none; }",
    "}",
    "@media (prefers-reduced-motion: reduce) { .zsenv-launcher { transition: none; } }"
  ].join("\n");

  var SVG_NS = "http://www.w3.org/2000/svg";

  function icon(pathD) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var p = document.createElementNS(SVG_NS, "path");
    p.setAttribute("d", pathD);
    svg.appendChild(p);
    return svg;
  }

  var ICON_CHAT = "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z";
  var ICON_CLOSE = "M18.3 5.7a1 1 0 0 0-1.4 0L12 10.6 7.1 5.7a1 1 0 1 0-1.4 1.4l4.9 4.9-4.9 4.9a1 1 0 1 0 1.4 1.4l4.9-4.9 4.9 4.9a1 1 0 0 0 1.4-1.4L13.4 12l4.9-4.9a1 1 0 0 0 0-1.4z";

  var state = { open: false, root: null, launcher: null, panel: null, frame: null, closeBtn: null };

  function build() {
    if (state.root) {
      return;
    }
    var style = document.createElement("style");
    style.setAttribute("data-zsenv", "widget");
    style.textContent = CSS;
    (document.head || document.documentElement).appendChild(style);

    var root = document.createElement("div");
    root.className = "zsenv-root";
    root.style.setProperty("--zsenv-brand", cfg.color);

    var launcher = document.createElement("button");
    launcher.type = "button";
    launcher.className = "zsenv-launcher zsenv-pos-" + cfg.position;
    launcher.setAttribute("aria-label", "打开环保咨询助手");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "zsenv-panel");
    launcher.setAttribute("title", cfg.title);
    launcher.setAttribute("data-testid", "zsenv-launcher");
    launcher.appendChild(icon(ICON_CHAT));

    var panel = document.createElement("div");
    panel.id = "zsenv-panel";
    panel.className = "zsenv-panel zsenv-pos-" + cfg.position;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", cfg.title);

    var bar = document.createElement("div");
    bar.className = "zsenv-bar";
    var barTitle = document.createElement("span");
    barTitle.className = "zsenv-bar-title";
    barTitle.textContent = cfg.title;
    var closeBtn = document.createElement("button");
    closeBtn.type = "button";
    closeBtn.className = "zsenv-close";
    closeBtn.setAttribute("aria-label", "关闭");
    closeBtn.setAttribute("title", "关闭");
    closeBtn.setAttribute("data-testid", "zsenv-close");
    closeBtn.appendChild(icon(ICON_CLOSE));
    bar.appendChild(barTitle);
    bar.appendChild(closeBtn);
    panel.appendChild(bar);

    root.appendChild(panel);
    root.appendChild(launcher);
    (document.body || document.documentElement).appendChild(root);

    launcher.addEventListener("click", function () {
      if (state.open) {
        close();
      } else {
        open();
      }
    });
    closeBtn.addEventListener("click", function () {
      close();
    });
    document.addEventListener("keydown", function (ev) {
      if (state.open && (ev.key === "Escape" || ev.key === "Esc")) {
        close();
      }
    });
    // The frame posts {type: "zsenv-close"} when Esc is pressed inside it (focus is then inside the iframe).
    window.addEventListener("message", function (ev) {
      if (ev.origin !== host || !state.frame || ev.source !== state.frame.contentWindow) {
        return;
      }
      var d = ev.data;
      if (d && typeof d === "object" && d.type === "zsenv-close" && state.open) {
        close();
      }
    });

    state.root = root;
    state.launcher = launcher;
    state.panel = panel;
    state.closeBtn = closeBtn;
  }

  function ensureFrame() {
    if (state.frame) {
      return;
    }
    var frame = document.createElement("iframe");
    frame.className = "zsenv-frame";
    frame.setAttribute("src", frameUrl);
    frame.setAttribute("title", "环保咨询助手");
    frame.setAttribute("data-testid", "zsenv-frame");
    frame.setAttribute("loading", "eager");
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    state.panel.appendChild(frame);
    state.frame = frame;
  }

  function open() {
    build();
    ensureFrame();
    state.open = true;
    state.panel.classList.add("zsenv-open");
    state.root.classList.add("zsenv-is-open");
    state.launcher.setAttribute("aria-expanded", "true");
    try {
      state.frame.focus();
      if (state.frame.contentWindow) {
        state.frame.contentWindow.postMessage({ type: "zsenv-focus" }, host);
      }
    } catch (e) {
      /* ignore */
    }
  }

  function close() {
    if (!state.root) {
      return;
    }
    state.open = false;
    state.panel.classList.remove("zsenv-open");
    state.root.classList.remove("zsenv-is-open");
    state.launcher.setAttribute("aria-expanded", "false");
    state.launcher.focus();
  }

  function init() {
    build();
  }

  window.ZSEnvWidget = {
    version: "1",
    open: open,
    close: close,
    isOpen: function () {
      return state.open;
    }
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

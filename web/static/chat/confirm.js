/*
 * 环保咨询助手 — chat client: a confirmation dialog in Chinese (a modal <dialog>; the browser's own confirm() where
 * <dialog> is missing). Resolves to true only when the user chose the confirming button; Esc and 取消 keep things
 * as they are.
 */

import { el, nextId } from "./dom.js";

export function confirmDialog(title, message, okText) {
  if (typeof HTMLDialogElement !== "function") {
    return Promise.resolve(window.confirm(title + "\n" + message));
  }
  return new Promise(function (resolve) {
    var titleId = nextId("dlg-title");
    var textId = nextId("dlg-text");
    var cancel = el("button", { type: "button", className: "btn", "data-testid": "confirm-cancel", text: "取消" });
    var ok = el("button", { type: "button", className: "btn btn-danger", "data-testid": "confirm-ok", text: okText });
    var dlg = el("dialog", {
      className: "confirm", role: "alertdialog", "aria-modal": "true", "aria-labelledby": titleId,
      "aria-describedby": textId, "data-testid": "confirm-dialog"
    }, [
      el("p", { className: "confirm-title", id: titleId, text: title }),
      el("p", { className: "confirm-text", id: textId, text: message }),
      el("div", { className: "actions confirm-actions" }, [cancel, ok])
    ]);
    var answer = false;
    function close(value) {
      answer = value;
      dlg.close();
    }
    cancel.addEventListener("click", function () {
      close(false);
    });
    ok.addEventListener("click", function () {
      close(true);
    });
    dlg.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" || ev.key === "Esc") {
        ev.stopPropagation();  // Esc closes the dialog (as 取消), not the widget around the chat
      }
    });
    dlg.addEventListener("close", function () {
      dlg.remove();
      resolve(answer);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    cancel.focus();  // the safe choice is the default
  });
}

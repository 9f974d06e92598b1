/*
 * 环保咨询助手 — chat client: calls to the public API (same origin, JSON) and their errors. Every failure becomes an
 * ApiError whose message is shown to the user as is (the server's Chinese message, or one of ours).
 */

import { API } from "./config.js";

var REQUEST_TIMEOUT_MS = 30000;
export var NET_MSG = "网络异常，请稍后重试";

function ApiError(code, message, status) {
  this.code = code;
  this.message = message;
  this.status = status || 0;
}

export function api(method, path, payload) {
  var ctrl = typeof AbortController === "function" ? new AbortController() : null;
  var timer = ctrl ? setTimeout(function () {
    ctrl.abort();
  }, REQUEST_TIMEOUT_MS) : null;
  var init = {
    method: method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "Accept": "application/json" },
    cache: "no-store"
  };
  if (payload !== undefined) {
    init.body = JSON.stringify(payload);
  }
  if (ctrl) {
    init.signal = ctrl.signal;
  }
  return fetch(API + path, init).then(function (res) {
    return res.text().then(function (txt) {
      var data = null;
      try {
        data = txt ? JSON.parse(txt) : null;
      } catch (e) {
        data = null;
      }
      if (!res.ok) {
        var msg = data && typeof data.message === "string" && data.message ? data.message
          : "服务暂时不可用（" + res.status + "），请稍后重试";
        throw new ApiError(data && typeof data.error_code === "string" ? data.error_code : "http_" + res.status,
          msg, res.status);
      }
      if (!data || typeof data !== "object") {
        throw new ApiError("bad_response", "服务返回内容异常，请稍后重试", res.status);
      }
      return data;
    });
  }, function () {
    throw new ApiError("network", NET_MSG, 0);
  }).then(function (data) {
    if (timer) {
      clearTimeout(timer);
    }
    return data;
  }, function (err) {
    if (timer) {
      clearTimeout(timer);
    }
    if (err instanceof ApiError) {
      throw err;
    }
    throw new ApiError("network", NET_MSG, 0);
  });
}

"""WeChat Official Account (公众号) webhook: ``/wechat/<account>``.

* ``GET``: server verification (``signature``, ``timestamp``, ``nonce``, ``echostr``) → ``echostr``.
* ``POST``: a message or event, in 明文, 兼容 or 安全 mode (``encrypt_type=aes`` with ``msg_signature``) → the passive
  reply (encrypted when the message was), or ``success``.

Refusals carry no details: bad signature or timestamp outside the window 403, body over 64 KiB 413, anything that is
not a WeChat message 400. An unknown account is 404 with the service's JSON error body (``error_code``
``wechat_account_not_found`` and a Chinese message): whoever sets the server URL in the 公众号 console reads it. The workflow lives in :mod:`.service`; wechatpy is used only
through :mod:`.protocol`.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import Blueprint, Response, current_app, request

from .accounts import WechatAccount
from .protocol import MalformedMessage, SignatureError, parse, signature_ok
from .service import WechatChannel, channel_for

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__, url_prefix="/wechat")

MAX_BODY = 64 * 1024


@bp.record_once
def _setup(state: Any) -> None:
    """Create the app's channel at registration: a bad WeChat configuration fails at startup, not on the first
    message (:class:`~.accounts.ConfigError`)."""
    if state.app.extensions.get("assistant") is not None and "wechat" not in state.app.extensions:
        state.app.extensions["wechat"] = WechatChannel(state.app.extensions["assistant"])


def _plain(text: str, status: int) -> Response:
    return Response(text, status, mimetype="text/plain")


def _unknown_account() -> Response:
    """404 for an account name not configured, in the service's error format (a stable code, a Chinese message).
    The name is not echoed back."""
    body = json.dumps({"error_code": "wechat_account_not_found",
                       "message": "未找到该公众号接入配置。请核对公众号后台填写的服务器地址（URL），"
                                  "应为 /wechat/ 加上已配置的账号名，如 /wechat/default。"}, ensure_ascii=False)
    return Response(body, 404, mimetype="application/json")


def _timestamp_ok(ts: str) -> bool:
    if not ts.isdigit() or len(ts) > 12:
        return False
    window = int(current_app.extensions["assistant"].settings.wechat.timestamp_window)
    return abs(time.time() - int(ts)) <= window


def _read_body() -> bytes | None:
    """The request body, or None when it is larger than :data:`MAX_BODY`."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    data = request.stream.read(MAX_BODY + 1)
    return None if len(data) > MAX_BODY else data


@bp.route("/<account>", methods=["GET", "POST"])
def webhook(account: str) -> Response:
    channel = channel_for(current_app)
    acc: WechatAccount | None = channel.accounts.get(account)
    if acc is None:
        return _unknown_account()
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    if not _timestamp_ok(timestamp):
        return _plain("forbidden", 403)
    if not signature_ok(args.get("signature"), acc.token, timestamp, nonce):
        return _plain("forbidden", 403)
    if request.method == "GET":
        echostr = args.get("echostr", "")
        if not echostr:
            return _plain("bad request", 400)
        return _plain(echostr, 200)

    body = _read_body()
    if body is None:
        return _plain("payload too large", 413)
    encrypted = args.get("encrypt_type", "").lower() == "aes"
    crypto = acc.crypto
    try:
        if encrypted:
            if crypto is None:
                return _plain("bad request", 400)
            xml: bytes | str = crypto.decrypt(body, args.get("msg_signature"), timestamp, nonce)
        elif acc.mode == "safe":
            return _plain("forbidden", 403)  # 安全模式 accepts encrypted messages only
        else:
            xml = body
        msg = parse(xml)
    except SignatureError:
        return _plain("forbidden", 403)
    except MalformedMessage as exc:
        log.info("wechat %s: malformed message (%s)", account, exc)
        return _plain("bad request", 400)

    encrypt = None
    if encrypted and crypto is not None:
        def encrypt(x: str) -> str:
            return crypto.encrypt_reply(x, nonce or "wechat")

    reply = channel.respond(acc, msg, request.host_url, encrypt)
    mimetype = "text/plain" if reply == "success" else "application/xml"
    return Response(reply, 200, mimetype=mimetype)

"""The bureau's Official Accounts (one or several, from the environment or ``WECHAT_ACCOUNTS``), validated at start."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from ...config import Settings
from .protocol import (
    AccountCrypto,
    valid_aes_key,
)

log = logging.getLogger(__name__)


_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


# -- accounts --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WechatAccount:
    name: str
    token: str
    appid: str = ""
    aes_key: str = ""
    appsecret: str = ""
    #: plain (明文), compat (兼容: plaintext or encrypted), safe (安全: encrypted only)
    mode: str = "plain"

    @property
    def crypto(self) -> AccountCrypto | None:
        if not self.aes_key:
            return None
        return AccountCrypto(self.token, self.aes_key, self.appid)


class ConfigError(ValueError):
    pass


def _account(name: str, d: dict[str, Any]) -> WechatAccount:
    if not _ACCOUNT_NAME.match(name):
        raise ConfigError(f"WeChat account name {name!r}: use letters, digits, '-' or '_'")
    token = str(d.get("token") or "").strip()
    if not token:
        raise ConfigError(f"WeChat account {name!r}: token is required")
    aes = str(d.get("encoding_aes_key") or "").strip()
    appid = str(d.get("appid") or "").strip()
    if aes and not valid_aes_key(aes):
        raise ConfigError(f"WeChat account {name!r}: EncodingAESKey must be 43 base64 characters")
    if aes and not appid:
        raise ConfigError(f"WeChat account {name!r}: 安全/兼容模式 needs the AppID")
    mode = str(d.get("mode") or "").strip().lower() or ("compat" if aes else "plain")
    if mode not in ("plain", "compat", "safe"):
        raise ConfigError(f"WeChat account {name!r}: mode must be plain, compat or safe")
    if mode != "plain" and not aes:
        raise ConfigError(f"WeChat account {name!r}: mode {mode} needs an EncodingAESKey")
    return WechatAccount(name=name, token=token, appid=appid, aes_key=aes,
                         appsecret=str(d.get("appsecret") or "").strip(), mode=mode)


def load_accounts(settings: Settings) -> dict[str, WechatAccount]:
    """The configured accounts by name (raises :class:`ConfigError` on a bad configuration)."""
    out: dict[str, WechatAccount] = {}
    if settings.wechat.token:
        out["default"] = _account("default", {"token": settings.wechat.token, "appid": settings.wechat.appid,
                                              "encoding_aes_key": settings.wechat.encoding_aes_key,
                                              "appsecret": settings.wechat.appsecret, "mode": settings.wechat.mode})
    raw = (settings.wechat.accounts or "").strip()
    if raw:
        try:
            extra = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"WECHAT_ACCOUNTS is not valid JSON: {exc}") from None
        if not isinstance(extra, dict):
            raise ConfigError("WECHAT_ACCOUNTS must be a JSON object {name: {token, appid, …}}")
        for name, d in extra.items():
            if not isinstance(d, dict):
                raise ConfigError(f"WECHAT_ACCOUNTS[{name!r}] must be an object")
            out[name] = _account(name, d)
    return out
